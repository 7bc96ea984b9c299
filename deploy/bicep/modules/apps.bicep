// The Container Apps environment and the five services, one app each. Ports are the
// services' config defaults (lib/switchboard/config.py). Only the gateway is external.
param prefix string
param location string
param workspaceId string
param identityId string
param identityClientId string
param registryServer string
param imageTag string
param vaultUri string
param appConfigEndpoint string
param openAiEndpoint string
param openAiApiVersion string
param fastModel string
param slowModel string
param searchEndpoint string
param speechRegion string
param acsEndpoint string
param cosmosEndpoint string
param redisHost string
param telephony string
param callDrainSeconds int

resource appsEnvironment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${prefix}-env'
  location: location
  properties: {
    // Logs go to Azure Monitor through the diagnostic setting below: no shared key.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: appsEnvironment
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

// How browsers and carriers reach the gateway (report links, media WebSocket URLs).
var gatewayPublicUrl = 'https://${prefix}-gateway.${appsEnvironment.properties.defaultDomain}'

// Secrets every app reads, by Key Vault reference.
var commonSecrets = [
  {
    name: 'appinsights-connection-string'
    keyVaultUrl: '${vaultUri}secrets/appinsights-connection-string'
    identity: identityId
  }
  {
    name: 'internal-auth-token'
    keyVaultUrl: '${vaultUri}secrets/internal-auth-token'
    identity: identityId
  }
]

// Every app reaches the others by name inside the environment (internal ingress, port 80).
var commonEnv = [
  {
    name: 'SWITCHBOARD__SERVICES__DIALER'
    value: '${prefix}-dialer:80'
  }
  {
    name: 'SWITCHBOARD__SERVICES__SPEECH'
    value: '${prefix}-speech:80'
  }
  {
    name: 'SWITCHBOARD__SERVICES__BRAIN'
    value: '${prefix}-brain:80'
  }
  {
    name: 'SWITCHBOARD__SERVICES__STORE'
    value: '${prefix}-store:80'
  }
  {
    // Internal gRPC: every call carries the token, every service refuses one without it.
    name: 'SWITCHBOARD__INTERNAL_AUTH__MODE'
    value: 'token'
  }
  {
    name: 'SWITCHBOARD__INTERNAL_AUTH__TOKEN'
    secretRef: 'internal-auth-token'
  }
  {
    name: 'SWITCHBOARD__APP_CONFIGURATION__ENDPOINT'
    value: appConfigEndpoint
  }
  {
    name: 'SWITCHBOARD__LOGGING__FORMAT'
    value: 'json'
  }
  {
    // DefaultAzureCredential picks the user-assigned identity by its client id.
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    secretRef: 'appinsights-connection-string'
  }
  {
    // Read by the Redis and Cosmos DB store backends as they land (issue 10).
    name: 'AZURE_REDIS_HOST'
    value: redisHost
  }
  {
    name: 'AZURE_COSMOS_ENDPOINT'
    value: cosmosEndpoint
  }
]

module gateway 'app.bicep' = {
  name: 'app-gateway'
  params: {
    name: '${prefix}-gateway'
    location: location
    environmentId: appsEnvironment.id
    identityId: identityId
    registryServer: registryServer
    image: '${registryServer}/switchboard-gateway:${imageTag}'
    port: 8080
    external: true
    cpu: '0.5'
    memory: '1Gi'
    minReplicas: 2
    maxReplicas: 10
    scaleRules: [
      {
        name: 'http-requests'
        http: {
          metadata: {
            concurrentRequests: '50'
          }
        }
      }
    ]
    probes: [
      {
        type: 'Startup'
        httpGet: {
          path: '/health/liveness'
          port: 8080
        }
        periodSeconds: 2
        failureThreshold: 30
      }
      {
        type: 'Liveness'
        httpGet: {
          path: '/health/liveness'
          port: 8080
        }
        periodSeconds: 10
      }
      {
        type: 'Readiness'
        httpGet: {
          path: '/health/readiness'
          port: 8080
        }
        periodSeconds: 5
      }
    ]
    secrets: concat(commonSecrets, [
      {
        name: 'gateway-api-keys'
        keyVaultUrl: '${vaultUri}secrets/gateway-api-keys'
        identity: identityId
      }
    ])
    env: concat(commonEnv, [
      {
        name: 'SWITCHBOARD__GATEWAY__PUBLIC_URL'
        value: gatewayPublicUrl
      }
      {
        name: 'SWITCHBOARD__GATEWAY__API_KEYS'
        secretRef: 'gateway-api-keys'
      }
    ])
  }
}

module dialer 'app.bicep' = {
  name: 'app-dialer'
  params: {
    name: '${prefix}-dialer'
    location: location
    environmentId: appsEnvironment.id
    identityId: identityId
    registryServer: registryServer
    image: '${registryServer}/switchboard-dialer:${imageTag}'
    port: 50051
    external: false
    cpu: '1'
    memory: '2Gi'
    minReplicas: 2
    maxReplicas: 20
    // CPU for now; the dialer's live-calls metric (OpenTelemetry call.live) is the better signal.
    scaleRules: [
      {
        name: 'cpu'
        custom: {
          type: 'cpu'
          metadata: {
            type: 'Utilization'
            value: '60'
          }
        }
      }
    ]
    // Container Apps has no gRPC probe: TCP on the gRPC port (Kubernetes uses grpc.health.v1).
    probes: [
      {
        type: 'Startup'
        tcpSocket: {
          port: 50051
        }
        periodSeconds: 2
        failureThreshold: 30
      }
      {
        type: 'Liveness'
        tcpSocket: {
          port: 50051
        }
        periodSeconds: 10
      }
      {
        type: 'Readiness'
        tcpSocket: {
          port: 50051
        }
        periodSeconds: 5
      }
    ]
    // Live calls drain after SIGTERM before the replica is stopped; the 30 s on top cover
    // the goodbye to the calls still live at the drain time and the server's stop.
    terminationGracePeriodSeconds: callDrainSeconds + 30
    secrets: concat(commonSecrets, [
      {
        name: 'acs-key'
        keyVaultUrl: '${vaultUri}secrets/acs-key'
        identity: identityId
      }
    ])
    env: concat(commonEnv, [
      {
        name: 'SWITCHBOARD_LISTEN_ADDRESS'
        value: '0.0.0.0:50051'
      }
      {
        name: 'SWITCHBOARD__DIALER__TELEPHONY'
        value: telephony
      }
      {
        name: 'SWITCHBOARD__DIALER__DRAIN_TIMEOUT_SEC'
        value: string(callDrainSeconds)
      }
      {
        // Read by the ACS telephony provider as it lands (carrier issue).
        name: 'AZURE_COMMUNICATION_ENDPOINT'
        value: acsEndpoint
      }
      {
        name: 'AZURE_COMMUNICATION_KEY'
        secretRef: 'acs-key'
      }
    ])
  }
}

module speech 'app.bicep' = {
  name: 'app-speech'
  params: {
    name: '${prefix}-speech'
    location: location
    environmentId: appsEnvironment.id
    identityId: identityId
    registryServer: registryServer
    image: '${registryServer}/switchboard-speech:${imageTag}'
    port: 50052
    external: false
    cpu: '2'
    memory: '4Gi'
    minReplicas: 2
    maxReplicas: 30
    scaleRules: [
      {
        name: 'cpu'
        custom: {
          type: 'cpu'
          metadata: {
            type: 'Utilization'
            value: '60'
          }
        }
      }
    ]
    probes: [
      {
        type: 'Startup'
        tcpSocket: {
          port: 50052
        }
        periodSeconds: 5
        failureThreshold: 60
      }
      {
        type: 'Liveness'
        tcpSocket: {
          port: 50052
        }
        periodSeconds: 10
      }
      {
        type: 'Readiness'
        tcpSocket: {
          port: 50052
        }
        periodSeconds: 5
      }
    ]
    secrets: concat(commonSecrets, [
      {
        name: 'speech-key'
        keyVaultUrl: '${vaultUri}secrets/speech-key'
        identity: identityId
      }
    ])
    env: concat(commonEnv, [
      {
        name: 'SWITCHBOARD_LISTEN_ADDRESS'
        value: '0.0.0.0:50052'
      }
      {
        name: 'SWITCHBOARD__SPEECH__STT'
        value: 'azure'
      }
      {
        name: 'SWITCHBOARD__SPEECH__TTS'
        value: 'azure'
      }
      {
        name: 'AZURE_SPEECH_REGION'
        value: speechRegion
      }
      {
        name: 'AZURE_SPEECH_KEY'
        secretRef: 'speech-key'
      }
    ])
  }
}

module brain 'app.bicep' = {
  name: 'app-brain'
  params: {
    name: '${prefix}-brain'
    location: location
    environmentId: appsEnvironment.id
    identityId: identityId
    registryServer: registryServer
    image: '${registryServer}/switchboard-brain:${imageTag}'
    port: 50053
    external: false
    cpu: '1'
    memory: '2Gi'
    minReplicas: 2
    maxReplicas: 20
    scaleRules: [
      {
        name: 'cpu'
        custom: {
          type: 'cpu'
          metadata: {
            type: 'Utilization'
            value: '60'
          }
        }
      }
    ]
    probes: [
      {
        type: 'Startup'
        tcpSocket: {
          port: 50053
        }
        periodSeconds: 2
        failureThreshold: 30
      }
      {
        type: 'Liveness'
        tcpSocket: {
          port: 50053
        }
        periodSeconds: 10
      }
      {
        type: 'Readiness'
        tcpSocket: {
          port: 50053
        }
        periodSeconds: 5
      }
    ]
    secrets: concat(commonSecrets, [
      {
        name: 'search-query-key'
        keyVaultUrl: '${vaultUri}secrets/search-query-key'
        identity: identityId
      }
    ])
    env: concat(commonEnv, [
      {
        name: 'SWITCHBOARD_LISTEN_ADDRESS'
        value: '0.0.0.0:50053'
      }
      {
        name: 'SWITCHBOARD__BRAIN__POLICY'
        value: 'llm'
      }
      {
        name: 'SWITCHBOARD__BRAIN__LLM__ENDPOINT'
        value: openAiEndpoint
      }
      {
        name: 'SWITCHBOARD__BRAIN__LLM__API_VERSION'
        value: openAiApiVersion
      }
      {
        // Azure OpenAI with the managed identity's token: the account has no keys.
        name: 'SWITCHBOARD__BRAIN__LLM__AZURE_ENTRA_ID'
        value: 'true'
      }
      {
        name: 'SWITCHBOARD__BRAIN__LLM__FAST_MODEL'
        value: fastModel
      }
      {
        name: 'SWITCHBOARD__BRAIN__LLM__SLOW_MODEL'
        value: slowModel
      }
      {
        name: 'SWITCHBOARD__BRAIN__RAG__PROVIDER'
        value: 'azure'
      }
      {
        name: 'SWITCHBOARD__BRAIN__RAG__AZURE_ENDPOINT'
        value: searchEndpoint
      }
      {
        name: 'SWITCHBOARD__BRAIN__RAG__AZURE_INDEX'
        value: 'knowledge'
      }
      {
        name: 'SWITCHBOARD_AZURE_SEARCH_KEY'
        secretRef: 'search-query-key'
      }
    ])
  }
}

// One replica while the store is SQLite (one writer; the file lives on the replica's
// EmptyDir and is lost with it). Cosmos DB is provisioned for the Cosmos backend (issue 10).
module store 'app.bicep' = {
  name: 'app-store'
  params: {
    name: '${prefix}-store'
    location: location
    environmentId: appsEnvironment.id
    identityId: identityId
    registryServer: registryServer
    image: '${registryServer}/switchboard-store:${imageTag}'
    port: 50054
    external: false
    cpu: '1'
    memory: '2Gi'
    minReplicas: 1
    maxReplicas: 1
    scaleRules: [
      {
        name: 'cpu'
        custom: {
          type: 'cpu'
          metadata: {
            type: 'Utilization'
            value: '70'
          }
        }
      }
    ]
    probes: [
      {
        type: 'Startup'
        tcpSocket: {
          port: 50054
        }
        periodSeconds: 2
        failureThreshold: 30
      }
      {
        type: 'Liveness'
        tcpSocket: {
          port: 50054
        }
        periodSeconds: 10
      }
      {
        type: 'Readiness'
        tcpSocket: {
          port: 50054
        }
        periodSeconds: 5
      }
    ]
    secrets: commonSecrets
    volumes: [
      {
        name: 'data'
        storageType: 'EmptyDir'
      }
    ]
    volumeMounts: [
      {
        volumeName: 'data'
        mountPath: '/data'
      }
    ]
    env: concat(commonEnv, [
      {
        name: 'SWITCHBOARD_LISTEN_ADDRESS'
        value: '0.0.0.0:50054'
      }
    ])
  }
}

output gatewayFqdn string = gateway.outputs.fqdn
