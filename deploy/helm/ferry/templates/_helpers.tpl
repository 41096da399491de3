{{- /*
The chart's templates use only text/template's own actions and functions (if, with, range, define,
template, printf, print, eq, ne, and, or, not, index, len): no Sprig, no include/toYaml/tpl. Helm renders
them as any chart, and tests/Deploy.Tests renders them with Go's text/template itself (compiled to
WebAssembly), so what the tests check is what Helm produces. Labels are flow mappings on one line so
that a template can place them at any indentation without nindent.
*/ -}}

{{- define "ferry.chart" -}}{{ .Chart.Name }}-{{ .Chart.Version }}{{- end -}}

{{- define "ferry.selector.api" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: api }
{{- end -}}

{{- define "ferry.labels.api" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: api, app.kubernetes.io/version: {{ printf "%q" .Chart.AppVersion }}, app.kubernetes.io/managed-by: {{ .Release.Service }}, helm.sh/chart: {{ template "ferry.chart" . }} }
{{- end -}}

{{- define "ferry.selector.agent" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: agent }
{{- end -}}

{{- define "ferry.labels.agent" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: agent, app.kubernetes.io/version: {{ printf "%q" .Chart.AppVersion }}, app.kubernetes.io/managed-by: {{ .Release.Service }}, helm.sh/chart: {{ template "ferry.chart" . }} }
{{- end -}}

{{- define "ferry.selector.postgres" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: postgres }
{{- end -}}

{{- define "ferry.labels.postgres" -}}
{ app.kubernetes.io/name: ferry, app.kubernetes.io/instance: {{ .Release.Name }}, app.kubernetes.io/component: postgres, app.kubernetes.io/managed-by: {{ .Release.Service }}, helm.sh/chart: {{ template "ferry.chart" . }} }
{{- end -}}

{{- /* A scalar from values as YAML: strings quoted (Go's %q is valid YAML double-quoted), numbers and booleans bare. */ -}}
{{- define "ferry.scalar" -}}
{{- if eq (printf "%T" .) "string" -}}{{ printf "%q" . }}{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{- /* The address agents dial: the API's gRPC Service, unless agent.apiUrl names another (a load balancer, an ingress). */ -}}
{{- define "ferry.agentApiUrl" -}}
{{- if .Values.agent.apiUrl -}}{{ .Values.agent.apiUrl }}{{- else -}}https://{{ .Release.Name }}-api-grpc.{{ .Release.Namespace }}.svc:{{ .Values.api.grpcService.port }}{{- end -}}
{{- end -}}

{{- /* The Secret holding the bundled PostgreSQL's password (key "password"). */ -}}
{{- define "ferry.postgresSecret" -}}
{{- if .Values.database.bundled.existingSecret -}}{{ .Values.database.bundled.existingSecret }}{{- else -}}{{ .Release.Name }}-postgres{{- end -}}
{{- end -}}
