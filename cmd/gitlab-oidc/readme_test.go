package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's flag reference from the commands")

const (
	flagsStart = "<!-- flags:start (generated from the commands: go test ./cmd/gitlab-oidc -run README -update-readme) -->"
	flagsEnd   = "<!-- flags:end -->"
)

// renderFlags documents every flag of every command, as --help shows them.
func renderFlags() string {
	root := newRootCmd(nil, nil, nil)
	var b strings.Builder
	for _, name := range []string{"setup", "doctor", "audit"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			panic(err)
		}
		b.WriteString("### gitlab-oidc " + name + "\n\n" + cmd.Short + ".\n\n| Flag | Default | Meaning |\n|---|---|---|\n")
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			def := f.DefValue
			if def == "[]" || def == "" || def == "false" {
				def = ""
			} else {
				def = "`" + def + "`"
			}
			name := "`--" + f.Name + "`"
			if f.Shorthand != "" {
				name = "`-" + f.Shorthand + "`, " + name
			}
			b.WriteString("| " + name + " | " + def + " | " + strings.ReplaceAll(f.Usage, "|", `\|`) + " |\n")
		})
		b.WriteString("\n")
	}
	return b.String()
}

func TestREADMEDocumentsEveryFlag(t *testing.T) {
	path := "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	i, j := strings.Index(readme, flagsStart), strings.Index(readme, flagsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the flag markers")
	}
	want := flagsStart + "\n" + renderFlags() + flagsEnd
	if *updateReadme {
		if err := os.WriteFile(path, []byte(readme[:i]+want+readme[j+len(flagsEnd):]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if readme[i:j+len(flagsEnd)] != want {
		t.Fatal("README.md's flag reference is out of date: go test ./cmd/gitlab-oidc -run README -update-readme")
	}
}
