// Command render renders a Helm chart the way Helm's engine (helm.sh/helm/v3/pkg/engine) does: Go's
// text/template with the sprig function map and Helm's own include, tpl, required, fail, toYaml, fromYaml,
// toJson; values.yaml deep-merged with -f files; .Release, .Chart, .Capabilities as `helm template` sets them.
// It exists because the helm module cannot be fetched on the machine the tests run on (no Go module proxy
// among its registries, no Helm package in Debian); it is built from Debian's Go and golang-*-dev packages.
//
//	render CHART_DIR [-f values.yaml]... [-name RELEASE] [-namespace NS]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	sprig "github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var valueFiles files
	flag.Var(&valueFiles, "f", "values file (repeatable; later wins)")
	name := flag.String("name", "release", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: render CHART_DIR [-f values.yaml]... [-name RELEASE]")
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), valueFiles, *name, *namespace)
	if err != nil {
		fmt.Fprintln(os.Stderr, "render:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func readYaml(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// merge deep-merges src into dst, as Helm coalesces values files.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sv, ok := v.(map[string]interface{}); ok {
			if dv, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func toYaml(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func render(chartDir string, valueFiles []string, release, namespace string) (string, error) {
	chart, err := readYaml(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	values, err := readYaml(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range valueFiles {
		extra, err := readYaml(f)
		if err != nil {
			return "", err
		}
		values = merge(values, extra)
	}
	data := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"],
		},
		"Capabilities": map[string]interface{}{"KubeVersion": map[string]interface{}{"Version": "v1.30.0"}},
	}

	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		_ = yaml.Unmarshal([]byte(s), &m)
		return m
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", fmt.Errorf("%s", msg) }
	funcs["include"] = func(name string, d interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, d)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, d interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, d)
		return buf.String(), err
	}
	root.Funcs(funcs)

	paths, _ := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	sort.Strings(paths)
	var names []string
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		name := filepath.Join(filepath.Base(chartDir), "templates", filepath.Base(p))
		if _, err := root.New(name).Parse(string(text)); err != nil {
			return "", err
		}
		if !strings.HasPrefix(filepath.Base(p), "_") && strings.HasSuffix(p, ".yaml") {
			names = append(names, name)
		}
	}
	var out strings.Builder
	for _, name := range names {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		if body := strings.TrimSpace(buf.String()); body != "" && body != "---" {
			out.WriteString("---\n# Source: " + name + "\n" + strings.TrimPrefix(body, "---\n") + "\n")
		}
	}
	return out.String(), nil
}
