// metricnames: checks that every metric the alert rules and the Grafana dashboard query is one
// the services export, and turns the dashboard's queries into a rule file promtool can parse.
//
//	metricnames check --rules rules.yaml --dashboard bastion.json [--scrape metrics.txt]... SOURCE...
//	metricnames dashboard-rules bastion.json > rules.yaml
//
// The exported set is read from the C++ sources that register metrics: literal
// `.Name("bastion_...")` and `"process_..."` names, the per-service gRPC names that
// grpcutil::CallRunner composes from `"bastion_" + service + "_grpc_..."` for every
// `CallRunner x("service", ...)`, and for histograms their _bucket/_sum/_count series. A --scrape
// file (a /metrics page saved from a running service) adds the names it shows.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	quoted      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	metricToken = regexp.MustCompile(`\b(?:bastion_[a-z0-9_]+|process_[a-z0-9_]+|up)\b`)
	literalName = regexp.MustCompile(`Name\("((?:bastion|process)_[a-z0-9_]+)"\)|OneValue\("(process_[a-z0-9_]+)"`)
	composed    = regexp.MustCompile(`Name\(absl::StrCat\("bastion_", service, "(_[a-z0-9_]+)"\)\)`)
	runner      = regexp.MustCompile(`CallRunner\s+[a-z_]+\("([a-z]+)"`)
	scraped     = regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]`)
)

// Synthesized by Prometheus itself for every target, not exported by a service.
var synthetic = map[string]bool{"up": true}

type rulesFile struct {
	Groups []struct {
		Rules []struct {
			Alert  string `yaml:"alert"`
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type dashboard struct {
	Panels []panel `json:"panels"`
}

type panel struct {
	Title   string  `json:"title"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// referenced returns the metric names an expression uses; label values are stripped first so
// `outcome="bastion_x"` would not count.
func referenced(expr string) []string {
	return metricToken.FindAllString(quoted.ReplaceAllString(expr, `""`), -1)
}

func ruleExprs(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var r rulesFile
	if err := yaml.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	out := map[string]string{}
	for _, g := range r.Groups {
		for _, rule := range g.Rules {
			out["rule "+rule.Alert+rule.Record] = rule.Expr
		}
	}
	return out, nil
}

func dashboardExprs(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	out := map[string]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for i, t := range p.Targets {
				if t.Expr != "" {
					out[fmt.Sprintf("panel %q query %d", p.Title, i+1)] = t.Expr
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no panel queries found", file)
	}
	return out, nil
}

// exported reads the names the sources register (see the file comment).
func exported(sources []string) (map[string]bool, error) {
	names := map[string]bool{}
	var suffixes, services []string
	histograms := map[string]bool{}
	for _, file := range sources {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		text := string(data)
		// Each `Build...()` opens one family's builder chain; its first Name() names it, and
		// BuildHistogram() makes it a histogram.
		for _, chain := range strings.Split(text, "Build") {
			isHistogram := strings.HasPrefix(chain, "Histogram()")
			for i, m := range literalName.FindAllStringSubmatchIndex(chain, -1) {
				var name string
				if m[2] >= 0 {
					name = chain[m[2]:m[3]]
				} else {
					name = chain[m[4]:m[5]]
				}
				names[name] = true
				if i == 0 && isHistogram && !strings.Contains(chain[:m[0]], ";") {
					histograms[name] = true
				}
			}
			for _, m := range composed.FindAllStringSubmatchIndex(chain, -1) {
				suffix := chain[m[2]:m[3]]
				suffixes = append(suffixes, suffix)
				if isHistogram && !strings.Contains(chain[:m[0]], ";") {
					histograms["*"+suffix] = true
				}
			}
		}
		for _, m := range runner.FindAllStringSubmatch(text, -1) {
			services = append(services, m[1])
		}
	}
	for _, svc := range services {
		for _, suf := range suffixes {
			name := "bastion_" + svc + suf
			names[name] = true
			if histograms["*"+suf] {
				histograms[name] = true
			}
		}
	}
	for h := range histograms {
		if strings.HasPrefix(h, "*") {
			continue
		}
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			names[h+s] = true
		}
	}
	return names, nil
}

func runCheck(args []string) int {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	rules := fs.String("rules", "", "Prometheus rule file")
	dash := fs.String("dashboard", "", "Grafana dashboard JSON")
	var scrapes multi
	fs.Var(&scrapes, "scrape", "a saved /metrics page whose names count as exported (repeatable)")
	fs.Parse(args)
	names, err := exported(fs.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for _, file := range scrapes {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		for _, m := range scraped.FindAllStringSubmatch(string(data), -1) {
			names[m[1]] = true
		}
	}
	exprs := map[string]string{}
	for _, src := range []struct {
		file string
		read func(string) (map[string]string, error)
	}{{*rules, ruleExprs}, {*dash, dashboardExprs}} {
		if src.file == "" {
			continue
		}
		got, err := src.read(src.file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		for k, v := range got {
			exprs[k] = v
		}
	}
	where := make([]string, 0, len(exprs))
	for k := range exprs {
		where = append(where, k)
	}
	sort.Strings(where)
	missing := 0
	used := map[string]bool{}
	for _, w := range where {
		reported := map[string]bool{}
		for _, name := range referenced(exprs[w]) {
			used[name] = true
			if !names[name] && !synthetic[name] && !reported[name] {
				reported[name] = true
				fmt.Printf("FAIL %s queries %s, which no service exports\n", w, name)
				missing++
			}
		}
	}
	if missing > 0 {
		return 1
	}
	list := make([]string, 0, len(used))
	for n := range used {
		list = append(list, n)
	}
	sort.Strings(list)
	fmt.Printf("ok: %d queries use %d metric names, all exported: %s\n", len(exprs), len(list), strings.Join(list, " "))
	return 0
}

// runDashboardRules prints the dashboard's queries as recording rules, with Grafana's variables
// replaced, so that `promtool check rules` parses every one of them.
func runDashboardRules(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "dashboard-rules: want the dashboard file")
		return 2
	}
	exprs, err := dashboardExprs(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	keys := make([]string, 0, len(exprs))
	for k := range exprs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	replacer := strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$namespace", ".*")
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	for i, k := range keys {
		rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d", i+1), Expr: replacer.Replace(exprs[k])})
	}
	out, _ := yaml.Marshal(map[string]interface{}{
		"groups": []interface{}{map[string]interface{}{"name": "dashboard", "rules": rules}},
	})
	os.Stdout.Write(out)
	return 0
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: metricnames check|dashboard-rules ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "check":
		os.Exit(runCheck(os.Args[2:]))
	case "dashboard-rules":
		os.Exit(runDashboardRules(os.Args[2:]))
	}
	fmt.Fprintf(os.Stderr, "metricnames: unknown command %q\n", os.Args[1])
	os.Exit(2)
}
