{{/* Names, labels and the parts every pod shares. */}}

{{- define "platform-bot.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "platform-bot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: fullname-serve, fullname-worker, … */}}
{{- define "platform-bot.componentName" -}}
{{- printf "%s-%s" (include "platform-bot.fullname" .root | trunc 55 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "platform-bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "platform-bot.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "platform-bot.labels" -}}
{{ include "platform-bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "platform-bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "platform-bot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "platform-bot.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
What a mode cannot start without, said with the key to set (checked before anything renders).
*/}}
{{- define "platform-bot.checkValues" -}}
{{- $needed := list "SLACK_BOT_TOKEN" "DATABASE_URL" -}}
{{- if eq .Values.mode "http" -}}
{{- $needed = append $needed "SLACK_SIGNING_SECRET" -}}
{{- else -}}
{{- $needed = append $needed "SLACK_APP_TOKEN" -}}
{{- end -}}
{{- range $needed -}}
{{- if not (hasKey $.Values.secretEnv .) -}}
{{- fail (printf "secretEnv.%s: required in %s mode (a {secretName, key} of a Secret you create)" . $.Values.mode) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.ingress.enabled (eq .Values.mode "socket") -}}
{{- fail "ingress.enabled: Socket Mode receives nothing over HTTP; set mode: http or disable the ingress" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) -}}
{{- fail "ingress.host: required when ingress.enabled is true" -}}
{{- end -}}
{{- end -}}

{{/*
The platform config as the pods read it: `.Values.config`, with `jobs.run_in: workers` while
the worker Deployment runs (serve/socket then only ack and enqueue), else as given.
*/}}
{{- define "platform-bot.platformConfig" -}}
{{- $config := deepCopy .Values.config -}}
{{- if .Values.worker.enabled -}}
{{- $jobs := deepCopy (default (dict) (get $config "jobs")) -}}
{{- $_ := set $jobs "run_in" "workers" -}}
{{- $_ := set $config "jobs" $jobs -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
The environment of every container: plain settings, secrets by reference (of the two Slack
credentials, only the one the mode uses).
*/}}
{{- define "platform-bot.env" -}}
- name: PLATFORM_CONFIG
  value: /etc/platform-bot/platform.yaml
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- $otherMode := ternary "SLACK_APP_TOKEN" "SLACK_SIGNING_SECRET" (eq .Values.mode "http") }}
{{- range $name, $ref := .Values.secretEnv }}
{{- if ne $name $otherMode }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level fields shared by every workload; `.component` names the role. */}}
{{- define "platform-bot.podSpec" -}}
serviceAccountName: {{ include "platform-bot.serviceAccountName" .root }}
automountServiceAccountToken: {{ .root.Values.serviceAccount.automountToken }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if .root.Values.spreadAcrossNodes }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "platform-bot.selectorLabels" . | nindent 8 }}
{{- end }}
volumes:
  - name: config
    configMap:
      name: {{ include "platform-bot.fullname" .root }}
  - name: data
    emptyDir: {}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{- define "platform-bot.volumeMounts" -}}
- name: config
  mountPath: /etc/platform-bot
  readOnly: true
- name: data
  mountPath: /var/lib/platform-bot
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "platform-bot.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* httpGet probes on a named port (serve: http, worker: health). */}}
{{- define "platform-bot.probes" -}}
{{- $p := .root.Values.probes -}}
startupProbe:
  httpGet: {path: {{ $p.liveness.path }}, port: {{ .port }}}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
readinessProbe:
  httpGet: {path: {{ $p.readiness.path }}, port: {{ .port }}}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
livenessProbe:
  httpGet: {path: {{ $p.liveness.path }}, port: {{ .port }}}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}
