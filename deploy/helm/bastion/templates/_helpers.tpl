{{/*
Names, labels and the pieces every service's objects share.
*/}}

{{- define "bastion.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's base name. Truncated so that "<fullname>-governance" still fits the 63 characters
of a DNS label (Service names).
*/}}
{{- define "bastion.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "bastion.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<fullname>-<component>"; call with (dict "root" $ "component" "tenant"). */}}
{{- define "bastion.componentName" -}}
{{- printf "%s-%s" (include "bastion.fullname" .root) .component -}}
{{- end -}}

{{/*
The bundled PostgreSQL's StatefulSet and Service name, also the database host in the Secret.
Capped at 52 characters: a StatefulSet's pods carry a controller-revision-hash label of
"<name>-<10-character hash>", which Kubernetes refuses beyond 63, so a longer name would leave the
StatefulSet with no pod. The fullname is cut, not the suffix, so the name still says what it is.
*/}}
{{- define "bastion.postgres.name" -}}
{{- printf "%s-postgres" (include "bastion.fullname" . | trunc 43 | trimSuffix "-") -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "tenant"). */}}
{{- define "bastion.labels" -}}
helm.sh/chart: {{ include "bastion.chart" .root }}
{{ include "bastion.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: bastion
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select one component's pods; call with (dict "root" $ "component" "tenant"). */}}
{{- define "bastion.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bastion.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{/* metadata.annotations from commonAnnotations plus `extra`; call with (dict "root" $ "extra" map). */}}
{{- define "bastion.annotations" -}}
{{- $all := merge (dict) (.extra | default dict) (.root.Values.commonAnnotations | default dict) -}}
{{- if $all -}}
annotations:
  {{- toYaml $all | nindent 2 }}
{{- end -}}
{{- end -}}

{{- define "bastion.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "bastion.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image of a service; call with (dict "root" $ "service" .Values.tenant). */}}
{{- define "bastion.image" -}}
{{- $repo := .service.image.repository | default .root.Values.image.repository -}}
{{- if .root.Values.image.digest -}}
{{- printf "%s@%s" $repo .root.Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (.service.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* A service's gRPC address inside the cluster; call with (dict "root" $ "component" "tenant"). */}}
{{- define "bastion.grpcAddress" -}}
{{- $svc := index .root.Values .component -}}
{{- printf "%s:%d" (include "bastion.componentName" .) (int $svc.service.grpcPort) -}}
{{- end -}}

{{/* ---- Secrets: which Secret and key each one is read from ---- */}}

{{- define "bastion.database.secretName" -}}
{{- .Values.database.existingSecret | default (printf "%s-database" (include "bastion.fullname" .)) -}}
{{- end -}}
{{- define "bastion.database.secretKey" -}}
{{- if .Values.database.existingSecret -}}{{ .Values.database.existingSecretKey }}{{- else -}}database-url{{- end -}}
{{- end -}}

{{- define "bastion.operatorToken.secretName" -}}
{{- .Values.secrets.operatorToken.existingSecret | default (printf "%s-operator-token" (include "bastion.fullname" .)) -}}
{{- end -}}
{{- define "bastion.operatorToken.secretKey" -}}
{{- if .Values.secrets.operatorToken.existingSecret -}}{{ .Values.secrets.operatorToken.existingSecretKey }}{{- else -}}operator-token{{- end -}}
{{- end -}}

{{- define "bastion.identities.secretName" -}}
{{- .Values.secrets.serviceIdentities.existingSecret | default (printf "%s-service-identities" (include "bastion.fullname" .)) -}}
{{- end -}}

{{- define "bastion.kek.secretName" -}}
{{- .Values.secrets.kek.existingSecret | default (printf "%s-kek" (include "bastion.fullname" .)) -}}
{{- end -}}
{{- define "bastion.kek.secretKey" -}}
{{- if .Values.secrets.kek.existingSecret -}}{{ .Values.secrets.kek.existingSecretKey }}{{- else -}}kek{{- end -}}
{{- end -}}

{{- define "bastion.sessionKeys.secretName" -}}
{{- .Values.secrets.sessionKeys.existingSecret | default (printf "%s-session-keys" (include "bastion.fullname" .)) -}}
{{- end -}}
{{- define "bastion.sessionKeys.secretKey" -}}
{{- if .Values.secrets.sessionKeys.existingSecret -}}{{ .Values.secrets.sessionKeys.existingSecretKey }}{{- else -}}session-keys{{- end -}}
{{- end -}}

{{/*
A secret value that is neither given nor in an existing Secret: the one this release stored
before (looked up on upgrade), else a fresh one from `generate` on first install. For keys
whose loss loses data (`precious`), an upgrade that finds nothing fails rather than silently
generating a different value. Call with
(dict "root" $ "secret" NAME "key" KEY "value" GIVEN "generate" FRESH "precious" BOOL).
Prints the value base64-encoded, ready for `data:`.
*/}}
{{- define "bastion.secretValue" -}}
{{- if .value -}}
{{- .value | b64enc -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- $data := dict -}}
{{- if $existing -}}{{- $data = $existing.data | default dict -}}{{- end -}}
{{- if hasKey $data .key -}}
{{- index $data .key -}}
{{- else if and .precious .root.Release.IsUpgrade -}}
{{- fail (printf "Secret %s has no key %s to keep, and generating a new one during an upgrade would make existing data unreadable. Restore the Secret, or set the value or an existingSecret." .secret .key) -}}
{{- else -}}
{{- .generate | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Secret metadata shared by the chart-created Secrets; call with (dict "root" $ "name" NAME "component" C). */}}
{{- define "bastion.secretMetadata" -}}
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "bastion.labels" (dict "root" .root "component" .component) | nindent 4 }}
  {{- $extra := dict -}}
  {{- if .root.Values.secrets.keep }}{{ $_ := set $extra "helm.sh/resource-policy" "keep" }}{{ end }}
  {{- with include "bastion.annotations" (dict "root" .root "extra" $extra) }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* ---- TLS between the services (values `tls`, docs/security.md) ---- */}}

{{/* The Secret holding a component's certificate; fails rendering when TLS is on and it is not named.
Call with (dict "root" $ "component" "vault"). */}}
{{- define "bastion.tls.secretName" -}}
{{- $secrets := .root.Values.tls.existingSecrets | default dict -}}
{{- required (printf "tls.enabled needs tls.existingSecrets.%s: the name of a kubernetes.io/tls Secret holding the %s certificate (tls.crt, tls.key and ca.crt, as cert-manager writes them)." .component .component) (index $secrets .component) -}}
{{- end -}}

{{/*
What TLS adds to a service's container, as YAML {args, volumes, volumeMounts} (all empty while
tls.enabled is off): its certificate Secret mounted read-only, and the flags reading it. The
certificate is also the client certificate shown to the services it calls, and ca.crt the CA
both of the services it calls and, under tls.mutual, of its callers. Call with
(dict "root" $ "component" "vault"); use with `| fromYaml`.
*/}}
{{- define "bastion.tls" -}}
{{- $tls := .root.Values.tls -}}
{{- if $tls.enabled -}}
args:
  - --tls_cert_file=/etc/bastion/tls/tls.crt
  - --tls_key_file=/etc/bastion/tls/tls.key
  - --tls_ca_file=/etc/bastion/tls/ca.crt
  {{- if $tls.mutual }}
  - --tls_client_ca_file=/etc/bastion/tls/ca.crt
  {{- end }}
volumes:
  - name: tls
    secret:
      secretName: {{ include "bastion.tls.secretName" . }}
      defaultMode: 288
      items:
        - {key: tls.crt, path: tls.crt}
        - {key: tls.key, path: tls.key}
        - {key: ca.crt, path: ca.crt}
volumeMounts:
  - name: tls
    mountPath: /etc/bastion/tls
    readOnly: true
{{- else -}}
args: []
volumes: []
volumeMounts: []
{{- end -}}
{{- end -}}

{{/* "true" when services prove who they are with tokens, empty when only by certificate (tls.certificateIdentities). */}}
{{- define "bastion.serviceTokens" -}}
{{- if not .Values.tls.certificateIdentities -}}true{{- end -}}
{{- end -}}

{{/* Refuses configurations that would install but not run. Included by every service template. */}}
{{- define "bastion.validate" -}}
{{- $db := 0 -}}
{{- if .Values.database.url }}{{ $db = add1 $db }}{{ end -}}
{{- if .Values.database.existingSecret }}{{ $db = add1 $db }}{{ end -}}
{{- if .Values.postgres.enabled }}{{ $db = add1 $db }}{{ end -}}
{{- if eq $db 0 -}}
{{- fail "Bastion needs a PostgreSQL database: set database.existingSecret (a Secret holding the URL) or database.url, or postgres.enabled=true to try the chart out with a bundled single-node PostgreSQL (not for production)." -}}
{{- end -}}
{{- if gt $db 1 -}}
{{- fail "Set only one of database.url, database.existingSecret and postgres.enabled." -}}
{{- end -}}
{{- if and .Values.edge.ingress.enabled (not .Values.edge.ingress.hosts) -}}
{{- fail "edge.ingress.enabled needs at least one host in edge.ingress.hosts." -}}
{{- end -}}
{{- if and .Values.edge.publicUrl (not (hasPrefix "https://" .Values.edge.publicUrl)) (not (hasPrefix "http://" .Values.edge.publicUrl)) -}}
{{- fail "edge.publicUrl must be an http(s) URL such as https://mcp.example.com." -}}
{{- end -}}
{{- if and .Values.tls.mutual (not .Values.tls.enabled) -}}
{{- fail "tls.mutual needs tls.enabled=true (and a certificate Secret per service in tls.existingSecrets)." -}}
{{- end -}}
{{- if and .Values.tls.certificateIdentities (not .Values.tls.mutual) -}}
{{- fail "tls.certificateIdentities needs tls.mutual=true: without client certificates a service listed by name alone could never call." -}}
{{- end -}}
{{- end -}}

{{/*
The pod spec parts every Bastion service shares. Call with
(dict "root" $ "component" "tenant" "service" .Values.tenant "args" LIST "env" LIST
      "volumes" LIST "volumeMounts" LIST "ports" LIST).
*/}}
{{- define "bastion.podTemplate" -}}
{{- $root := .root -}}
{{- $svc := .service -}}
metadata:
  labels:
    {{- include "bastion.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
    app.kubernetes.io/part-of: bastion
    {{- with $svc.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $ann := merge (dict) ($svc.podAnnotations | default dict) -}}
  {{- if $root.Values.metrics.scrapeAnnotations -}}
  {{- $_ := set $ann "prometheus.io/scrape" "true" -}}
  {{- $_ := set $ann "prometheus.io/port" (printf "%d" (int $svc.service.metricsPort)) -}}
  {{- $_ := set $ann "prometheus.io/path" "/metrics" -}}
  {{- end }}
  {{- with $ann }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "bastion.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ int $svc.terminationGracePeriodSeconds }}
  {{- with $svc.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with $svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $svc.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml $svc.topologySpreadConstraints | nindent 4 }}
  {{- else if $root.Values.defaultTopologySpread }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "bastion.selectorLabels" (dict "root" $root "component" .component) | nindent 10 }}
  {{- end }}
  containers:
    - name: {{ .component }}
      image: {{ include "bastion.image" (dict "root" $root "service" $svc) }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      command:
        - /usr/local/bin/bastion-{{ .component }}
      args:
        {{- toYaml (concat .args (list (printf "--log_level=%s" $root.Values.logLevel)) ($svc.extraArgs | default list)) | nindent 8 }}
      {{- $env := concat (.env | default list) ($svc.extraEnv | default list) }}
      {{- with $env }}
      env:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      ports:
        {{- toYaml .ports | nindent 8 }}
      {{- if $svc.startupProbe.enabled }}
      startupProbe:
        httpGet:
          path: /healthz
          port: metrics
        {{- toYaml (omit $svc.startupProbe "enabled") | nindent 8 }}
      {{- end }}
      {{- if $svc.livenessProbe.enabled }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: metrics
        {{- toYaml (omit $svc.livenessProbe "enabled") | nindent 8 }}
      {{- end }}
      {{- if $svc.readinessProbe.enabled }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: metrics
        {{- toYaml (omit $svc.readinessProbe "enabled") | nindent 8 }}
      {{- end }}
      {{- if gt (int $svc.preStopSleepSeconds) 0 }}
      lifecycle:
        preStop:
          exec:
            command: ["/bin/sleep", "{{ int $svc.preStopSleepSeconds }}"]
      {{- end }}
      resources:
        {{- toYaml $svc.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- with .volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $svc.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- with .volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $svc.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* Deployment + Service + PodDisruptionBudget of one service. Same arguments as bastion.podTemplate, plus
"servicePorts" and "autoscaled" (leave replicas to an HPA). */}}
{{- define "bastion.serviceObjects" -}}
{{- $root := .root -}}
{{- $svc := .service -}}
{{- $ctx := dict "root" $root "component" .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "bastion.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "bastion.labels" $ctx | nindent 4 }}
  {{- with include "bastion.annotations" (dict "root" $root) }}
  {{- . | nindent 2 }}
  {{- end }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ int $svc.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "bastion.selectorLabels" $ctx | nindent 6 }}
  template:
    {{- include "bastion.podTemplate" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "bastion.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "bastion.labels" $ctx | nindent 4 }}
  {{- with include "bastion.annotations" (dict "root" $root "extra" $svc.service.annotations) }}
  {{- . | nindent 2 }}
  {{- end }}
spec:
  type: {{ $svc.service.type }}
  {{- if and $svc.service.headless (eq $svc.service.type "ClusterIP") }}
  clusterIP: None
  {{- end }}
  selector:
    {{- include "bastion.selectorLabels" $ctx | nindent 4 }}
  ports:
    {{- toYaml .servicePorts | nindent 4 }}
{{- if $svc.pdb.create }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "bastion.componentName" $ctx }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "bastion.labels" $ctx | nindent 4 }}
spec:
  {{- if and (not (kindIs "invalid" $svc.pdb.minAvailable)) (ne (toString $svc.pdb.minAvailable) "") }}
  minAvailable: {{ $svc.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $svc.pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "bastion.selectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- end -}}

{{/* Container and Service ports of a gRPC service; call with the service's values. */}}
{{- define "bastion.grpcContainerPorts" -}}
- name: grpc
  containerPort: {{ int .service.grpcPort }}
  protocol: TCP
- name: metrics
  containerPort: {{ int .service.metricsPort }}
  protocol: TCP
{{- end -}}
{{- define "bastion.grpcServicePorts" -}}
- name: grpc
  port: {{ int .service.grpcPort }}
  targetPort: grpc
  protocol: TCP
  appProtocol: grpc
- name: metrics
  port: {{ int .service.metricsPort }}
  targetPort: metrics
  protocol: TCP
  appProtocol: http
{{- end -}}
