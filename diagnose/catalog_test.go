package diagnose

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's troubleshooting table from Catalog")

const (
	tableStart = "<!-- troubleshooting:start (generated from diagnose/catalog.go: go test ./diagnose -run README -update-readme) -->"
	tableEnd   = "<!-- troubleshooting:end -->"
)

// causeIDs reads the IDs of a causes.md catalog, in order.
func causeIDs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`(?m)^- \*\*([a-z0-9-]+)\*\*`).FindAllStringSubmatch(string(data), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// The catalog is the contract of causes.md: the same IDs in the same order,
// and the repository's copy is the shared one.
func TestCatalogMatchesCausesMD(t *testing.T) {
	ids := causeIDs(t, "../docs/causes.md")
	if shared := "../../shared/docs/causes.md"; fileExists(shared) {
		if got := causeIDs(t, shared); strings.Join(got, " ") != strings.Join(ids, " ") {
			t.Fatalf("docs/causes.md is out of date with %s: copy it", shared)
		}
	}
	var catalog []string
	for _, c := range Catalog {
		catalog = append(catalog, c.ID)
	}
	if strings.Join(catalog, " ") != strings.Join(ids, " ") {
		t.Fatalf("Catalog IDs differ from causes.md:\ncatalog: %v\ncauses:  %v", catalog, ids)
	}
}

// Every ID is produced somewhere in the rules (a string literal in a
// non-test source file of this package).
func TestEveryCatalogIDIsReported(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	var src strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "catalog.go" {
			continue
		}
		b, _ := os.ReadFile(f)
		src.Write(b)
	}
	for _, c := range Catalog {
		if !strings.Contains(src.String(), `"`+c.ID+`"`) {
			t.Errorf("%s is in the catalog but no rule reports it", c.ID)
		}
	}
}

func renderTable() string {
	var b strings.Builder
	b.WriteString("| ID | Section | What you see | What it means | Fix |\n|---|---|---|---|---|\n")
	for _, c := range Catalog {
		b.WriteString("| `" + c.ID + "` | " + c.Section + " | " + escapePipes(c.Symptom) + " | " + escapePipes(c.Meaning) + " | " + escapePipes(c.Fix) + " |\n")
	}
	return b.String()
}

func escapePipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func TestREADMETroubleshootingTable(t *testing.T) {
	path := "../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, tableStart), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the troubleshooting markers %q ... %q", tableStart, tableEnd)
	}
	want := tableStart + "\n" + renderTable() + tableEnd
	if *updateReadme {
		readme = readme[:i] + want + readme[j+len(tableEnd):]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if readme[i:j+len(tableEnd)] != want {
		t.Fatal("README.md's troubleshooting table is out of date: go test ./diagnose -run README -update-readme")
	}
	for _, c := range Catalog {
		if !strings.Contains(readme, "`"+c.ID+"`") {
			t.Errorf("README does not document %s", c.ID)
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
