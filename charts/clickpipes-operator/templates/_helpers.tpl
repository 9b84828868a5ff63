{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "clickpipes.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name of the operator's objects. */}}
{{- define "clickpipes.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "clickpipes.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clickpipes.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "clickpipes.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "clickpipes.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "clickpipes.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "clickpipes.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "clickpipes.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "clickpipes.consumerImage" -}}
{{- $repo := default .Values.image.repository .Values.consumer.image.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.consumer.image.tag }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}

{{/*
The operator's rights on pipe namespaces: its ClickPipes, the consumer Deployments,
ConfigMaps, Secrets and service accounts it owns there, and Events. Shared by the ClusterRole
and the per-namespace Roles so both modes grant the same.
*/}}
{{- define "clickpipes.pipeRules" -}}
- apiGroups: [clickpipes.io]
  resources: [clickpipes]
  verbs: [get, list, watch, update, patch]
- apiGroups: [clickpipes.io]
  resources: [clickpipes/status]
  verbs: [get, update, patch]
- apiGroups: [clickpipes.io]
  resources: [clickpipes/finalizers]
  verbs: [update]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [configmaps, secrets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get, list, watch, create, update, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
