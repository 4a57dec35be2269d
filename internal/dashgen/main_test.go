package dashgen

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the committed dashboards and the README section from what the tests generate")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// moduleRoot is the directory of go.mod, two levels above this package.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

// readFile reads a file under the module root.
func readFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// committedDashboards returns the file names of the committed dashboards, sorted.
func committedDashboards(t testing.TB) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(moduleRoot(t), Dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, filepath.Base(m))
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatalf("no dashboards in %s", Dir)
	}
	return names
}

// The committed dashboards, decoded loosely: what the lint and the live test read.
type (
	dashJSON struct {
		UID         string `json:"uid"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Editable    bool   `json:"editable"`
		Tags        []string
		Links       []struct {
			Type        string   `json:"type"`
			Tags        []string `json:"tags"`
			IncludeVars bool     `json:"includeVars"`
			KeepTime    bool     `json:"keepTime"`
		} `json:"links"`
		Templating struct {
			List []varJSON `json:"list"`
		} `json:"templating"`
		Panels []panelJSON `json:"panels"`
	}
	dsJSON struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	varJSON struct {
		Type       string  `json:"type"`
		Name       string  `json:"name"`
		Label      string  `json:"label"`
		Query      any     `json:"query"`
		Datasource *dsJSON `json:"datasource"`
		Multi      bool    `json:"multi"`
		IncludeAll bool    `json:"includeAll"`
		AllValue   string  `json:"allValue"`
		Refresh    int     `json:"refresh"`
	}
	panelJSON struct {
		Type        string  `json:"type"`
		ID          int     `json:"id"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Datasource  *dsJSON `json:"datasource"`
		GridPos     struct {
			H, W, X, Y int
		} `json:"gridPos"`
		Targets     []targetJSON `json:"targets"`
		FieldConfig struct {
			Defaults struct {
				Unit string `json:"unit"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
		Panels []panelJSON `json:"panels"`
	}
	targetJSON struct {
		Expr       string  `json:"expr"`
		RefID      string  `json:"refId"`
		Format     string  `json:"format"`
		Instant    bool    `json:"instant"`
		Datasource *dsJSON `json:"datasource"`
	}
)

// loadDashboard decodes a committed dashboard.
func loadDashboard(t testing.TB, file string) dashJSON {
	t.Helper()
	var d dashJSON
	if err := json.Unmarshal(readFile(t, filepath.Join(Dir, file)), &d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// queryPanels are a dashboard's panels that hold queries (rows excluded, collapsed rows'
// panels included).
func (d dashJSON) queryPanels() []panelJSON {
	var out []panelJSON
	for _, p := range d.Panels {
		if p.Type == "row" {
			out = append(out, p.Panels...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// queryString returns a variable's query as a string (Grafana stores it as a string or as
// an object with a query field).
func (v varJSON) queryString() string {
	switch q := v.Query.(type) {
	case string:
		return q
	case map[string]any:
		s, _ := q["query"].(string)
		return s
	default:
		return ""
	}
}

// labelValuesArgs splits label_values(selector, label) into its two arguments.
func labelValuesArgs(q string) (string, string, error) {
	q = strings.TrimSpace(q)
	if !strings.HasPrefix(q, "label_values(") || !strings.HasSuffix(q, ")") {
		return "", "", errors.New("not label_values(selector, label)")
	}
	inner := q[len("label_values(") : len(q)-1]
	i := strings.LastIndex(inner, ",")
	if i < 0 {
		return "", "", errors.New("label_values without a label")
	}
	return strings.TrimSpace(inner[:i]), strings.TrimSpace(inner[i+1:]), nil
}
