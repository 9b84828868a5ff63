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
The operator's rights on pipe namespaces: its ClickPipes, the consumer Deployments and StatefulSets,
ConfigMaps, Secrets and service accounts it owns there, and Events. Shared by the ClusterRole
and the per-namespace Roles so both modes grant the same.
*/}}
{{- define "clickpipes.pipeRules" -}}
{{- /* Least privilege: only the verbs the operator uses (server-side apply is create + patch; it never updates or deletes what GC removes). */ -}}
- apiGroups: [clickpipes.io]
  resources: [clickpipes]
  verbs: [get, list, watch, patch]
- apiGroups: [clickpipes.io]
  resources: [clickpipes/status]
  verbs: [patch]
# ownerReferences with blockOwnerDeletion on the objects a pipe owns
- apiGroups: [clickpipes.io]
  resources: [clickpipes/finalizers]
  verbs: [update]
# deleted on finalization so consumers stop before the pipe's ClickHouse user is dropped;
# StatefulSets run the consumers of sources that split their work by replica index (and a
# pipe's workload of the kind it no longer needs is deleted)
- apiGroups: [apps]
  resources: [deployments, statefulsets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch]
# get: the Secrets pipes reference, read by name; list/watch: only the operator's own
# (label selector app.kubernetes.io/managed-by=clickpipes-operator; RBAC cannot narrow by label)
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, patch]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [create, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create]
{{- end }}
