// Renders a Helm chart the way `helm template` does, for checking the chart on machines where
// Helm itself cannot be installed. It follows Helm 3's engine (helm.sh/helm/v3/pkg/engine):
// Go text/template with sprig's functions minus env/expandenv, plus Helm's include, tpl,
// required, lookup (empty, as in `helm template`), toYaml/fromYaml/toJson/fromJson; values
// coalesced from values.yaml, -f files and --set; numbers from YAML become float64 as in Helm,
// so a template that prints a large number without `int` shows the same 1e+06 bug it would show
// under Helm; "<no value>" is erased; manifests are split on `---` and empty ones dropped.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// Files is .Files: the chart's files outside templates/ and its Chart.yaml/values.yaml.
type Files map[string][]byte

func (f Files) Get(name string) string     { return string(f[name]) }
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob returns the files whose names match a path.Match pattern.
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// Lines splits a file into lines, as Helm's Files.Lines does.
func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\n")
}

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]interface{}
}

type Release struct {
	Name      string
	Namespace string
	IsInstall bool
	IsUpgrade bool
	Revision  int
	Service   string
}

type RenderOptions struct {
	ChartDir    string
	ValueFiles  []string
	Sets        []string
	Release     Release
	KubeVersion string
	APIVersions []string
}

type Rendered struct {
	Manifests []Manifest // in template-name order
	Notes     string
}

type Manifest struct {
	Source  string // e.g. bastion/templates/edge-deployment.yaml
	Content string
}

const recursionMax = 1000

// toFloats turns every integer decoded from YAML into float64, as Helm's JSON-based decoding does.
func toFloats(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = toFloats(x)
		}
		return t
	case []interface{}:
		for i, x := range t {
			t[i] = toFloats(x)
		}
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	default:
		return v
	}
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return toFloats(m).(map[string]interface{}), nil
}

// coalesce merges src over dst the way Helm merges user values over chart defaults: maps merge
// key by key, anything else replaces, and a null deletes the key.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sm, sok := v.(map[string]interface{})
		dm, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = coalesce(dm, sm)
		} else {
			dst[k] = v
		}
	}
	return dst
}

// parseSet applies one --set a.b.c=value, typed as Helm's strvals types it (int64, bool, null,
// otherwise string). Lists and escaped dots are not supported: the chart's tests do not need them.
func parseSet(vals map[string]interface{}, expr string) error {
	eq := strings.Index(expr, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want key=value", expr)
	}
	keys := strings.Split(expr[:eq], ".")
	raw := expr[eq+1:]
	var value interface{} = raw
	switch {
	case raw == "true":
		value = true
	case raw == "false":
		value = false
	case raw == "null":
		value = nil
	default:
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil && (raw == "0" || !strings.HasPrefix(raw, "0")) {
			value = n
		}
	}
	m := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	last := keys[len(keys)-1]
	if value == nil {
		delete(m, last)
	} else {
		m[last] = value
	}
	return nil
}

// chartMetadata maps Chart.yaml keys onto the field names templates use (.Chart.AppVersion).
func chartMetadata(file string) (map[string]interface{}, error) {
	raw, err := readYAMLMap(file)
	if err != nil {
		return nil, err
	}
	special := map[string]string{"apiVersion": "APIVersion", "appVersion": "AppVersion", "kubeVersion": "KubeVersion"}
	out := map[string]interface{}{}
	for k, v := range raw {
		name, ok := special[k]
		if !ok {
			name = strings.ToUpper(k[:1]) + k[1:]
		}
		out[name] = v
	}
	if out["Name"] == nil || out["Version"] == nil {
		return nil, fmt.Errorf("%s: name and version are required", file)
	}
	return out, nil
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	enc.Close()
	out := strings.TrimSuffix(buf.String(), "\n")
	// A nil or empty value: Helm prints "null"/"{}", which yaml.v3 also does.
	return out
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return toFloats(m).(map[string]interface{})
}

func fromYAMLArray(s string) []interface{} {
	var a []interface{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		return []interface{}{err.Error()}
	}
	return toFloats(a).([]interface{})
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// funcMap is Helm's: sprig without env/expandenv, plus Helm's own. include and tpl are bound to
// the template set per render (they need it), as Helm's engine does in initFunMap.
func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, fmt.Errorf("%s", warn)
			}
			if s, ok := val.(string); ok && s == "" {
				return val, fmt.Errorf("%s", warn)
			}
			return val, nil
		},
		// `helm template` has no cluster: lookup finds nothing.
		"lookup": func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		"include": func(string, interface{}) string { return "not implemented" },
		"tpl":     func(string, interface{}) string { return "not implemented" },
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func bindIncludeAndTpl(t *template.Template) {
	included := map[string]int{}
	var include func(name string, data interface{}) (string, error)
	include = func(name string, data interface{}) (string, error) {
		included[name]++
		defer func() { included[name]-- }()
		if included[name] > recursionMax {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	tpl := func(text string, vals interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone.Option("missingkey=zero")
		bindIncludeAndTpl(clone)
		name := "tpl"
		if m, ok := vals.(map[string]interface{}); ok {
			if tm, ok := m["Template"].(map[string]interface{}); ok {
				if n, ok := tm["Name"].(string); ok {
					name = n
				}
			}
		}
		parsed, err := clone.New(name).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	t.Funcs(template.FuncMap{"include": include, "tpl": tpl})
}

var manifestSep = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

func Render(o RenderOptions) (*Rendered, error) {
	meta, err := chartMetadata(filepath.Join(o.ChartDir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	chartName := meta["Name"].(string)
	values, err := readYAMLMap(filepath.Join(o.ChartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, f := range o.ValueFiles {
		user, err := readYAMLMap(f)
		if err != nil {
			return nil, err
		}
		values = coalesce(values, user)
	}
	for _, s := range o.Sets {
		if err := parseSet(values, s); err != nil {
			return nil, err
		}
	}

	files := Files{}
	templates := map[string]string{}
	err = filepath.Walk(o.ChartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(o.ChartDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			templates[chartName+"/"+rel] = string(data)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || rel == ".helmignore":
		default:
			files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	t := template.New("gotpl").Funcs(funcMap())
	t.Option("missingkey=zero")
	bindIncludeAndTpl(t)
	names := make([]string, 0, len(templates))
	for name := range templates {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := t.New(name).Parse(templates[name]); err != nil {
			return nil, fmt.Errorf("parse error in %s: %v", name, err)
		}
	}

	kube := o.KubeVersion
	if kube == "" {
		kube = "v1.29.0"
	}
	parts := strings.SplitN(strings.TrimPrefix(kube, "v"), ".", 3)
	for len(parts) < 2 {
		parts = append(parts, "0")
	}
	caps := Capabilities{
		KubeVersion: KubeVersion{Version: kube, Major: parts[0], Minor: parts[1], GitVersion: kube},
		APIVersions: VersionSet(append([]string{"v1", "apps/v1", "policy/v1", "autoscaling/v2",
			"networking.k8s.io/v1"}, o.APIVersions...)),
		HelmVersion: map[string]interface{}{"Version": "v3.14.0"},
	}
	rel := o.Release
	if rel.Service == "" {
		rel.Service = "Helm"
	}
	if rel.Revision == 0 {
		rel.Revision = 1
	}

	out := &Rendered{}
	for _, name := range names {
		base := path.Base(name)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") {
			continue
		}
		top := map[string]interface{}{
			"Values":       values,
			"Release":      rel,
			"Chart":        meta,
			"Capabilities": caps,
			"Files":        files,
			"Template":     map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"},
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, top); err != nil {
			return nil, err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			out.Notes = text
			continue
		}
		for _, doc := range manifestSep.Split(text, -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			out.Manifests = append(out.Manifests, Manifest{Source: name, Content: strings.TrimRight(doc, " \n") + "\n"})
		}
	}
	return out, nil
}
