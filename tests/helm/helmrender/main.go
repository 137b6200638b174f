// helmrender: `render` a chart like `helm template`, and `check` what it rendered.
//
//	helmrender render --chart DIR [-f values.yaml]... [--set a.b=c]... [--name R] [--namespace N] [--is-upgrade] [--notes]
//	helmrender check [--external-secret NAME]... [--defaults values.yaml] [--compare other.yaml] rendered.yaml
//	helmrender get rendered.yaml KIND NAME [KEY]...   (prints a field: strings as they are, the rest as YAML)
//	helmrender files rendered.yaml KIND NAME           (the files a workload's containers read, and their source)
//	helmrender params values.yaml                      (lists keys without a `## @param` comment)
//
// Built with Debian's Go toolchain and packaged libraries: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: helmrender render|check|get|files|params ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "render":
		os.Exit(runRender(os.Args[2:]))
	case "check":
		os.Exit(runCheck(os.Args[2:]))
	case "get":
		os.Exit(runGet(os.Args[2:]))
	case "files":
		os.Exit(runFiles(os.Args[2:]))
	case "params":
		os.Exit(runParams(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "helmrender: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func runRender(args []string) int {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	var o RenderOptions
	var values, sets, apis multi
	notes := fs.Bool("notes", false, "print the rendered NOTES.txt after the manifests, as a YAML comment")
	fs.StringVar(&o.ChartDir, "chart", "", "chart directory")
	fs.Var(&values, "f", "values file (repeatable; later wins)")
	fs.Var(&sets, "set", "key=value (repeatable)")
	fs.Var(&apis, "api-versions", "extra API versions for .Capabilities.APIVersions.Has")
	fs.StringVar(&o.Release.Name, "name", "bastion", "release name")
	fs.StringVar(&o.Release.Namespace, "namespace", "default", "release namespace")
	isUpgrade := fs.Bool("is-upgrade", false, "render as an upgrade (.Release.IsUpgrade)")
	fs.StringVar(&o.KubeVersion, "kube-version", "v1.29.0", "Kubernetes version for .Capabilities")
	fs.Parse(args)
	o.ValueFiles, o.Sets, o.APIVersions = values, sets, apis
	o.Release.IsUpgrade = *isUpgrade
	o.Release.IsInstall = !*isUpgrade
	if o.ChartDir == "" {
		fmt.Fprintln(os.Stderr, "render: --chart is required")
		return 2
	}
	r, err := Render(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	for _, m := range r.Manifests {
		fmt.Printf("---\n# Source: %s\n%s", m.Source, m.Content)
	}
	if *notes {
		for _, line := range strings.Split(strings.TrimRight(r.Notes, "\n"), "\n") {
			fmt.Printf("# NOTES: %s\n", line)
		}
	}
	return 0
}

func runGet(args []string) int {
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "get: want rendered.yaml KIND NAME [KEY]...")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	objects, err := ParseStream(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, o := range objects {
		if o.Kind() != args[1] || o.Name() != args[2] {
			continue
		}
		v := get(o, args[3:]...)
		if v == nil {
			fmt.Fprintf(os.Stderr, "get: %s/%s has no %s\n", args[1], args[2], strings.Join(args[3:], "."))
			return 1
		}
		if s, ok := v.(string); ok {
			fmt.Print(s)
		} else {
			fmt.Print(toYAML(v) + "\n")
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "get: no %s/%s\n", args[1], args[2])
	return 1
}

func runCheck(args []string) int {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	var external multi
	fs.Var(&external, "external-secret", "a Secret the release may reference without rendering it (repeatable)")
	defaults := fs.String("defaults", "", "the chart's values.yaml: no Secret value may be one of its strings")
	compare := fs.String("compare", "", "a second render of the same values: Secret values must differ")
	fs.Parse(args)
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "check: want one rendered file")
		return 2
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	objects, err := ParseStream(data)
	if err != nil {
		fmt.Printf("FAIL %s: %v\n", fs.Arg(0), err)
		return 1
	}
	o := CheckOptions{ExternalSecrets: map[string]bool{}}
	for _, e := range external {
		o.ExternalSecrets[e] = true
	}
	if *defaults != "" {
		if o.DefaultStrings, err = DefaultStrings(*defaults); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	if *compare != "" {
		other, err := os.ReadFile(*compare)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if o.CompareSecrets, err = ParseStream(other); err != nil {
			fmt.Printf("FAIL %s: %v\n", *compare, err)
			return 1
		}
		if o.CompareSecrets == nil {
			o.CompareSecrets = []Object{}
		}
	}
	failures := Check(objects, o)
	for _, f := range failures {
		fmt.Printf("FAIL %s: %s\n", fs.Arg(0), f)
	}
	if len(failures) > 0 {
		return 1
	}
	kinds := map[string]int{}
	for _, obj := range objects {
		kinds[obj.Kind()]++
	}
	fmt.Printf("ok %s: %d objects %v\n", fs.Arg(0), len(objects), kinds)
	return 0
}

// runFiles prints, one per line, "<container> <flag or env> <path> <source>" for every file a
// workload's containers are told to read (`--x_file=/p` arguments, `X_FILE=/p` variables), where
// the source is "Secret/<name>:<key>", "ConfigMap/<name>:<key>", "volume <name>" or
// "NOT MOUNTED: <why>".
func runFiles(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "files: want rendered.yaml KIND NAME")
		return 2
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	objects, err := ParseStream(data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	lines, ok := FileSources(objects, args[1], args[2])
	if !ok {
		fmt.Fprintf(os.Stderr, "files: no workload %s/%s\n", args[1], args[2])
		return 1
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	return 0
}
