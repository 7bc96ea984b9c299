// Azure Communication Services and the Event Grid system topic its calls are announced on.
param prefix string
param suffix string
@description('Where the call data rests (an ACS data location, e.g. Europe, United States).')
param dataLocation string

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: '${prefix}-acs-${suffix}'
  location: 'global'
  properties: {
    dataLocation: dataLocation
  }
}

resource events 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: '${prefix}-acs-events-${suffix}'
  location: 'global'
  properties: {
    source: acs.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

output acsName string = acs.name
output acsEndpoint string = 'https://${acs.properties.hostName}'
output eventsTopicName string = events.name
