// Lists the keys of a values.yaml that no `## @param <key>` comment documents (a key is
// documented by its own @param or by one of an enclosing map's).
package main

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

var paramLine = regexp.MustCompile(`(?m)^\s*## @param (\S+)`)

func UndocumentedValues(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	documented := map[string]bool{}
	for _, m := range paramLine.FindAllStringSubmatch(string(data), -1) {
		documented[m[1]] = true
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	var missing []string
	var walk func(n *yaml.Node, path string, covered bool)
	walk = func(n *yaml.Node, path string, covered bool) {
		if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
			if !covered {
				missing = append(missing, path)
			}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			walk(n.Content[i+1], p, covered || documented[p])
		}
	}
	if len(root.Content) > 0 {
		walk(root.Content[0], "", false)
	}
	// A @param naming a key that does not exist documents nothing: report it too.
	for p := range documented {
		if !hasPath(root.Content[0], strings.Split(p, ".")) {
			missing = append(missing, p+" (documented, but not in the values)")
		}
	}
	sort.Strings(missing)
	return missing, nil
}

func hasPath(n *yaml.Node, keys []string) bool {
	if len(keys) == 0 {
		return true
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == keys[0] {
			return hasPath(n.Content[i+1], keys[1:])
		}
	}
	return false
}

func runParams(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "params: want values.yaml")
		return 2
	}
	missing, err := UndocumentedValues(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for _, m := range missing {
		fmt.Printf("FAIL %s: %s has no ## @param\n", args[0], m)
	}
	if len(missing) > 0 {
		return 1
	}
	fmt.Printf("ok %s: every key documented\n", args[0])
	return 0
}
