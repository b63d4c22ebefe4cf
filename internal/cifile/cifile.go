// Package cifile reads a .gitlab-ci.yml the way GitLab resolves it, far
// enough for doctor to judge a job's OIDC setup: local includes, default:,
// hidden template jobs, extends: (single, list, multi-level) and !reference,
// then per job its id_tokens, variables, script lines and the STS calls those
// lines make. It never runs anything and bounds what it reads.
package cifile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is a resolved pipeline configuration.
type File struct {
	// Jobs by name, hidden template jobs (".name") included, fully resolved.
	Jobs map[string]*Job
	// Variables are the global variables: values.
	Variables map[string]string
	// Includes lists the local files that were merged, relative to the root.
	Includes []string
	// Unresolved lists includes this reader cannot follow (project, remote,
	// template, component, or local files outside reach); jobs defined there
	// are missing from Jobs.
	Unresolved []string
	// Warnings are problems found while resolving (extends cycles, unknown
	// templates, bad references); the rest of the file is still usable.
	Warnings []string
}

// Job is one job after extends, !reference, default: and global variables.
type Job struct {
	Name   string
	Hidden bool // a template job: its name starts with "."
	// Extends is the job's own extends: list, in order.
	Extends []string
	// IDTokens maps each id_tokens variable to its aud values.
	IDTokens map[string][]string
	// Variables are the global variables overlaid with the job's own.
	Variables map[string]string
	// Scripts are before_script, script and after_script, one entry per
	// command line (continued lines joined).
	Scripts []string
	// Environment is environment: (or environment:name:), "" if none.
	Environment string
	// STSCalls are the aws sts assume-role-with-web-identity calls found in
	// Scripts.
	STSCalls []STSCall
	// TokenFileWrites are lines that write a variable to a file, the native
	// SDK style (AWS_WEB_IDENTITY_TOKEN_FILE).
	TokenFileWrites []TokenFileWrite
	// Exports are the variables the scripts export (name: raw value).
	Exports map[string]string
	// UsesLegacyJWT is true when the job refers to CI_JOB_JWT, CI_JOB_JWT_V1,
	// CI_JOB_JWT_V2 or CI_JOB_JWT_FILE, removed in GitLab 17.0.
	UsesLegacyJWT bool
	LegacyJWTVars []string
}

// Names returns the job names in sorted order, hidden ones too.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Jobs))
	for n := range f.Jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Var returns the job's value for a variable, looking at script exports
// first (they are set last) and then at the job's variables.
func (j *Job) Var(name string) (string, bool) {
	if v, ok := j.Exports[name]; ok {
		return v, true
	}
	v, ok := j.Variables[name]
	return v, ok
}

// TokenVars lists the variables the job hands to STS as a web identity
// token, directly or through a token file, without duplicates.
func (j *Job) TokenVars() []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, c := range j.STSCalls {
		add(c.TokenVar)
	}
	for _, w := range j.TokenFileWrites {
		add(w.TokenVar)
	}
	return out
}

// Read reads the pipeline file at path and the local files it includes,
// which are looked up relative to the repository root (the nearest parent
// with a .git entry, else the file's directory).
func Read(path string) (*File, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := parse(data, repoRoot(filepath.Dir(abs)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse resolves a pipeline file given as bytes. Local includes cannot be
// followed without a directory, so they are listed in Unresolved.
func Parse(data []byte) (*File, error) {
	return parse(data, "")
}

func readBounded(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	if info.Size() > maxFileSize {
		return nil, fmt.Errorf("read %s: %d bytes is over the %d-byte limit", path, info.Size(), maxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline file: %w", err)
	}
	return data, nil
}

// repoRoot walks up from dir to the directory holding .git.
func repoRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// globalKeywords are top-level keys that are not jobs.
var globalKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true,
	"workflow": true, "image": true, "services": true, "cache": true,
	"before_script": true, "after_script": true, "spec": true,
}

// defaultKeys are the default: keywords a job inherits when it lacks them.
var defaultKeys = []string{
	"after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens",
	"image", "interruptible", "retry", "services", "tags", "timeout",
}

func parse(data []byte, root string) (*File, error) {
	top, err := decode(data)
	if err != nil {
		return nil, err
	}
	f := &File{Jobs: map[string]*Job{}}
	inc := &includer{root: root, file: f, seen: map[string]bool{}}
	merged, err := inc.expand(top, 0)
	if err != nil {
		return nil, err
	}
	f.Variables = variables(merged["variables"])
	defaults := asMap(merged["default"])
	// The deprecated global before_script/after_script act as defaults.
	for _, k := range []string{"before_script", "after_script", "image"} {
		if _, ok := defaults[k]; !ok && merged[k] != nil {
			defaults[k] = merged[k]
		}
	}
	r := &resolver{top: merged, done: map[string]map[string]any{}, file: f}
	for name, v := range merged {
		if globalKeywords[name] {
			continue
		}
		if _, ok := v.(map[string]any); !ok {
			continue
		}
		raw, err := r.resolve(name, 0)
		if err != nil {
			f.Warnings = append(f.Warnings, err.Error())
			continue
		}
		raw = r.references(raw)
		f.Jobs[name] = buildJob(name, raw, defaults, f.Variables)
	}
	sort.Strings(f.Warnings)
	return f, nil
}

// buildJob applies default: and global variables (honouring inherit:) and
// extracts what doctor needs.
func buildJob(name string, raw, defaults map[string]any, global map[string]string) *Job {
	inherit := asMap(raw["inherit"])
	for _, k := range defaultKeys {
		if _, has := raw[k]; !has && inherits(inherit["default"], k) {
			if v, ok := defaults[k]; ok {
				raw[k] = v
			}
		}
	}
	j := &Job{
		Name:      name,
		Hidden:    strings.HasPrefix(name, "."),
		Extends:   stringList(raw["extends"]),
		IDTokens:  idTokens(raw["id_tokens"]),
		Variables: map[string]string{},
		Exports:   map[string]string{},
	}
	for k, v := range global {
		if inherits(inherit["variables"], k) {
			j.Variables[k] = v
		}
	}
	for k, v := range variables(raw["variables"]) {
		j.Variables[k] = v
	}
	switch env := raw["environment"].(type) {
	case string:
		j.Environment = env
	case map[string]any:
		j.Environment, _ = env["name"].(string)
	}
	for _, k := range []string{"before_script", "script", "after_script"} {
		j.Scripts = append(j.Scripts, scriptLines(raw[k])...)
	}
	analyze(j)
	return j
}

// inherits reads inherit:default / inherit:variables: true (or absent),
// false, or a list of the names that are inherited.
func inherits(v any, key string) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t != "false"
	case []any:
		for _, it := range t {
			if it == key {
				return true
			}
		}
		return false
	}
	return true
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return map[string]any{}
}

// stringList reads a string or a list of strings.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, it := range t {
			if s, ok := it.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// variables reads variables: whose values are strings or {value: ...}.
func variables(v any) map[string]string {
	out := map[string]string{}
	for k, val := range asMap(v) {
		switch t := val.(type) {
		case string:
			out[k] = t
		case nil:
			out[k] = ""
		case map[string]any:
			s, _ := t["value"].(string)
			out[k] = s
		}
	}
	return out
}

// idTokens reads id_tokens: {NAME: {aud: string | [strings]}}.
func idTokens(v any) map[string][]string {
	out := map[string][]string{}
	for name, spec := range asMap(v) {
		out[name] = stringList(asMap(spec)["aud"])
	}
	return out
}

// scriptLines flattens a script (string, list, nested lists from
// !reference) into command lines, joining backslash continuations and
// splitting multi-line entries.
func scriptLines(v any) []string {
	var raw []string
	var walk func(any)
	walk = func(v any) {
		switch t := v.(type) {
		case string:
			raw = append(raw, t)
		case []any:
			for _, it := range t {
				walk(it)
			}
		}
	}
	walk(v)
	var out []string
	for _, entry := range raw {
		joined := strings.ReplaceAll(entry, "\\\n", " ")
		for _, l := range strings.Split(joined, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}
