// Cosmos DB, Redis, recording storage and App Configuration. App Configuration and blob
// storage are reached with the managed identity (no keys). Cosmos DB and Redis keep their
// keys (in Key Vault): the store's Cosmos DB backend and redis-py authenticate with a key.
param prefix string
param location string
param suffix string
param principalId string
@description('Feature flags written to App Configuration (plain key-values, as the reference system).')
param featureFlags object

var roles = {
  appConfigurationDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
}
// Where call recordings go (recording.azure_container).
var recordingContainer = 'recordings'
// Cosmos DB's own data-plane role (not an Azure RBAC role): Built-in Data Contributor.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: '${prefix}-cosmos-${suffix}'
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    // The store's backend signs its requests with the account key (from Key Vault).
    disableLocalAuth: false
    minimalTlsVersion: 'Tls12'
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: 'Continuous7Days'
      }
    }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-05-15' = {
  parent: cosmos
  name: 'switchboard'
  properties: {
    resource: {
      id: 'switchboard'
    }
  }
}

// The containers are the store's: it creates them with their partition keys when it
// applies its layout (store.migrate_on_start), so none is declared here.

resource cosmosRole 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-05-15' = {
  parent: cosmos
  name: guid(cosmos.id, principalId, cosmosDataContributor)
  properties: {
    principalId: principalId
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    scope: cosmos.id
  }
}

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${prefix}-redis-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'Standard'
      family: 'C'
      capacity: 1
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    // redis-py authenticates with the access key (from Key Vault), over TLS on 6380.
    disableAccessKeyAuthentication: false
    redisConfiguration: {
      'aad-enabled': 'true'
    }
  }
}

resource redisAccess 'Microsoft.Cache/redis/accessPolicyAssignments@2024-03-01' = {
  parent: redis
  name: 'switchboard'
  properties: {
    accessPolicyName: 'Data Contributor'
    objectId: principalId
    objectIdAlias: 'switchboard'
  }
}

resource appConfig 'Microsoft.AppConfiguration/configurationStores@2023-03-01' = {
  name: '${prefix}-flags-${suffix}'
  location: location
  sku: {
    name: 'standard'
  }
  properties: {
    // Entra ID only: no access keys (the flag source uses the managed identity).
    disableLocalAuth: true
  }
}

// The flags' starting values; operators change them live in the portal or with
// `az appconfig kv set` (see docs/operations.md).
resource flags 'Microsoft.AppConfiguration/configurationStores/keyValues@2023-03-01' = [for flag in items(featureFlags): {
  parent: appConfig
  name: flag.key
  properties: {
    value: string(flag.value)
  }
}]

resource appConfigRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appConfig.id, principalId, roles.appConfigurationDataReader)
  scope: appConfig
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.appConfigurationDataReader)
  }
}

// Call recordings (recording.provider azure): blobs written and read with the identity.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: take('${prefix}rec${suffix}', 24)
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource recordings 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: recordingContainer
  properties: {
    publicAccess: 'None'
  }
}

resource storageRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

output cosmosEndpoint string = cosmos.properties.documentEndpoint
output cosmosName string = cosmos.name
output redisName string = redis.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output recordingContainer string = recordings.name
output redisHost string = redis.properties.hostName
output appConfigEndpoint string = appConfig.properties.endpoint
