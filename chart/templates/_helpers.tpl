{{/* Names ------------------------------------------------------------------------------------------ */}}

{{- define "cliscale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: every resource name starts with it. */}}
{{- define "cliscale.fullname" -}}
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

{{- define "cliscale.controller.fullname" -}}{{ include "cliscale.fullname" . | trunc 52 | trimSuffix "-" }}-controller{{- end }}
{{- define "cliscale.gateway.fullname" -}}{{ include "cliscale.fullname" . | trunc 55 | trimSuffix "-" }}-gateway{{- end }}
{{- define "cliscale.migrate.fullname" -}}{{ include "cliscale.fullname" . | trunc 55 | trimSuffix "-" }}-migrate{{- end }}

{{/* Where runner Jobs live; never the release namespace (its Pod Security and quota are the runners'). */}}
{{- define "cliscale.runners.namespace" -}}
{{- $ns := default (printf "%s-runners" (include "cliscale.fullname" .)) .Values.runners.namespace.name }}
{{- if eq $ns .Release.Namespace }}
{{- fail "runners.namespace.name must differ from the release namespace" }}
{{- end }}
{{- $ns }}
{{- end }}

{{- define "cliscale.runners.serviceAccountName" -}}
{{- default (printf "%s-runner" (include "cliscale.fullname" .)) .Values.runners.serviceAccountName }}
{{- end }}

{{/* Labels ----------------------------------------------------------------------------------------- */}}

{{- define "cliscale.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "cliscale.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cliscale
{{- end }}

{{/* Selector labels of one component: call with (dict "ctx" $ "component" "controller"). */}}
{{- define "cliscale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cliscale.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "cliscale.componentLabels" -}}
{{ include "cliscale.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Labels every runner Pod of this release carries. They are written by the controller
(controller/src/runners/kubernetes/runner-labels.ts, runnerSelectorLabels) with RUNNER_INSTANCE set to the
release name below; chart/test/runner-job-drift.test.ts fails if the two drift apart.
*/}}
{{- define "cliscale.runnerSelectorLabels" -}}
app.kubernetes.io/managed-by: cliscale-controller
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The supervisor's port in runner pods (kubernetes-config.ts: not configurable in the controller). */}}
{{- define "cliscale.runnerPort" -}}7681{{- end }}

{{/* Images -------------------------------------------------------------------------------------------- */}}

{{/* repository:tag, the tag defaulting to appVersion. Call with (dict "image" .Values.x.image "ctx" $). */}}
{{- define "cliscale.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* Settings shared by the controller and the gateway ------------------------------------------------- */}}

{{- define "cliscale.publicUrl" -}}
{{- if .Values.publicUrl }}
{{- .Values.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.host }}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.host }}
{{- end }}
{{- end }}

{{- define "cliscale.trustProxy" -}}
{{- if .Values.trustProxy }}
{{- .Values.trustProxy }}
{{- else if not .Values.ingress.enabled }}false
{{- else if eq .Values.ingress.provider "gke" }}2
{{- else if eq .Values.ingress.provider "nginx" }}1
{{- else }}false
{{- end }}
{{- end }}

{{/* Secrets -------------------------------------------------------------------------------------------- */}}

{{- define "cliscale.apiKeys.secretName" -}}
{{- default (printf "%s-api-keys" (include "cliscale.fullname" .)) .Values.apiKeys.existingSecret }}
{{- end }}

{{- define "cliscale.apiKeys.secretKey" -}}
{{- ternary .Values.apiKeys.existingSecretKey "API_KEYS" (not (empty .Values.apiKeys.existingSecret)) }}
{{- end }}

{{- define "cliscale.jwt.secretName" -}}
{{- default (printf "%s-jwt" (include "cliscale.fullname" .)) .Values.jwt.existingSecret }}
{{- end }}

{{- define "cliscale.database.secretName" -}}
{{- default (printf "%s-database" (include "cliscale.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{- define "cliscale.database.secretKey" -}}
{{- ternary .Values.database.existingSecretKey "DATABASE_URL" (not (empty .Values.database.existingSecret)) }}
{{- end }}

{{/*
DATABASE_URL when the chart keeps it: database.url, else the one stored by a previous release (so an upgrade
without the value keeps it), else a failure naming both ways to provide it.
*/}}
{{- define "cliscale.database.url" -}}
{{- $url := .Values.database.url }}
{{- if not $url }}
{{- $old := lookup "v1" "Secret" .Release.Namespace (include "cliscale.database.secretName" .) }}
{{- if and $old $old.data (hasKey $old.data "DATABASE_URL") }}
{{- $url = index $old.data "DATABASE_URL" | b64dec }}
{{- end }}
{{- end }}
{{- if not $url }}
{{- fail "database: set database.url (postgres://user:password@host:5432/db) or database.existingSecret (a Secret holding DATABASE_URL)" }}
{{- end }}
{{- if not (regexMatch "^postgres(ql)?://" $url) }}
{{- fail "database.url must start with postgres:// or postgresql://" }}
{{- end }}
{{- $url }}
{{- end }}

{{/* Pod and container hardening ------------------------------------------------------------------------ */}}

{{- define "cliscale.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "cliscale.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}
