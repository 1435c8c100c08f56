{{/*
The prefix of every object of the parent chart.
*/}}
{{- define "stack.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels every object of the parent chart carries.
*/}}
{{- define "stack.labels" -}}
app.kubernetes.io/part-of: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
capstan.dev/environment: {{ .Values.global.environment }}
{{- end }}

{{/*
The address of the cache service, empty when the cache is disabled.
*/}}
{{- define "stack.cacheAddress" -}}
{{- if .Values.cache.enabled }}
{{- printf "%s-cache:%d" .Release.Name 6379 }}
{{- end }}
{{- end }}
