{{/* Labels every object carries; selectors use only name, instance and component. */}}
{{- define "firstline.labels" -}}
app.kubernetes.io/name: firstline
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "firstline.selector" -}}
app.kubernetes.io/name: firstline
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "firstline.serviceAccount" -}}
{{ .Values.serviceAccount.name | default .Release.Name }}
{{- end -}}

{{- define "firstline.image" -}}
{{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end -}}

{{/* The pod parts serve and worker share: hardening, probes, mounts, volumes.
     Called with (dict "root" $ "component" "serve" "port" "http"). */}}
{{- define "firstline.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
topologySpreadConstraints:
{{- range list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
  - maxSkew: 1
    topologyKey: {{ . }}
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "firstline.selector" $.root | nindent 8 }}
        app.kubernetes.io/component: {{ $.component }}
{{- end }}
{{- end -}}

{{- define "firstline.probes" -}}
startupProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .port }}
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .port }}
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 2
{{- end -}}

{{- define "firstline.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
volumeMounts:
  - name: config
    mountPath: /etc/firstline
    readOnly: true
  - name: tmp
    mountPath: /tmp
  - name: data
    mountPath: /var/lib/firstline
{{- end -}}

{{- define "firstline.volumes" -}}
volumes:
  - name: config
    configMap:
      name: {{ .Release.Name }}-config
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  - name: data
    emptyDir:
      sizeLimit: 256Mi
{{- end -}}

{{- define "firstline.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}
