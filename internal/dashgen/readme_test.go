package dashgen

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeHeading opens the README's section on Prometheus, the collector and Grafana.
const readmeHeading = "## With Prometheus, an OpenTelemetry Collector and Grafana"

// readmeInclude is a file included verbatim in the README: a fenced block between markers
// naming it.
var readmeInclude = regexp.MustCompile("(?s)<!-- BEGIN file: (\\S+) -->\n```(\\w*)\n(.*?)```\n<!-- END file: (\\S+) -->")

// readmeSection returns the README, and the start and end of the section.
func readmeSection(t *testing.T) (string, int, int) {
	t.Helper()
	readme := string(readFile(t, "README.md"))
	start := strings.Index(readme, "\n"+readmeHeading+"\n")
	if start < 0 {
		t.Fatalf("README.md has no section %q", readmeHeading)
	}
	start++
	end := len(readme)
	if i := strings.Index(readme[start+len(readmeHeading):], "\n## "); i >= 0 {
		end = start + len(readmeHeading) + i + 1
	}
	return readme, start, end
}

// Every snippet of the README's section is a file the tests use, included verbatim: each
// fenced block sits between markers naming its file and equals it. With -update the
// blocks are rewritten from the files.
func TestReadmeSnippets(t *testing.T) {
	readme, start, end := readmeSection(t)
	section := readme[start:end]
	matches := readmeInclude.FindAllStringSubmatchIndex(section, -1)
	if len(matches) == 0 {
		t.Fatalf("the README section includes no file")
	}
	if fences := strings.Count(section, "```"); fences != 2*len(matches) {
		t.Errorf("the README section has %d fences for %d included files: every snippet must be an included file", fences, len(matches))
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		path, endPath := section[m[2]:m[3]], section[m[8]:m[9]]
		body := section[m[6]:m[7]]
		if path != endPath {
			t.Errorf("README: BEGIN file %s closed by END file %s", path, endPath)
		}
		want := string(readFile(t, filepath.FromSlash(path)))
		if body != want && !*update {
			t.Errorf("README: the block of %s differs from the file; run go test ./internal/dashgen -run TestReadmeSnippets -update", path)
		}
		b.WriteString(section[last:m[6]])
		b.WriteString(want)
		last = m[7]
	}
	b.WriteString(section[last:])
	if *update && b.String() != section {
		out := readme[:start] + b.String() + readme[end:]
		if err := os.WriteFile(filepath.Join(moduleRoot(t), "README.md"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The section names what it documents: the dashboards, the rules and the runbook.
func TestReadmeNamesFiles(t *testing.T) {
	readme, start, end := readmeSection(t)
	section := readme[start:end]
	for _, path := range append(committedDashboards(t), rulesFile, rulesTestFile, runbookFile, lintFile) {
		if !strings.Contains(section, filepath.Base(path)) {
			t.Errorf("the README section does not name %s", path)
		}
	}
}
