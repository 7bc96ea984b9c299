{{/* The five services, in start order; every per-service template loops over them. */}}
{{- define "switchboard.services" -}}
gateway dialer speech brain store
{{- end -}}

{{- define "switchboard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "dialer"). */}}
{{- define "switchboard.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "switchboard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchboard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.image" -}}
{{- printf "%s/switchboard-%s:%s" .root.Values.image.registry .component .root.Values.image.tag -}}
{{- end -}}

{{/*
The switchboard.yaml of the release: the operator's `config` plus what the chart owns
(in-cluster addresses, listen host and port, the data path, the dialer's drain time,
internal auth). Each address is the service's headless twin (<name>-pods): it resolves
to every ready pod, and clients balance their calls over them (round_robin).
*/}}
{{- define "switchboard.config" -}}
{{- $root := . -}}
{{- $fullname := include "switchboard.fullname" . -}}
{{- $config := deepCopy .Values.config -}}
{{- $services := dict -}}
{{- range $name := list "dialer" "speech" "brain" "store" -}}
{{- $_ := set $services $name (printf "%s-%s-pods:%d" $fullname $name (int (index $root.Values $name).port)) -}}
{{- end -}}
{{- $_ := set $config "services" $services -}}
{{- $auth := .Values.internalAuth -}}
{{- $internal := dict "mode" $auth.mode -}}
{{- if contains "token" $auth.mode -}}
{{- $_ := set $internal "token_file" "/etc/switchboard/internal-token/token" -}}
{{- end -}}
{{- if contains "mtls" $auth.mode -}}
{{- $_ := set $internal "cert_file" "/etc/switchboard/internal-tls/tls.crt" -}}
{{- $_ := set $internal "key_file" "/etc/switchboard/internal-tls/tls.key" -}}
{{- $_ := set $internal "ca_file" "/etc/switchboard/internal-tls/ca.crt" -}}
{{- $_ := set $internal "server_name" $auth.serverName -}}
{{- $_ := set $internal "health_port" (int $auth.healthPort) -}}
{{- end -}}
{{- $_ := set $config "internal_auth" $internal -}}
{{- $gateway := default (dict) (get $config "gateway") -}}
{{- $_ := set $gateway "host" "0.0.0.0" -}}
{{- $_ := set $gateway "port" (int .Values.gateway.port) -}}
{{- $_ := set $config "gateway" $gateway -}}
{{- $store := default (dict) (get $config "store") -}}
{{- $_ := set $store "sqlite_path" "/data/switchboard.db" -}}
{{- $_ := set $config "store" $store -}}
{{- $dialer := default (dict) (get $config "dialer") -}}
{{- $_ := set $dialer "drain_timeout_sec" .Values.dialer.callDrainSeconds -}}
{{- $_ := set $config "dialer" $dialer -}}
{{- toYaml $config -}}
{{- end -}}

{{/* Container security: non-root, read-only root, no capabilities, no escalation. */}}
{{- define "switchboard.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "switchboard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment of one service's container; call with (dict "root" $ "component" name). */}}
{{- define "switchboard.env" -}}
{{- $values := index .root.Values .component -}}
- name: SWITCHBOARD_CONFIG
  value: /etc/switchboard/switchboard.yaml
{{- if ne .component "gateway" }}
- name: SWITCHBOARD_LISTEN_ADDRESS
  value: {{ printf "0.0.0.0:%d" (int $values.port) | quote }}
{{- end }}
# The root file system is read-only: caches and temporary files go to the /tmp emptyDir.
- name: HOME
  value: /tmp
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- range $name, $value := $values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- if eq .component "dialer" }}
# Each pod leases its live calls under its own name: a container restarted in the same pod
# ends the calls it held at once; a new pod has a new name, and their leases expire.
- name: SWITCHBOARD__DIALER__REPLICA_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
# Where gateways reach this pod (not the Service): a live call's hang-up, transfer, media
# socket and callbacks must reach the replica that runs it. Its calls' leases and carrier
# URLs carry this address. An IPv6 pod IP would need brackets; the chart assumes IPv4.
- name: SWITCHBOARD_POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: SWITCHBOARD__DIALER__ADVERTISE_ADDRESS
  value: {{ printf "$(SWITCHBOARD_POD_IP):%d" (int $values.port) | quote }}
{{- end }}
{{- range $values.secretEnv }}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: {{ .key }}
{{- end }}
{{- $component := .component }}
{{- $refs := .root.Values.backendSecrets }}
{{- range $id, $use := include "switchboard.backendSecretUse" . | fromYaml }}
{{- $ref := index $refs $id }}
{{- if and $ref.name (has $component $use.components) }}
- name: {{ $use.variable }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Which variable each backendSecrets entry becomes, and the services that read it. */}}
{{- define "switchboard.backendSecretUse" -}}
redisPassword: {variable: SWITCHBOARD__REDIS__PASSWORD, components: [store, brain]}
postgresPassword: {variable: SWITCHBOARD__STORE__POSTGRES_PASSWORD, components: [store]}
cosmosKey: {variable: SWITCHBOARD__STORE__COSMOS__KEY, components: [store]}
recordingAccountKey: {variable: SWITCHBOARD__RECORDING__AZURE_ACCOUNT_KEY, components: [dialer, gateway]}
{{- end -}}

{{/* The store's database: config.store.backend, sqlite when unset. */}}
{{- define "switchboard.storeBackend" -}}
{{- (default (dict) .Values.config.store).backend | default "sqlite" -}}
{{- end -}}


{{/* The port kubelet gRPC probes use: the service port, or with mtls the plaintext
health-only port (a probe cannot present a certificate). Call with (dict "root" $ "port" n). */}}
{{- define "switchboard.probePort" -}}
{{- if contains "mtls" .root.Values.internalAuth.mode -}}
{{- .root.Values.internalAuth.healthPort -}}
{{- else -}}
{{- .port -}}
{{- end -}}
{{- end -}}

{{/* Internal auth's Secrets as files (see internalAuth in values.yaml). */}}
{{- define "switchboard.internalAuthMounts" -}}
{{- if contains "token" .Values.internalAuth.mode }}
- name: internal-token
  mountPath: /etc/switchboard/internal-token
  readOnly: true
{{- end }}
{{- if contains "mtls" .Values.internalAuth.mode }}
- name: internal-tls
  mountPath: /etc/switchboard/internal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "switchboard.internalAuthVolumes" -}}
{{- $auth := .Values.internalAuth -}}
{{- if contains "token" $auth.mode }}
- name: internal-token
  secret:
    secretName: {{ $auth.tokenSecret.name }}
    defaultMode: 0440
    items:
      - key: {{ $auth.tokenSecret.key }}
        path: token
{{- end }}
{{- if contains "mtls" $auth.mode }}
- name: internal-tls
  secret:
    secretName: {{ $auth.tlsSecret.name }}
    defaultMode: 0440
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
      - {key: ca.crt, path: ca.crt}
{{- end }}
{{- end -}}
