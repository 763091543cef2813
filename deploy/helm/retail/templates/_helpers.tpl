{{/* The release's prefix for every object but the Services (named after the service, as
deploy/kong/kong.yml and the peers' URLs expect). */}}
{{- define "retail.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "retail.labels" -}}
app.kubernetes.io/part-of: retail
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one service's pods: (dict "root" $ "name" "order") */}}
{{- define "retail.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "retail.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (toString (required "image.tag is required (or image.digest): the release's image" $image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* One service's image: its own `image.tag`/`image.digest` (a promotion that has reached
this service and not yet the others, docs/deploy.md) over the release's.
(dict "root" $ "name" "order") */}}
{{- define "retail.serviceImage" -}}
{{- $own := (index .root.Values.services .name).image | default dict -}}
{{- if $own.digest -}}
{{- printf "%s@%s" .root.Values.image.repository $own.digest -}}
{{- else if $own.tag -}}
{{- printf "%s:%s" .root.Values.image.repository (toString $own.tag) -}}
{{- else -}}
{{- include "retail.image" .root -}}
{{- end -}}
{{- end -}}

{{/* A service's block over the defaults: (dict "root" $ "name" "order") */}}
{{- define "retail.service" -}}
{{- $defaults := deepCopy .root.Values.defaults -}}
{{- $service := index .root.Values.services .name -}}
{{- toYaml (mustMergeOverwrite $defaults (deepCopy $service)) -}}
{{- end -}}

{{- define "retail.serviceAccount" -}}
{{- printf "%s-%s" (include "retail.fullname" .root) .name -}}
{{- end -}}

{{/* The Secret holding a service's database URL and secrets; required when it has a database. */}}
{{- define "retail.secretName" -}}
{{- $service := index .root.Values.services .name -}}
{{- required (printf "services.%s.existingSecret is required: the Secret with its database_url and secret keys" .name) $service.existingSecret -}}
{{- end -}}

{{- define "retail.prefix" -}}
{{- printf "RETAIL_%s_" (upper .) -}}
{{- end -}}

{{/* Hardened security contexts for every pod and container. */}}
{{- define "retail.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "retail.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Settings as files: (dict "root" $ "name" "order") → volume mounts' env. */}}
{{- define "retail.secretEnv" -}}
{{- $service := index .root.Values.services .name -}}
{{- $prefix := include "retail.prefix" .name -}}
{{- if $service.database }}
- name: {{ $prefix }}DATABASE_URL_FILE
  value: /run/secrets/retail/database_url
{{- end }}
{{- range $service.secretKeys }}
- name: {{ $prefix }}{{ upper . }}_FILE
  value: /run/secrets/retail/{{ . }}
{{- end }}
{{- end -}}

{{- define "retail.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "retail.secretName" . }}
    defaultMode: 0440
{{- end -}}

{{/* What a hook Job's pod carries: its labels (for the NetworkPolicies) and no sidecar. */}}
{{- define "retail.jobMetadata" -}}
labels:
  app.kubernetes.io/part-of: retail
  app.kubernetes.io/instance: {{ .Release.Name }}
  app.kubernetes.io/component: job
annotations:
  sidecar.istio.io/inject: "false"
{{- end -}}

{{- define "retail.jobContainer" -}}
image: {{ include "retail.image" . }}
{{ include "retail.jobRuntime" . }}
{{- end -}}

{{/* A service's migrations run from that service's image. (dict "root" $ "name" "order") */}}
{{- define "retail.migrateContainer" -}}
image: {{ include "retail.serviceImage" . }}
{{ include "retail.jobRuntime" .root }}
{{- end -}}

{{- define "retail.jobRuntime" -}}
imagePullPolicy: {{ .Values.image.pullPolicy }}
resources:
  requests: {cpu: 50m, memory: 128Mi}
  limits: {cpu: 500m, memory: 256Mi}
securityContext:
  {{- include "retail.containerSecurityContext" . | nindent 2 }}
{{- end -}}

{{- define "retail.jobPod" -}}
serviceAccountName: {{ include "retail.fullname" .root }}-jobs
automountServiceAccountToken: false
restartPolicy: OnFailure
securityContext:
  {{- include "retail.podSecurityContext" . | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
