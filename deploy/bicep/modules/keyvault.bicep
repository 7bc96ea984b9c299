// Key Vault for the secrets that remain: the keys of services whose providers do not take
// an Entra ID token yet, the gateway's API keys and the internal gRPC token. The apps read them by reference.
param prefix string
param location string
param suffix string
param principalId string
param speechName string
param searchName string
param acsName string
param insightsName string
param redisName string
param cosmosName string
@secure()
@description('The gateway API keys as a YAML list, e.g. [key1, key2].')
param gatewayApiKeys string
@secure()
@description('The internal gRPC token (internal_auth): sent and required by every service.')
param internalAuthToken string

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${prefix}kv${suffix}', 24)
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource speech 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: speechName
}

resource search 'Microsoft.Search/searchServices@2023-11-01' existing = {
  name: searchName
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: acsName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource redis 'Microsoft.Cache/redis@2024-03-01' existing = {
  name: redisName
}

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-05-15' existing = {
  name: cosmosName
}

// redis-py authenticates with the access key (redis.password).
resource redisKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'redis-key'
  properties: {
    value: redis.listKeys().primaryKey
  }
}

// The store's Cosmos DB backend signs with the account key (store.cosmos.key).
resource cosmosKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'cosmos-key'
  properties: {
    value: cosmos.listKeys().primaryMasterKey
  }
}

resource gatewayKeys 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'gateway-api-keys'
  properties: {
    value: gatewayApiKeys
  }
}

resource internalToken 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'internal-auth-token'
  properties: {
    value: internalAuthToken
  }
}

resource speechKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'speech-key'
  properties: {
    value: speech.listKeys().key1
  }
}

resource searchKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'search-query-key'
  properties: {
    value: search.listQueryKeys().value[0].key
  }
}

// Placing calls needs the ACS access key (the reference system found no RBAC path).
resource acsKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'acs-key'
  properties: {
    value: acs.listKeys().primaryKey
  }
}

// Telemetry ingestion: the connection string carries the instrumentation key.
resource insightsConnection 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'appinsights-connection-string'
  properties: {
    value: insights.properties.ConnectionString
  }
}

resource readSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}

output vaultUri string = vault.properties.vaultUri
