// Checks a rendered manifest stream for the mistakes that make a chart install but not work:
// objects Kubernetes would reject, selectors that select nothing, ports that do not exist,
// references to Secrets or keys that are not there, files given to a container (`--x_file=`,
// `X_FILE=`) that no volume mounts, containers that are not locked down, and
// Secret values that came from the chart's defaults.
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

type Object map[string]interface{}

type CheckOptions struct {
	// Secrets the release may reference without rendering them (existingSecret values).
	ExternalSecrets map[string]bool
	// Non-empty strings found anywhere in the chart's default values: no Secret value may be one.
	DefaultStrings map[string]bool
	// A second render of the same values: every Secret value must differ from it (generated).
	CompareSecrets []Object
}

type checker struct {
	objects         []Object
	externalSecrets map[string]bool
	failures        []string
}

func (c *checker) fail(format string, args ...interface{}) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// ParseStream parses a multi-document YAML stream; every document must be a mapping.
func ParseStream(data []byte) ([]Object, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var out []Object
	for i := 1; ; i++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return nil, fmt.Errorf("document %d does not parse: %v", i, err)
		}
		if len(node.Content) == 0 {
			continue // comments only
		}
		var obj map[string]interface{}
		if err := node.Decode(&obj); err != nil {
			return nil, fmt.Errorf("document %d is not a mapping: %v", i, err)
		}
		out = append(out, Object(obj))
	}
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func get(o interface{}, keys ...string) interface{} {
	for _, k := range keys {
		m, ok := o.(map[string]interface{})
		if !ok {
			if om, ok2 := o.(Object); ok2 {
				m = om
			} else {
				return nil
			}
		}
		o = m[k]
	}
	return o
}

func list(v interface{}) []interface{} {
	l, _ := v.([]interface{})
	return l
}

func strMap(v interface{}) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]interface{})
	for k, x := range m {
		out[k] = fmt.Sprint(x)
	}
	return out
}

func (o Object) Kind() string { return str(o["kind"]) }
func (o Object) Name() string { return str(get(o, "metadata", "name")) }
func (o Object) ID() string   { return o.Kind() + "/" + o.Name() }

// A workload's pod template, with its labels and the container ports it declares.
type podInfo struct {
	owner  Object
	labels map[string]string
	spec   map[string]interface{}
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// matchesSelector implements a LabelSelector's matchLabels and matchExpressions.
func matchesSelector(sel interface{}, labels map[string]string) bool {
	if !subset(strMap(get(sel, "matchLabels")), labels) {
		return false
	}
	for _, e := range list(get(sel, "matchExpressions")) {
		key := str(get(e, "key"))
		op := str(get(e, "operator"))
		var values []string
		for _, v := range list(get(e, "values")) {
			values = append(values, fmt.Sprint(v))
		}
		val, has := labels[key]
		in := false
		for _, v := range values {
			if v == val {
				in = true
			}
		}
		switch op {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func containers(spec map[string]interface{}) []interface{} {
	return append(append([]interface{}{}, list(spec["initContainers"])...), list(spec["containers"])...)
}

// podHasPort reports whether a pod declares a container port with this name or number.
func podHasPort(spec map[string]interface{}, port interface{}) bool {
	for _, ctr := range list(spec["containers"]) {
		if containerHasPort(ctr, port) {
			return true
		}
	}
	return false
}

func containerHasPort(ctr interface{}, port interface{}) bool {
	want := fmt.Sprint(port)
	for _, p := range list(get(ctr, "ports")) {
		if str(get(p, "name")) == want || fmt.Sprint(get(p, "containerPort")) == want {
			return true
		}
	}
	return false
}

func (c *checker) pods() []podInfo {
	var out []podInfo
	for _, o := range c.objects {
		switch o.Kind() {
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
			tmpl := get(o, "spec", "template")
			spec, _ := get(tmpl, "spec").(map[string]interface{})
			out = append(out, podInfo{owner: o, labels: strMap(get(tmpl, "metadata", "labels")), spec: spec})
		case "Job":
			tmpl := get(o, "spec", "template")
			spec, _ := get(tmpl, "spec").(map[string]interface{})
			out = append(out, podInfo{owner: o, labels: strMap(get(tmpl, "metadata", "labels")), spec: spec})
		}
	}
	return out
}

func (c *checker) find(kind, name string) Object {
	for _, o := range c.objects {
		if o.Kind() == kind && o.Name() == name {
			return o
		}
	}
	return nil
}

func (c *checker) checkBasics() {
	seen := map[string]bool{}
	for i, o := range c.objects {
		if str(o["apiVersion"]) == "" || o.Kind() == "" || o.Name() == "" {
			c.fail("object %d has no apiVersion, kind or metadata.name: %v", i+1, o)
			continue
		}
		id := o.ID() + "@" + str(get(o, "metadata", "namespace"))
		if seen[id] {
			c.fail("%s is rendered twice", o.ID())
		}
		seen[id] = true
		if len(o.Name()) > 253 || (o.Kind() == "Service" && len(o.Name()) > 63) {
			c.fail("%s: name too long", o.ID())
		}
		// A StatefulSet's pods get the label controller-revision-hash=<name>-<10-character
		// hash>; past 52 characters it exceeds 63 and the API server refuses every pod.
		if (o.Kind() == "StatefulSet" || o.Kind() == "CronJob") && len(o.Name()) > 52 {
			c.fail("%s: name longer than 52 characters (%d): its pods' labels would exceed 63", o.ID(), len(o.Name()))
		}
		labels := strMap(get(o, "metadata", "labels"))
		for k, v := range strMap(get(o, "spec", "template", "metadata", "labels")) {
			labels["pod template "+k] = v
		}
		for k, v := range labels {
			if len(v) > 63 {
				c.fail("%s: label %s value longer than 63 characters", o.ID(), k)
			}
		}
	}
}

func (c *checker) checkWorkloads() {
	for _, p := range c.pods() {
		o := p.owner
		if o.Kind() != "Job" {
			sel := get(o, "spec", "selector")
			if len(strMap(get(sel, "matchLabels"))) == 0 && len(list(get(sel, "matchExpressions"))) == 0 {
				c.fail("%s: spec.selector is empty", o.ID())
			} else if !matchesSelector(sel, p.labels) {
				c.fail("%s: spec.selector does not match the pod template's labels %v", o.ID(), p.labels)
			}
		}
		if p.spec == nil {
			c.fail("%s: no pod spec", o.ID())
			continue
		}
		volumes := map[string]interface{}{}
		for _, v := range list(p.spec["volumes"]) {
			volumes[str(get(v, "name"))] = v
		}
		for _, v := range list(get(o, "spec", "volumeClaimTemplates")) {
			volumes[str(get(v, "metadata", "name"))] = v
		}
		podSC := get(p.spec, "securityContext")
		for _, ctr := range containers(p.spec) {
			name := str(get(ctr, "name"))
			where := fmt.Sprintf("%s container %s", o.ID(), name)
			if str(get(ctr, "image")) == "" || strings.Contains(str(get(ctr, "image")), ":@") || strings.HasSuffix(str(get(ctr, "image")), ":") {
				c.fail("%s: image %q is incomplete", where, str(get(ctr, "image")))
			}
			for _, probe := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
				pr := get(ctr, probe)
				if pr == nil {
					continue
				}
				var port interface{}
				for _, kind := range []string{"httpGet", "tcpSocket", "grpc"} {
					if x := get(pr, kind, "port"); x != nil {
						port = x
					}
				}
				if port == nil {
					continue // exec probes
				}
				if !containerHasPort(ctr, port) {
					c.fail("%s: %s uses port %v, which the container does not declare", where, probe, port)
				}
			}
			sc := get(ctr, "securityContext")
			if get(sc, "allowPrivilegeEscalation") != false {
				c.fail("%s: securityContext.allowPrivilegeEscalation is not false", where)
			}
			if get(sc, "readOnlyRootFilesystem") != true {
				c.fail("%s: securityContext.readOnlyRootFilesystem is not true", where)
			}
			if get(sc, "privileged") == true {
				c.fail("%s: privileged", where)
			}
			dropsAll := false
			for _, cap := range list(get(sc, "capabilities", "drop")) {
				if fmt.Sprint(cap) == "ALL" {
					dropsAll = true
				}
			}
			if !dropsAll {
				c.fail("%s: capabilities.drop does not include ALL", where)
			}
			if len(list(get(sc, "capabilities", "add"))) > 0 {
				c.fail("%s: adds capabilities", where)
			}
			if get(sc, "runAsNonRoot") != true && get(podSC, "runAsNonRoot") != true {
				c.fail("%s: runAsNonRoot is not set", where)
			}
			if str(get(sc, "seccompProfile", "type")) != "RuntimeDefault" && str(get(podSC, "seccompProfile", "type")) != "RuntimeDefault" {
				c.fail("%s: seccompProfile is not RuntimeDefault", where)
			}
			for _, m := range list(get(ctr, "volumeMounts")) {
				if _, ok := volumes[str(get(m, "name"))]; !ok {
					c.fail("%s: volumeMount %s has no volume", where, str(get(m, "name")))
				}
			}
			for _, e := range list(get(ctr, "env")) {
				if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
					c.checkSecretKey(where+" env "+str(get(e, "name")), str(get(ref, "name")), str(get(ref, "key")))
				}
				if ref := get(e, "valueFrom", "configMapKeyRef"); ref != nil {
					if c.find("ConfigMap", str(get(ref, "name"))) == nil {
						c.fail("%s: env %s refers to ConfigMap %s, which is not rendered", where, str(get(e, "name")), str(get(ref, "name")))
					}
				}
			}
			for _, e := range list(get(ctr, "envFrom")) {
				if n := str(get(e, "secretRef", "name")); n != "" {
					c.checkSecretKey(where+" envFrom", n, "")
				}
			}
		}
		for name, v := range volumes {
			if s := get(v, "secret"); s != nil {
				secret := str(get(s, "secretName"))
				items := list(get(s, "items"))
				if len(items) == 0 {
					c.checkSecretKey(fmt.Sprintf("%s volume %s", o.ID(), name), secret, "")
				}
				for _, it := range items {
					c.checkSecretKey(fmt.Sprintf("%s volume %s", o.ID(), name), secret, str(get(it, "key")))
				}
			}
			if cm := get(v, "configMap"); cm != nil {
				if c.find("ConfigMap", str(get(cm, "name"))) == nil {
					c.fail("%s: volume %s refers to ConfigMap %s, which is not rendered", o.ID(), name, str(get(cm, "name")))
				}
			}
		}
		if sa := str(p.spec["serviceAccountName"]); sa != "" && sa != "default" && c.find("ServiceAccount", sa) == nil {
			c.fail("%s: serviceAccountName %s is not rendered", o.ID(), sa)
		}
	}
}

// checkSecretKey: a referenced Secret must be rendered and hold the key, or be declared external.
func (c *checker) checkSecretKey(where, name, key string) {
	if name == "" {
		c.fail("%s: refers to a Secret without a name", where)
		return
	}
	s := c.find("Secret", name)
	if s == nil {
		if !c.externalSecrets[name] {
			c.fail("%s: refers to Secret %s, which is neither rendered nor an existing Secret the values name", where, name)
		}
		return
	}
	if key == "" {
		return
	}
	if _, ok := secretData(s)[key]; !ok {
		c.fail("%s: Secret %s has no key %s", where, name, key)
	}
}

// secretData returns a Secret's values, decoded: data (base64) and stringData.
func secretData(s Object) map[string]string {
	out := map[string]string{}
	for k, v := range strMap(get(s, "data")) {
		dec, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			out[k] = "\x00undecodable:" + v
			continue
		}
		out[k] = string(dec)
	}
	for k, v := range strMap(get(s, "stringData")) {
		out[k] = v
	}
	return out
}

func (c *checker) checkServices() {
	pods := c.pods()
	for _, o := range c.objects {
		if o.Kind() != "Service" {
			continue
		}
		sel := strMap(get(o, "spec", "selector"))
		if len(sel) == 0 {
			c.fail("%s: no selector", o.ID())
			continue
		}
		var matched []podInfo
		for _, p := range pods {
			if subset(sel, p.labels) {
				matched = append(matched, p)
			}
		}
		if len(matched) == 0 {
			c.fail("%s: selector %v matches no pod template", o.ID(), sel)
			continue
		}
		for _, port := range list(get(o, "spec", "ports")) {
			target := get(port, "targetPort")
			if target == nil {
				target = get(port, "port")
			}
			for _, p := range matched {
				if !podHasPort(p.spec, target) {
					c.fail("%s: port %s targets %v, which %s does not declare", o.ID(), str(get(port, "name")), target, p.owner.ID())
				}
			}
		}
	}
}

func (c *checker) podsMatching(sel interface{}) []podInfo {
	var out []podInfo
	for _, p := range c.pods() {
		if matchesSelector(sel, p.labels) {
			out = append(out, p)
		}
	}
	return out
}

func (c *checker) checkPolicies() {
	for _, o := range c.objects {
		switch o.Kind() {
		case "PodDisruptionBudget":
			if len(c.podsMatching(get(o, "spec", "selector"))) == 0 {
				c.fail("%s: selector matches no pod template", o.ID())
			}
			if get(o, "spec", "minAvailable") != nil && get(o, "spec", "maxUnavailable") != nil {
				c.fail("%s: sets both minAvailable and maxUnavailable", o.ID())
			}
		case "HorizontalPodAutoscaler":
			ref := get(o, "spec", "scaleTargetRef")
			if c.find(str(get(ref, "kind")), str(get(ref, "name"))) == nil {
				c.fail("%s: scaleTargetRef %s/%s is not rendered", o.ID(), str(get(ref, "kind")), str(get(ref, "name")))
			}
		case "NetworkPolicy":
			sel := get(o, "spec", "podSelector")
			selected := c.podsMatching(sel)
			if len(selected) == 0 {
				c.fail("%s: podSelector matches no pod template", o.ID())
			}
			for _, rule := range list(get(o, "spec", "ingress")) {
				for _, port := range list(get(rule, "ports")) {
					p := get(port, "port")
					if p == nil {
						continue
					}
					for _, pod := range selected {
						if !podHasPort(pod.spec, p) {
							c.fail("%s: ingress port %v is not declared by %s", o.ID(), p, pod.owner.ID())
						}
					}
				}
				for _, from := range list(get(rule, "from")) {
					// A podSelector naming one of the release's components (and no namespace)
					// must select that component's pods: a typo would silently cut a caller off.
					// Selectors of pods outside the chart (admin clients) cannot be checked here.
					if ps := get(from, "podSelector"); ps != nil && get(from, "namespaceSelector") == nil {
						if _, ok := strMap(get(ps, "matchLabels"))["app.kubernetes.io/component"]; ok && len(c.podsMatching(ps)) == 0 {
							c.fail("%s: ingress from podSelector %v matches no pod template", o.ID(), strMap(get(ps, "matchLabels")))
						}
					}
				}
			}
		case "Ingress":
			for _, rule := range list(get(o, "spec", "rules")) {
				for _, p := range list(get(rule, "http", "paths")) {
					svc := get(p, "backend", "service")
					s := c.find("Service", str(get(svc, "name")))
					if s == nil {
						c.fail("%s: backend Service %s is not rendered", o.ID(), str(get(svc, "name")))
						continue
					}
					want := get(svc, "port", "name")
					if want == nil {
						want = get(svc, "port", "number")
					}
					found := false
					for _, sp := range list(get(s, "spec", "ports")) {
						if fmt.Sprint(want) == str(get(sp, "name")) || fmt.Sprint(want) == fmt.Sprint(get(sp, "port")) {
							found = true
						}
					}
					if !found {
						c.fail("%s: Service %s has no port %v", o.ID(), s.Name(), want)
					}
				}
			}
		case "ServiceMonitor":
			sel := get(o, "spec", "selector")
			var matched []Object
			for _, s := range c.objects {
				if s.Kind() == "Service" && matchesSelector(sel, strMap(get(s, "metadata", "labels"))) {
					matched = append(matched, s)
				}
			}
			if len(matched) == 0 {
				c.fail("%s: selector matches no Service", o.ID())
			}
			for _, ep := range list(get(o, "spec", "endpoints")) {
				port := str(get(ep, "port"))
				for _, s := range matched {
					found := false
					for _, sp := range list(get(s, "spec", "ports")) {
						if str(get(sp, "name")) == port {
							found = true
						}
					}
					if !found {
						c.fail("%s: Service %s has no port named %s", o.ID(), s.Name(), port)
					}
				}
			}
		}
	}
}

func (c *checker) checkSecrets(o CheckOptions) {
	other := map[string]map[string]string{}
	for _, s := range o.CompareSecrets {
		if s.Kind() == "Secret" {
			other[s.Name()] = secretData(s)
		}
	}
	for _, s := range c.objects {
		if s.Kind() != "Secret" {
			continue
		}
		data := secretData(s)
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := data[k]
			if strings.HasPrefix(v, "\x00undecodable:") {
				c.fail("Secret/%s: key %s is not valid base64", s.Name(), k)
				continue
			}
			if strings.TrimSpace(v) == "" {
				c.fail("Secret/%s: key %s is empty", s.Name(), k)
			}
			for d := range o.DefaultStrings {
				if v == d || (len(d) >= 8 && strings.Contains(v, d)) {
					c.fail("Secret/%s: key %s holds %q from the chart's default values", s.Name(), k, d)
				}
			}
			if prev, ok := other[s.Name()]; o.CompareSecrets != nil && ok {
				if prev[k] == v {
					c.fail("Secret/%s: key %s is the same in two renders, so it is fixed by the chart rather than generated", s.Name(), k)
				}
			}
		}
	}
}

// DefaultStrings collects every non-empty string in a values file, the values a Secret must
// never carry. Short ones ("true", "us") cannot be secrets and would only match by accident.
func DefaultStrings(file string) (map[string]bool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v interface{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var walk func(interface{})
	walk = func(x interface{}) {
		switch t := x.(type) {
		case map[string]interface{}:
			for _, y := range t {
				walk(y)
			}
		case []interface{}:
			for _, y := range t {
				walk(y)
			}
		case string:
			if len(t) >= 6 {
				out[t] = true
			}
		}
	}
	walk(v)
	return out, nil
}

func Check(objects []Object, o CheckOptions) []string {
	c := &checker{objects: objects, externalSecrets: o.ExternalSecrets}
	c.checkBasics()
	c.checkWorkloads()
	c.checkFileRefs()
	c.checkServices()
	c.checkPolicies()
	c.checkSecrets(o)
	return c.failures
}

// fileRef is a file a container is told to read: a `--<name>_file=/path` argument or a
// `<NAME>_FILE=/path` environment variable.
type fileRef struct {
	what string // "--tls_cert_file" or "env BASTION_TLS_CA_FILE"
	path string
}

func fileRefs(ctr interface{}) []fileRef {
	var out []fileRef
	for _, a := range list(get(ctr, "args")) {
		s := fmt.Sprint(a)
		eq := strings.Index(s, "=")
		if !strings.HasPrefix(s, "--") || eq < 0 || !strings.HasSuffix(s[:eq], "_file") {
			continue
		}
		if p := s[eq+1:]; strings.HasPrefix(p, "/") {
			out = append(out, fileRef{s[:eq], p})
		}
	}
	for _, e := range list(get(ctr, "env")) {
		name, value := str(get(e, "name")), str(get(e, "value"))
		if strings.HasSuffix(name, "_FILE") && strings.HasPrefix(value, "/") {
			out = append(out, fileRef{"env " + name, value})
		}
	}
	return out
}

// fileSource says where the file at path p comes from in a container: "Secret/<name>:<key>",
// "ConfigMap/<name>:<key>", or "volume <name>" for other volumes; an error when no volumeMount
// provides it or the mounted Secret/ConfigMap does not project that file.
func fileSource(ctr interface{}, volumes map[string]interface{}, p string) (string, error) {
	var mount interface{}
	best := ""
	for _, m := range list(get(ctr, "volumeMounts")) {
		mp := strings.TrimSuffix(str(get(m, "mountPath")), "/")
		if (p == mp || strings.HasPrefix(p, mp+"/")) && len(mp) > len(best) {
			mount, best = m, mp
		}
	}
	if mount == nil {
		return "", fmt.Errorf("%s is under no volumeMount", p)
	}
	name := str(get(mount, "name"))
	rel := strings.TrimPrefix(strings.TrimPrefix(p, best), "/")
	if sub := str(get(mount, "subPath")); sub != "" {
		rel = strings.TrimSuffix(sub+"/"+rel, "/")
	}
	v, ok := volumes[name]
	if !ok {
		return "", fmt.Errorf("%s is mounted from volume %s, which the pod does not declare", p, name)
	}
	for _, kind := range []struct{ field, object, nameKey string }{
		{"secret", "Secret", "secretName"}, {"configMap", "ConfigMap", "name"},
	} {
		src := get(v, kind.field)
		if src == nil {
			continue
		}
		object := str(get(src, kind.nameKey))
		items := list(get(src, "items"))
		if len(items) == 0 {
			if rel == "" || strings.Contains(rel, "/") {
				return "", fmt.Errorf("%s is not a key of volume %s (%s %s)", p, name, kind.object, object)
			}
			return fmt.Sprintf("%s/%s:%s", kind.object, object, rel), nil
		}
		var paths []string
		for _, it := range items {
			if str(get(it, "path")) == rel {
				return fmt.Sprintf("%s/%s:%s", kind.object, object, str(get(it, "key"))), nil
			}
			paths = append(paths, str(get(it, "path")))
		}
		return "", fmt.Errorf("%s is not projected by volume %s (%s %s projects only %v)", p, name, kind.object, object, paths)
	}
	return "volume " + name, nil
}

func podVolumes(spec map[string]interface{}) map[string]interface{} {
	volumes := map[string]interface{}{}
	for _, v := range list(spec["volumes"]) {
		volumes[str(get(v, "name"))] = v
	}
	return volumes
}

// checkFileRefs: every file a container is told to read must be mounted into it.
func (c *checker) checkFileRefs() {
	for _, p := range c.pods() {
		if p.spec == nil {
			continue
		}
		volumes := podVolumes(p.spec)
		for _, ctr := range containers(p.spec) {
			for _, ref := range fileRefs(ctr) {
				if _, err := fileSource(ctr, volumes, ref.path); err != nil {
					c.fail("%s container %s: %s points at a file that is not mounted: %v", p.owner.ID(), str(get(ctr, "name")), ref.what, err)
				}
			}
		}
	}
}

// FileSources lists, for a workload, every file its containers are told to read and where it
// comes from: "<container> <flag or env> <path> <source or error>".
func FileSources(objects []Object, kind, name string) ([]string, bool) {
	c := &checker{objects: objects}
	for _, p := range c.pods() {
		if p.owner.Kind() != kind || p.owner.Name() != name || p.spec == nil {
			continue
		}
		var out []string
		volumes := podVolumes(p.spec)
		for _, ctr := range containers(p.spec) {
			for _, ref := range fileRefs(ctr) {
				src, err := fileSource(ctr, volumes, ref.path)
				if err != nil {
					src = "NOT MOUNTED: " + err.Error()
				}
				out = append(out, fmt.Sprintf("%s %s %s %s", str(get(ctr, "name")), ref.what, ref.path, src))
			}
		}
		return out, true
	}
	return nil, false
}
