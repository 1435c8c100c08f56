{{/*
The cache's object name: the release name with "-cache".
*/}}
{{- define "cache.fullname" -}}
{{- printf "%s-cache" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
