{{/* The release's name for its objects. */}}
{{- define "molesignal.fullname" -}}
{{- printf "%s-molesignal" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "molesignal.labels" -}}
app.kubernetes.io/name: molesignal
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector of one role's pods: (dict "root" $ "role" "router") */}}
{{- define "molesignal.selector" -}}
app.kubernetes.io/name: molesignal
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "molesignal.secretName" -}}
{{- default (printf "%s-secrets" (include "molesignal.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/*
The pod spec every role shares: (dict "root" $ "role" "ingester" "values" .Values.ingester). The role is
MS_NODE.ROLES; each pod advertises its own IP to the Orleans cluster.
*/}}
{{- define "molesignal.podSpec" -}}
{{- $root := .root -}}
{{- $v := .values -}}
securityContext: {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds | default 60 }}
containers:
  - name: molesignal
    image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag }}"
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args: ["--config", "/etc/molesignal/config.toml"]
    env:
      - { name: MS_NODE.ROLES, value: {{ .role | quote }} }
      - name: MS_NODE.ID
        valueFrom: { fieldRef: { fieldPath: metadata.name } }
      - name: POD_IP
        valueFrom: { fieldRef: { fieldPath: status.podIP } }
      - { name: MS_CLUSTER.ADVERTISE_ADDR, value: "$(POD_IP):{{ $root.Values.ports.grpc }}" }
      - { name: MS_CLUSTER.CLUSTER_ID, value: {{ include "molesignal.fullname" $root | quote }} }
      - { name: MS_STORE.META.BACKEND, value: postgres }
      - { name: MS_STORE.META.MAX_CONNECTIONS, value: {{ $root.Values.store.meta.maxConnections | quote }} }
      - { name: MS_STORE.OBJECT.BACKEND, value: {{ $root.Values.store.object.backend | quote }} }
      - { name: MS_STORE.OBJECT.S3.BUCKET, value: {{ $root.Values.store.object.bucket | quote }} }
      - { name: MS_STORE.OBJECT.S3.REGION, value: {{ $root.Values.store.object.region | quote }} }
      - { name: MS_STORE.OBJECT.S3.ENDPOINT, value: {{ $root.Values.store.object.endpoint | quote }} }
      - { name: MS_STORE.OBJECT.S3.PATH_STYLE, value: {{ $root.Values.store.object.pathStyle | quote }} }
      - { name: MS_NODE.DATA_DIR, value: /data }
      - { name: MS_WAL.DIR, value: /data/wal }
      - { name: MS_HTTP.PORT, value: {{ $root.Values.ports.http | quote }} }
      - { name: MS_GRPC.PORT, value: {{ $root.Values.ports.grpc | quote }} }
      - { name: MS_CLUSTER.SILO_PORT, value: {{ $root.Values.ports.silo | quote }} }
      - { name: MS_CLUSTER.GATEWAY_PORT, value: {{ $root.Values.ports.gateway | quote }} }
    envFrom:
      - secretRef: { name: {{ include "molesignal.secretName" $root }} }
    ports:
      - { name: http, containerPort: {{ $root.Values.ports.http }} }
      - { name: grpc, containerPort: {{ $root.Values.ports.grpc }} }
      - { name: silo, containerPort: {{ $root.Values.ports.silo }} }
      - { name: gateway, containerPort: {{ $root.Values.ports.gateway }} }
    startupProbe:
      httpGet: { path: /readyz, port: http }
      periodSeconds: 5
      failureThreshold: {{ div ($v.startupSeconds | default 120) 5 }}
    livenessProbe:
      httpGet: { path: /healthz, port: http }
      periodSeconds: 10
      failureThreshold: 6
    readinessProbe:
      httpGet: { path: /readyz, port: http }
      periodSeconds: 5
    {{- if eq .role "ingester" }}
    lifecycle:
      # Refuse appends, flush every buffer, remove the WAL: a scale-down loses nothing.
      preStop:
        exec: { command: ["molesignal", "drain"] }
    {{- end }}
    resources: {{- toYaml $v.resources | nindent 6 }}
    securityContext: {{- toYaml $root.Values.securityContext | nindent 6 }}
    volumeMounts:
      - { name: config, mountPath: /etc/molesignal, readOnly: true }
      - { name: data, mountPath: /data }
      - { name: tmp, mountPath: /tmp }
volumes:
  - name: config
    configMap: { name: {{ include "molesignal.fullname" $root }}-config }
  - name: tmp
    emptyDir: {}
  {{- if ne .role "ingester" }}
  - name: data
    emptyDir: {}
  {{- end }}
{{- end -}}
