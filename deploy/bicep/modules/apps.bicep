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
param blobEndpoint string
param recordingContainer string
@allowed([
  'cosmos'
  'sqlite'
])
param storeBackend string
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
]

// Azure Cache for Redis, for the services that use it (store: events and the job queue;
// brain: the live-call cache), with its access key from Key Vault.
var redisSecrets = [
  {
    name: 'redis-key'
    keyVaultUrl: '${vaultUri}secrets/redis-key'
    identity: identityId
  }
]
var redisEnv = [
  {
    name: 'SWITCHBOARD__REDIS__ENABLED'
    value: 'true'
  }
  {
    name: 'SWITCHBOARD__REDIS__URL'
    value: 'rediss://${redisHost}:6380/0'
  }
  {
    name: 'SWITCHBOARD__REDIS__PASSWORD'
    secretRef: 'redis-key'
  }
]

// Call recordings in blob storage, written by the dialer and served by the gateway with
// the managed identity (AZURE_CLIENT_ID); features.recording_enabled turns them on.
var recordingEnv = [
  {
    name: 'SWITCHBOARD__RECORDING__PROVIDER'
    value: 'azure'
  }
  {
    name: 'SWITCHBOARD__RECORDING__AZURE_ACCOUNT_URL'
    value: blobEndpoint
  }
  {
    name: 'SWITCHBOARD__RECORDING__AZURE_CONTAINER'
    value: recordingContainer
  }
]

// Each dialer replica leases its calls under its host name (dialer.replica_id empty:
// host name and process id); in Container Apps the host name is the replica's name.
var sharedStore = storeBackend != 'sqlite'

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
    ], recordingEnv)
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
        // Where gateways reach this replica, not the app's load-balanced ingress: a live
        // call's hang-up, transfer, media socket and callbacks must reach the replica that
        // runs it. Container Apps cannot put a replica's IP in its environment (no downward
        // API), so ':50051' asks the dialer to advertise its own IP (its host name's
        // address) with the gRPC port; replicas reach each other by IP inside the
        // environment (docs/carriers.md, "Several dialer replicas").
        name: 'SWITCHBOARD__DIALER__ADVERTISE_ADDRESS'
        value: ':50051'
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
    ], recordingEnv)
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
    ], redisSecrets)
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
    ], redisEnv)
  }
}

// On Cosmos DB the store is stateless and scales out; each replica applies the layout
// when it starts (racing replicas record each version once). On SQLite: one replica (one
// writer; the file lives on the replica's EmptyDir and is lost with it: trials only).
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
    minReplicas: sharedStore ? 2 : 1
    maxReplicas: sharedStore ? 10 : 1
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
    secrets: concat(commonSecrets, redisSecrets, [
      {
        name: 'cosmos-key'
        keyVaultUrl: '${vaultUri}secrets/cosmos-key'
        identity: identityId
      }
    ])
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
    env: concat(commonEnv, redisEnv, [
      {
        name: 'SWITCHBOARD_LISTEN_ADDRESS'
        value: '0.0.0.0:50054'
      }
      {
        name: 'SWITCHBOARD__STORE__BACKEND'
        value: storeBackend
      }
      {
        name: 'SWITCHBOARD__STORE__MIGRATE_ON_START'
        value: 'true'
      }
      {
        name: 'SWITCHBOARD__STORE__COSMOS__ENDPOINT'
        value: cosmosEndpoint
      }
      {
        name: 'SWITCHBOARD__STORE__COSMOS__DATABASE'
        value: 'switchboard'
      }
      {
        name: 'SWITCHBOARD__STORE__COSMOS__KEY'
        secretRef: 'cosmos-key'
      }
    ])
  }
}

output gatewayFqdn string = gateway.outputs.fqdn
