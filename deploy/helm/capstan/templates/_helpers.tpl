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
- name: PROVIDER
  value: {{ $root.Values.config.provider | quote }}
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
