{{/* Name of the Deployment, the Service and the relay Secret (the backend addresses relay by it). */}}
{{- define "relay.fullname" -}}
{{- .Values.fullnameOverride | default "sentry-relay" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "relay.labels" -}}
{{ include "relay.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "relay.selectorLabels" -}}
app.kubernetes.io/name: {{ include "relay.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* True ("true") when all three relay secrets are set; fails on a partial set. */}}
{{- define "relay.hasCredentials" -}}
{{- $c := .Values.relay.secrets | default dict -}}
{{- $set := 0 -}}
{{- range $k := list "id" "public_key" "secret_key" -}}
{{- if get $c $k -}}{{- $set = add1 $set -}}{{- end -}}
{{- end -}}
{{- if eq $set 3 -}}true
{{- else if gt $set 0 -}}
{{- fail "relay.secrets needs all of id, public_key and secret_key (relay rejects incomplete credentials)" -}}
{{- end -}}
{{- end -}}

{{/* The relay Secret is rendered (and read by relay) only with inline credentials. */}}
{{- define "relay.inlineSecret" -}}
{{- if and .Values.relay.enabled (not .Values.relay.vault.enabled) (include "relay.hasCredentials" .) -}}true{{- end -}}
{{- end -}}
