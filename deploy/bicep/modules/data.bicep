// Cosmos DB, Redis and App Configuration, each reached with the managed identity (no keys).
param prefix string
param location string
param suffix string
param principalId string
@description('Feature flags written to App Configuration (plain key-values, as the reference system).')
param featureFlags object

var roles = {
  appConfigurationDataReader: '516239f1-63e1-4d78-a4de-a74fb236a071'
}
// Cosmos DB's own data-plane role (not an Azure RBAC role): Built-in Data Contributor.
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' = {
  name: '${prefix}-cosmos-${suffix}'
  location: location
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
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

// One document per call, partitioned by the caller's number (as the reference system).
resource calls 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-05-15' = {
  parent: database
  name: 'calls'
  properties: {
    resource: {
      id: 'calls'
      partitionKey: {
        paths: [
          '/phone_number'
        ]
        kind: 'Hash'
      }
    }
  }
}

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
    // Entra ID only: the services authenticate as the managed identity.
    disableAccessKeyAuthentication: true
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

output cosmosEndpoint string = cosmos.properties.documentEndpoint
output redisHost string = redis.properties.hostName
output appConfigEndpoint string = appConfig.properties.endpoint
