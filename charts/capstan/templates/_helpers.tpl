{{/* The prefix of every object's name: "capstan" for a release named capstan, as config/default names them. */}}
{{- define "capstan.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "capstan.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The manager's name: its ServiceAccount, ClusterRole, bindings and Deployment. */}}
{{- define "capstan.manager" -}}
{{- printf "%s-manager" (include "capstan.fullname" .) -}}
{{- end -}}

{{- define "capstan.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "capstan.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: capstan
{{- end -}}

{{/* The manager image: repository@digest when a digest is set, else repository:tag. */}}
{{- define "capstan.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
One manager Deployment. Called with a dict: root (the chart's context), name (the Deployment's
name), component (its component label) and selector (its --watch-label-selector, empty for all).
*/}}
{{- define "capstan.deployment" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "capstan.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ include "capstan.name" $root }}
      app.kubernetes.io/instance: {{ $root.Release.Name }}
      app.kubernetes.io/component: {{ .component }}
  template:
    metadata:
      labels:
        {{- include "capstan.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ .component }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        kubectl.kubernetes.io/default-container: manager
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "capstan.manager" $root }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.podSecurityContext | nindent 8 }}
      containers:
      - name: manager
        image: {{ include "capstan.image" $root }}
        imagePullPolicy: {{ $v.image.pullPolicy }}
        command: ["/manager"]
        args:
        {{- if $v.leaderElection.enabled }}
        - --leader-elect
        {{- end }}
        - --health-probe-bind-address=:{{ $v.healthPort }}
        - --metrics-bind-address=:{{ $v.metricsPort }}
        - --log-format={{ $v.logFormat }}
        {{- if ne $v.logLevel "info" }}
        - --log-level={{ $v.logLevel }}
        {{- end }}
        - --graceful-shutdown-timeout={{ $v.gracefulShutdownTimeout }}
        {{- if $v.denyPrivateNetworks }}
        {{- with $v.allowNetworks }}
        - --allow-networks={{ join "," . }}
        {{- end }}
        - --deny-private-networks
        {{- end }}
        {{- if eq $v.tenancy "multi" }}
        - --default-service-account={{ $v.defaultServiceAccount }}
        {{- else }}
        - --default-service-account=
        {{- end }}
        {{- with .selector }}
        - --watch-label-selector={{ . }}
        {{- end }}
        {{- range $v.extraArgs }}
        - {{ . }}
        {{- end }}
        ports:
        - name: metrics
          containerPort: {{ $v.metricsPort }}
          protocol: TCP
        - name: healthz
          containerPort: {{ $v.healthPort }}
          protocol: TCP
        livenessProbe:
          httpGet:
            path: /healthz
            port: healthz
          initialDelaySeconds: 15
          periodSeconds: 20
        readinessProbe:
          httpGet:
            path: /readyz
            port: healthz
          initialDelaySeconds: 5
          periodSeconds: 10
        resources:
          {{- toYaml $v.resources | nindent 10 }}
        securityContext:
          {{- toYaml $v.securityContext | nindent 10 }}
        volumeMounts:
        - name: tmp
          mountPath: /tmp
      volumes:
      - name: tmp
        emptyDir:
          sizeLimit: {{ $v.tmpSizeLimit }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
