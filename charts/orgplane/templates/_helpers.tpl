{{- define "orgplane.labels" -}}
app.kubernetes.io/name: orgplane
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "orgplane.selector" -}}
app.kubernetes.io/name: orgplane
control-plane: controller-manager
{{- end -}}

{{- define "orgplane.checkNamespace" -}}
{{- if ne .Release.Namespace "orgplane-system" -}}
{{- fail "install orgplane into namespace orgplane-system (-n orgplane-system --create-namespace)" -}}
{{- end -}}
{{- if not (has .Values.certificates.mode (list "self" "cert-manager")) -}}
{{- fail "certificates.mode must be self or cert-manager" -}}
{{- end -}}
{{- end -}}
