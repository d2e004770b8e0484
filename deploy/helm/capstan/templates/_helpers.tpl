{{/*
Chart name, overridable.
*/}}
{{- define "capstan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-qualified name. Cut to 50 characters so that the longest suffix ("-sla-monitor") still
fits a 63-character DNS label.
*/}}
{{- define "capstan.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "capstan.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels. Takes (dict "root" $ "component" "api"); without a component they match every
Capstan object of the release.
*/}}
{{- define "capstan.selectorLabels" -}}
app.kubernetes.io/name: {{ include "capstan.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/*
Common labels. Takes (dict "root" $ "component" "api"), component optional.
*/}}
{{- define "capstan.labels" -}}
helm.sh/chart: {{ include "capstan.chart" .root }}
{{ include "capstan.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: capstan
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "capstan.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "capstan.migrateImage" -}}
{{- $repository := .Values.migrateImage.repository | default .Values.image.repository }}
{{- $tag := .Values.migrateImage.tag | default (printf "%s-migrate" (.Values.image.tag | default .Chart.AppVersion)) }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{- define "capstan.secretName" -}}
{{- required "secrets.existingSecret is required: the name of a Secret holding DATABASE_URL, REDIS_URL and SECRETS_KEYS" .Values.secrets.existingSecret }}
{{- end }}

{{/*
DATABASE_URL from the Secret: the one variable the migration Job needs.
*/}}
{{- define "capstan.env.database" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "capstan.secretName" . }}
      key: {{ .Values.secrets.keys.databaseUrl }}
{{- end }}

{{/*
Environment of the API, worker and SLA monitor. Takes (dict "root" $ "portVar" "PORT" "port" 8080):
the component's port variable, then the shared settings, then the user's extras (last, so they win).
*/}}
{{- define "capstan.env" -}}
{{- $root := .root -}}
- name: NODE_ENV
  value: production
- name: HOST
  value: "0.0.0.0"
- name: {{ .portVar }}
  value: {{ .port | quote }}
{{ include "capstan.env.database" $root }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "capstan.secretName" $root }}
      key: {{ $root.Values.secrets.keys.redisUrl }}
- name: SECRETS_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "capstan.secretName" $root }}
      key: {{ $root.Values.secrets.keys.secretsKeys }}
- name: LOG_LEVEL
  value: {{ $root.Values.config.logLevel | quote }}
{{ include "capstan.env.drivers" $root }}
{{- with $root.Values.config.publicUrl }}
- name: PUBLIC_URL
  value: {{ . | quote }}
{{- end }}
{{- with $root.Values.env }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pod-level settings shared by every workload (Deployments and the migration Job).
*/}}
{{- define "capstan.podSpec" -}}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{/*
Container-level hardening and the writable /tmp, shared by every container.
*/}}
{{- define "capstan.containerSecurity" -}}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/*
Probes on the container's "http" port: /healthz says the process runs (liveness; the startup
probe gives a slow boot time before liveness counts), /readyz that Postgres and Redis answer
(readiness: a 503 takes the pod out of the Service without restarting it).
*/}}
{{- define "capstan.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  timeoutSeconds: 3
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
{{- end }}

{{/*
"true" when the chart runs the emulator, empty otherwise. emulator.enabled unset (null) follows
rke2.managementKubeconfigSecret; the emulator and a real management cluster together are refused.
*/}}
{{- define "capstan.emulator.enabled" -}}
{{- $explicit := .Values.emulator.enabled -}}
{{- if and (eq (toString $explicit) "true") .Values.rke2.managementKubeconfigSecret -}}
{{- fail "emulator.enabled=true and rke2.managementKubeconfigSecret cannot be set together: the drivers use either the emulator or your management cluster" -}}
{{- end -}}
{{- if kindIs "invalid" $explicit -}}
{{- if not .Values.rke2.managementKubeconfigSecret }}true{{ end -}}
{{- else if $explicit }}true{{ end -}}
{{- end }}

{{/*
The emulator's Service name, which is also the host name it advertises in every URL it hands out.
*/}}
{{- define "capstan.simulatorName" -}}
{{ include "capstan.fullname" . }}-simulator
{{- end }}

{{/*
Where the API, worker and SLA monitor find the management cluster's kubeconfig: the "management"
volume (a Secret of yours, or an emptyDir the init container fills from the emulator).
*/}}
{{- define "capstan.managementDir" -}}
/var/lib/capstan/management
{{- end }}

{{- define "capstan.env.simulatorToken" -}}
valueFrom:
  secretKeyRef:
    name: {{ include "capstan.secretName" . }}
    key: {{ .Values.secrets.keys.simulatorApiToken }}
{{- end }}

{{/*
The drivers' settings: RKE2 on a management cluster and GKE, each pointed at the emulator or at
the real thing.
*/}}
{{- define "capstan.env.drivers" -}}
- name: PROVIDER
  value: {{ .Values.config.provider | quote }}
- name: RKE2_NAMESPACE
  value: {{ .Values.rke2.namespace | quote }}
{{- if or (include "capstan.emulator.enabled" .) .Values.rke2.managementKubeconfigSecret }}
- name: RKE2_MANAGEMENT_KUBECONFIG
  value: {{ include "capstan.managementDir" . }}/kubeconfig
{{- end }}
{{- if include "capstan.emulator.enabled" . }}
{{- $simulator := include "capstan.simulatorName" . }}
- name: GKE_PROJECT
  value: capstan-local
- name: GKE_API_ENDPOINT
  value: "http://{{ $simulator }}:{{ .Values.emulator.ports.gke }}"
# The emulator serves Backup for GKE on the same port.
- name: GKE_BACKUP_API_ENDPOINT
  value: "http://{{ $simulator }}:{{ .Values.emulator.ports.gke }}"
- name: GKE_TOKEN_URL
  value: "http://{{ $simulator }}:{{ .Values.emulator.ports.gke }}/token"
- name: GKE_CLIENT_SECRET
  {{- include "capstan.env.simulatorToken" . | nindent 2 }}
# One listener serves every emulated API server and picks it by TLS server name.
- name: GKE_TLS_SERVER_NAME_FROM_DNS_ENDPOINT
  value: "true"
# The staff fault-injection routes talk to the emulator's own API.
- name: SIMULATOR_URL
  value: "http://{{ $simulator }}:{{ .Values.emulator.ports.api }}"
- name: SIMULATOR_API_TOKEN
  {{- include "capstan.env.simulatorToken" . | nindent 2 }}
{{- else if .Values.gke.project }}
- name: GKE_PROJECT
  value: {{ .Values.gke.project | quote }}
- name: GKE_API_ENDPOINT
  value: {{ .Values.gke.apiEndpoint | quote }}
- name: GKE_BACKUP_API_ENDPOINT
  value: {{ .Values.gke.backupApiEndpoint | default "https://gkebackup.googleapis.com" | quote }}
- name: GKE_RELEASE_CHANNEL
  value: {{ .Values.gke.releaseChannel | quote }}
{{- with .Values.gke.tokenUrl }}
- name: GKE_TOKEN_URL
  value: {{ . | quote }}
{{- end }}
{{- $credentials := required "gke.credentialsSecret is required with gke.project: the Secret holding the GKE credentials" .Values.gke.credentialsSecret }}
{{- if not (or .Values.gke.keys.clientSecret .Values.gke.keys.accessToken) }}
{{- fail "gke.keys.clientSecret (with gke.tokenUrl) or gke.keys.accessToken is required with gke.project: the key of the credential in gke.credentialsSecret" }}
{{- end }}
{{- with .Values.gke.keys.clientSecret }}
- name: GKE_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $credentials }}
      key: {{ . }}
{{- end }}
{{- with .Values.gke.keys.accessToken }}
- name: GKE_ACCESS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $credentials }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The "management" volume of the API, worker and SLA monitor pods, an item of their `volumes`.
*/}}
{{- define "capstan.managementVolume" -}}
{{- if .Values.rke2.managementKubeconfigSecret -}}
- name: management
  secret:
    secretName: {{ .Values.rke2.managementKubeconfigSecret }}
    items:
      - key: {{ .Values.rke2.managementKubeconfigKey }}
        path: kubeconfig
    # Group-readable: the file belongs to root and the pod's fsGroup, and the app runs as that group.
    defaultMode: 0440
{{- else if include "capstan.emulator.enabled" . -}}
- name: management
  emptyDir:
    sizeLimit: 1Mi
{{- end }}
{{- end }}

{{/*
Its mount in the app container, an item of `volumeMounts`.
*/}}
{{- define "capstan.managementMount" -}}
{{- if or .Values.rke2.managementKubeconfigSecret (include "capstan.emulator.enabled" .) -}}
- name: management
  mountPath: {{ include "capstan.managementDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
With the emulator: an init container that waits until the emulator is ready (its management
cluster set up) and copies its kubeconfig into the "management" volume. The emulator runs in
another pod, so no volume is shared with it; its API hands the kubeconfig to holders of its token.
*/}}
{{- define "capstan.managementInit" -}}
{{- if include "capstan.emulator.enabled" . -}}
initContainers:
  - name: management-kubeconfig
    image: {{ include "capstan.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command:
      - node
      - -e
      - |
        const { writeFileSync } = require('node:fs');
        const base = process.env.SIMULATOR_URL;
        const headers = { authorization: 'Bearer ' + process.env.SIMULATOR_API_TOKEN };
        const deadline = Date.now() + 600000;
        const pause = () => new Promise((resolve) => setTimeout(resolve, 2000));
        async function main() {
          for (;;) {
            try {
              const ready = await fetch(base + '/readyz');
              if (ready.ok) {
                const response = await fetch(base + '/v1/management/kubeconfig', { headers });
                if (response.status === 401) throw Object.assign(new Error('the emulator refused SIMULATOR_API_TOKEN'), { fatal: true });
                if (response.ok) return writeFileSync(process.env.KUBECONFIG_PATH, await response.text(), { mode: 0o600 });
              }
            } catch (error) {
              if (error.fatal) throw error;
            }
            if (Date.now() > deadline) throw new Error('the emulator at ' + base + ' did not become ready');
            await pause();
          }
        }
        main().then(() => process.exit(0), (error) => { console.error(error.message); process.exit(1); });
    env:
      - name: SIMULATOR_URL
        value: "http://{{ include "capstan.simulatorName" . }}:{{ .Values.emulator.ports.api }}"
      - name: SIMULATOR_API_TOKEN
        {{- include "capstan.env.simulatorToken" . | nindent 8 }}
      - name: KUBECONFIG_PATH
        value: {{ include "capstan.managementDir" . }}/kubeconfig
    resources:
      requests:
        cpu: 10m
        memory: 64Mi
      limits:
        memory: 128Mi
    securityContext:
      {{- toYaml .Values.securityContext | nindent 6 }}
    volumeMounts:
      - name: management
        mountPath: {{ include "capstan.managementDir" . }}
{{- end }}
{{- end }}
