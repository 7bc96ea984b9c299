// One Switchboard service as a Container App: its ingress, probes, scale rules and
// secrets by Key Vault reference, running as the shared user-assigned identity.
param name string
param location string
param environmentId string
param identityId string
param registryServer string
param image string
@description('The port the service listens on (its config default).')
param port int
@description('true: public HTTPS (the gateway); false: internal HTTP/2 for gRPC.')
param external bool
param cpu string
param memory string
param minReplicas int
param maxReplicas int
@description('Container Apps scale rules (KEDA): at least one per app.')
param scaleRules array
@description('Liveness, readiness and startup probes.')
param probes array
param env array
@description('Secrets as Key Vault references: [{name, keyVaultUrl, identity}].')
param secrets array = []
param volumes array = []
param volumeMounts array = []
param terminationGracePeriodSeconds int = 30

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: external
        targetPort: port
        // gRPC needs end-to-end HTTP/2; inside the environment it runs without TLS.
        transport: external ? 'http' : 'http2'
        allowInsecure: !external
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: secrets
    }
    template: {
      terminationGracePeriodSeconds: terminationGracePeriodSeconds
      containers: [
        {
          name: name
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: env
          probes: probes
          volumeMounts: volumeMounts
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: scaleRules
      }
      volumes: volumes
    }
  }
}

output fqdn string = app.properties.configuration.ingress.fqdn
