// Switchboard on Azure Container Apps: one app per service, a user-assigned managed
// identity with role assignments instead of keys wherever the service allows, Key Vault
// for the remaining secrets, and the Azure resources the providers use.
//
//   make deploy AZURE_RESOURCE_GROUP=switchboard-prod   (see deploy/bicep/deploy.sh)
//
// No Bicep compiler runs where Switchboard is developed: tests/deploy parses every file
// and checks the resources and parameters that matter.
targetScope = 'resourceGroup'

@description('Short prefix of every resource name (lowercase letters and digits).')
@minLength(2)
@maxLength(8)
param prefix string = 'sb'

@description('Region of the apps, data and monitoring.')
param location string = resourceGroup().location

@description('Region of Azure OpenAI (model availability differs by region).')
param openAiLocation string = 'swedencentral'

@description('Region of the Speech resource.')
param speechLocation string = 'westeurope'

@description('Region of AI Search.')
param searchLocation string = location

@description('Where ACS keeps call data at rest.')
param communicationDataLocation string = 'Europe'

@description('The image tag to run: a pinned version, never latest.')
param imageTag string = '0.1.0'

@description('false on the first pass: creates the registry and the resources, no apps (deploy.sh builds the images in between).')
param deployApps bool = true

@secure()
@description('The gateway API keys as a YAML list, e.g. [key1, key2]. Stored in Key Vault only.')
param gatewayApiKeys string

@secure()
@description('The token of internal gRPC (e.g. openssl rand -hex 32): every service sends it and refuses calls without it. Stored in Key Vault only; several, space-separated, during a rotation.')
param internalAuthToken string

@description('The fast and slow chat models (Azure OpenAI deployments of the same names).')
param fastModel string = 'gpt-4.1-nano'
param fastModelVersion string = '2025-04-14'
param slowModel string = 'gpt-4.1'
param slowModelVersion string = '2025-04-14'
param openAiApiVersion string = '2024-10-21'
@description('Thousands of tokens per minute for each model deployment.')
param modelCapacity int = 50

@description('The dialer\'s telephony provider (acs and twilio come with the carrier issues).')
@allowed([
  'simulator'
  'sip'
])
param telephony string = 'simulator'

@description('The store\'s database: cosmos (the Cosmos DB account below; the store scales out) or sqlite (one replica, its file lost with the replica: trials only).')
@allowed([
  'cosmos'
  'sqlite'
])
param storeBackend string = 'cosmos'

@description('On SIGTERM live calls get this long to finish; the replica waits 15 s more.')
@minValue(1)
@maxValue(3600)
param callDrainSeconds int = 300

@description('Subscribe the gateway to ACS incoming calls. Turn on once the ACS provider answers Event Grid\'s validation handshake.')
param enableIncomingCalls bool = false

@description('The path the gateway serves ACS incoming-call events on.')
param incomingCallPath string = '/acs/incoming-call'

@description('The bot\'s ACS phone number (E.164); empty routes every incoming call.')
param botPhoneNumber string = ''

var suffix = uniqueString(resourceGroup().id)
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

// The starting flag values (the defaults of switchboard.example.yaml / config.py).
var featureFlags = {
  answer_hard_timeout_sec: 15
  answer_soft_timeout_sec: 4
  phone_silence_timeout_sec: 20
  vad_silence_timeout_ms: 500
  vad_cutoff_timeout_ms: 250
  vad_threshold: '0.5'
  recognition_retry_max: 3
  callback_timeout_hour: 3
  recording_enabled: false
  recording_retention_days: 30
  slow_llm_for_chat: false
  dtmf_timeout_ms: 2500
}

// One identity for the five apps: it pulls images, reads secrets and calls Azure.
resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-apps-${suffix}'
  location: location
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: take('${prefix}acr${suffix}', 50)
  location: location
  sku: {
    name: 'Standard'
  }
  properties: {
    // Pulled with the managed identity (AcrPull), never with an admin password.
    adminUserEnabled: false
  }
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, acrPull)
  scope: registry
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    prefix: prefix
    location: location
    suffix: suffix
    principalId: identity.properties.principalId
  }
}

module ai 'modules/ai.bicep' = {
  name: 'ai'
  params: {
    prefix: prefix
    suffix: suffix
    speechLocation: speechLocation
    openAiLocation: openAiLocation
    searchLocation: searchLocation
    principalId: identity.properties.principalId
    fastModel: fastModel
    fastModelVersion: fastModelVersion
    slowModel: slowModel
    slowModelVersion: slowModelVersion
    modelCapacity: modelCapacity
  }
}

module data 'modules/data.bicep' = {
  name: 'data'
  params: {
    prefix: prefix
    location: location
    suffix: suffix
    principalId: identity.properties.principalId
    featureFlags: featureFlags
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  params: {
    prefix: prefix
    suffix: suffix
    dataLocation: communicationDataLocation
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    prefix: prefix
    location: location
    suffix: suffix
    principalId: identity.properties.principalId
    speechName: ai.outputs.speechName
    searchName: ai.outputs.searchName
    acsName: communication.outputs.acsName
    insightsName: monitoring.outputs.insightsName
    redisName: data.outputs.redisName
    cosmosName: data.outputs.cosmosName
    gatewayApiKeys: gatewayApiKeys
    internalAuthToken: internalAuthToken
  }
}

module apps 'modules/apps.bicep' = if (deployApps) {
  name: 'apps'
  dependsOn: [
    pull
  ]
  params: {
    prefix: prefix
    location: location
    workspaceId: monitoring.outputs.workspaceId
    identityId: identity.id
    identityClientId: identity.properties.clientId
    registryServer: registry.properties.loginServer
    imageTag: imageTag
    vaultUri: vault.outputs.vaultUri
    appConfigEndpoint: data.outputs.appConfigEndpoint
    openAiEndpoint: ai.outputs.openAiEndpoint
    openAiApiVersion: openAiApiVersion
    fastModel: fastModel
    slowModel: slowModel
    searchEndpoint: ai.outputs.searchEndpoint
    speechRegion: ai.outputs.speechRegion
    acsEndpoint: communication.outputs.acsEndpoint
    cosmosEndpoint: data.outputs.cosmosEndpoint
    redisHost: data.outputs.redisHost
    blobEndpoint: data.outputs.blobEndpoint
    recordingContainer: data.outputs.recordingContainer
    storeBackend: storeBackend
    telephony: telephony
    callDrainSeconds: callDrainSeconds
  }
}

// Named here, not from the module's output: an existing resource's name must be known
// when the deployment starts.
resource acsEvents 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: '${prefix}-acs-events-${suffix}'
}

// Incoming calls: Event Grid posts Microsoft.Communication.IncomingCall to the gateway,
// filtered to the bot's number.
resource incomingCalls 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (deployApps && enableIncomingCalls) {
  parent: acsEvents
  name: 'incoming-calls'
  dependsOn: [
    communication
  ]
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${apps.outputs.gatewayFqdn}${incomingCallPath}'
        maxEventsPerBatch: 1
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.IncomingCall'
      ]
      advancedFilters: empty(botPhoneNumber) ? [] : [
        {
          operatorType: 'StringBeginsWith'
          key: 'data.to.PhoneNumber.Value'
          values: [
            botPhoneNumber
          ]
        }
      ]
    }
    // A call not answered within a minute is gone: do not deliver it late.
    retryPolicy: {
      maxDeliveryAttempts: 3
      eventTimeToLiveInMinutes: 1
    }
  }
}

output registryName string = registry.name
output registryServer string = registry.properties.loginServer
output gatewayUrl string = deployApps ? 'https://${apps.outputs.gatewayFqdn}' : ''
output appConfigurationEndpoint string = data.outputs.appConfigEndpoint
