package steps

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const inc = "/.gitlab/ci/aws-oidc.yml"

func TestAddInclude(t *testing.T) {
	tests := map[string]struct {
		src, want string
	}{
		"no include: goes before the first key, after the header comment": {
			src:  "# my pipeline\nstages: [build]\n\nbuild:\n  script: make # builds\n",
			want: "# my pipeline\ninclude:\n  - local: '/.gitlab/ci/aws-oidc.yml'\n\nstages: [build]\n\nbuild:\n  script: make # builds\n",
		},
		"include as a string": {
			src:  "include: '/templates/base.yml'\nbuild:\n  script: make\n",
			want: "include:\n  - '/templates/base.yml'\n  - local: '/.gitlab/ci/aws-oidc.yml'\nbuild:\n  script: make\n",
		},
		"include as a flow list": {
			src:  "include: [a.yml, {project: g/p, file: x.yml}]\nbuild:\n  script: make\n",
			want: "include:\n  - a.yml\n  - {project: g/p, file: x.yml}\n  - local: '/.gitlab/ci/aws-oidc.yml'\nbuild:\n  script: make\n",
		},
		"include as a block list keeps comments": {
			src:  "include:\n  # shared\n  - project: g/p\n    file: x.yml\n  - local: b.yml # mine\n\n# jobs\nbuild:\n  script: make\n",
			want: "include:\n  # shared\n  - project: g/p\n    file: x.yml\n  - local: b.yml # mine\n  - local: '/.gitlab/ci/aws-oidc.yml'\n\n# jobs\nbuild:\n  script: make\n",
		},
		"block list at column one": {
			src:  "include:\n- local: b.yml\nbuild:\n  script: make\n",
			want: "include:\n- local: b.yml\n- local: '/.gitlab/ci/aws-oidc.yml'\nbuild:\n  script: make\n",
		},
		"include as a block map": {
			src:  "include:\n  local: b.yml\n  rules:\n    - if: $X\nbuild:\n  script: make\n",
			want: "include:\n  - local: b.yml\n    rules:\n      - if: $X\n  - local: '/.gitlab/ci/aws-oidc.yml'\nbuild:\n  script: make\n",
		},
		"include as a flow map": {
			src:  "include: {local: b.yml}\n",
			want: "include:\n  - {local: b.yml}\n  - local: '/.gitlab/ci/aws-oidc.yml'\n",
		},
		"include at the end without a final newline": {
			src:  "build:\n  script: make\ninclude:\n  - a.yml",
			want: "build:\n  script: make\ninclude:\n  - a.yml\n  - local: '/.gitlab/ci/aws-oidc.yml'\n",
		},
		"already included as local map": {
			src:  "include:\n  - local: .gitlab/ci/aws-oidc.yml\n",
			want: "include:\n  - local: .gitlab/ci/aws-oidc.yml\n",
		},
		"already included as a string": {
			src:  "include: /.gitlab/ci/aws-oidc.yml\n",
			want: "include: /.gitlab/ci/aws-oidc.yml\n",
		},
		"comments only": {
			src:  "# nothing yet\n",
			want: "# nothing yet\ninclude:\n  - local: '/.gitlab/ci/aws-oidc.yml'\n",
		},
		"windows line ends are kept": {
			src:  "include: a.yml\r\nbuild:\r\n  script: make\r\n",
			want: "include:\r\n  - a.yml\r\n  - local: '/.gitlab/ci/aws-oidc.yml'\r\nbuild:\r\n  script: make\r\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := addInclude(tc.src, inc)
			if err != nil {
				t.Fatalf("addInclude: %v", err)
			}
			if got != tc.want {
				t.Errorf("addInclude =\n%q\nwant\n%q", got, tc.want)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("result is not YAML: %v", err)
			}
			if !alreadyIncluded(includeNode(t, &doc), inc) {
				t.Errorf("result does not include %s", inc)
			}
			again, _ := addInclude(got, inc)
			if again != got {
				t.Errorf("second addInclude changed the file again:\n%s", again)
			}
		})
	}
}

func includeNode(t *testing.T, doc *yaml.Node) *yaml.Node {
	t.Helper()
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "include" {
			return root.Content[i+1]
		}
	}
	t.Fatal("no include key")
	return nil
}

func TestAddIncludeRejects(t *testing.T) {
	for name, src := range map[string]string{
		"invalid yaml": "build: [\n",
		"list at top":  "- a\n- b\n",
		"flow mapping": "{build: {script: make}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := addInclude(src, inc); err == nil {
				t.Errorf("addInclude(%q) succeeded", src)
			}
		})
	}
}

func TestPlanApplyCIFiles(t *testing.T) {
	snippet, err := RenderSnippet(SnippetSpec{Audience: "sts.amazonaws.com", Region: "eu-west-1", ExampleJob: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		ci, existingSnippet string // "" = file absent
		decisions           Decisions
		wantActions         []Action
		wantConflict        string // path of the conflicting file
	}{
		"fresh repository": {
			wantActions: []Action{ActionWrite, ActionWrite},
		},
		"existing pipeline: the include is an ordinary edit": {
			ci:          "build:\n  script: make\n",
			wantActions: []Action{ActionWrite, ActionEdit},
		},
		"different snippet without permission": {
			ci: "include: /.gitlab/ci/aws-oidc.yml\n", existingSnippet: "# old\n",
			wantConflict: ".gitlab/ci/aws-oidc.yml",
		},
		"different snippet with permission": {
			ci: "include: /.gitlab/ci/aws-oidc.yml\n", existingSnippet: "# old\n",
			decisions:   Decisions{OverwriteFiles: true},
			wantActions: []Action{ActionEdit, ActionKeep},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.ci != "" {
				writeFile(t, filepath.Join(dir, ".gitlab-ci.yml"), tc.ci, 0o600)
			}
			if tc.existingSnippet != "" {
				writeFile(t, filepath.Join(dir, ".gitlab/ci/aws-oidc.yml"), tc.existingSnippet, 0o644)
			}
			edits, err := PlanCIFiles(dir, "", "", snippet)
			if err != nil {
				t.Fatalf("PlanCIFiles: %v", err)
			}
			changes, err := ApplyCIFiles(dir, edits, tc.decisions, true)
			if tc.wantConflict != "" {
				var ce *ConflictError
				if !errors.As(err, &ce) || ce.Name != tc.wantConflict || ce.Diff == "" {
					t.Fatalf("ApplyCIFiles error = %v, want a conflict with a diff on %s", err, tc.wantConflict)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyCIFiles: %v", err)
			}
			for i, want := range tc.wantActions {
				if changes[i].Action != want || (want != ActionKeep && (!changes[i].Applied || changes[i].Diff == "")) {
					t.Errorf("change %d = %+v, want %s, applied, with a diff", i, changes[i], want)
				}
			}
			got, _ := os.ReadFile(filepath.Join(dir, ".gitlab/ci/aws-oidc.yml"))
			if string(got) != snippet {
				t.Errorf("snippet file not written")
			}
			if tc.ci != "" {
				info, _ := os.Stat(filepath.Join(dir, ".gitlab-ci.yml"))
				if info.Mode().Perm() != 0o600 {
					t.Errorf("CI file mode = %v, want 0600 kept", info.Mode().Perm())
				}
			}
			// Idempotent: a second plan and apply keeps everything.
			edits, err = PlanCIFiles(dir, "", "", snippet)
			if err != nil {
				t.Fatal(err)
			}
			changes, err = ApplyCIFiles(dir, edits, Decisions{}, true)
			if err != nil {
				t.Fatalf("second ApplyCIFiles: %v", err)
			}
			for _, c := range changes {
				if c.Action != ActionKeep || c.IsWrite() {
					t.Errorf("second run: %+v, want keep", c)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "*", "*", ".*tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
		})
	}
}

func TestApplyCIFilesDryRunWritesNothing(t *testing.T) {
	dir := t.TempDir()
	edits, err := PlanCIFiles(dir, ".ci/oidc.yml", "ci/main.yml", "x: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := ApplyCIFiles(dir, edits, Decisions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Applied || changes[1].Applied {
		t.Errorf("dry run changes = %+v", changes)
	}
	var created map[string]any
	if err := yaml.Unmarshal([]byte(edits[1].New), &created); err != nil {
		t.Fatalf("created main file is not YAML: %v", err)
	}
	if deploy, _ := created["deploy"].(map[string]any); deploy["extends"] != ".aws-oidc" || deploy["stage"] != "deploy" {
		t.Errorf("created main file lacks a starter job outside .pre: %v", created)
	}
	if !strings.Contains(edits[1].New, "local: '/.ci/oidc.yml'") {
		t.Errorf("new main file does not include the custom path:\n%s", edits[1].New)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("dry run wrote %v", entries)
	}
}

func TestPlanCIFilesRejectsOutsidePaths(t *testing.T) {
	for _, p := range []string{"../x.yml", "/etc/x.yml"} {
		if _, err := PlanCIFiles(t.TempDir(), p, "", "x"); err == nil {
			t.Errorf("PlanCIFiles accepted snippet path %q", p)
		}
	}
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}
