{{- define "relay.labels" -}}
app.kubernetes.io/name: sentry-relay
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "relay.selectorLabels" -}}
app.kubernetes.io/name: sentry-relay
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* True ("true") when all three relay credentials are set; fails on a partial set. */}}
{{- define "relay.hasCredentials" -}}
{{- $c := .Values.relay.credentials | default dict -}}
{{- $set := 0 -}}
{{- range $k := list "id" "publicKey" "secretKey" -}}
{{- if get $c $k -}}{{- $set = add1 $set -}}{{- end -}}
{{- end -}}
{{- if eq $set 3 -}}true
{{- else if gt $set 0 -}}
{{- fail "relay.credentials needs all of id, publicKey and secretKey (relay rejects incomplete credentials)" -}}
{{- end -}}
{{- end -}}
