package cifile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// includer merges local include: files into the main file.
type includer struct {
	root  string // repository root; "" when reading bytes only
	file  *File
	seen  map[string]bool
	count int
}

// expand returns top with its local includes merged underneath it (the
// including file wins), recursively.
func (in *includer) expand(top map[string]any, depth int) (map[string]any, error) {
	specs := includeSpecs(top["include"])
	delete(top, "include")
	merged := map[string]any{}
	for _, spec := range specs {
		local, ok := spec.local()
		if !ok || in.root == "" {
			in.file.Unresolved = append(in.file.Unresolved, spec.describe())
			continue
		}
		paths, err := in.localPaths(local)
		if err != nil || len(paths) == 0 {
			in.file.Unresolved = append(in.file.Unresolved, spec.describe())
			continue
		}
		for _, p := range paths {
			sub, err := in.load(p, depth)
			if err != nil {
				return nil, err
			}
			if sub != nil {
				merged = deepMerge(merged, sub)
			}
		}
	}
	return deepMerge(merged, top), nil
}

// load reads one included file once (repeats and cycles are skipped).
func (in *includer) load(p string, depth int) (map[string]any, error) {
	rel, _ := filepath.Rel(in.root, p)
	rel = filepath.ToSlash(rel)
	if in.seen[rel] {
		return nil, nil
	}
	in.seen[rel] = true
	in.count++
	if in.count > maxIncludes || depth >= maxIncludes {
		return nil, fmt.Errorf("more than %d included files", maxIncludes)
	}
	data, err := readBounded(p)
	if err != nil {
		in.file.Unresolved = append(in.file.Unresolved, "local: "+rel+" ("+err.Error()+")")
		return nil, nil
	}
	sub, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("included %s: %w", rel, err)
	}
	in.file.Includes = append(in.file.Includes, rel)
	return in.expand(sub, depth+1)
}

// localPaths resolves a local include (a path from the repository root,
// with or without a leading slash, possibly a glob) to files inside root.
func (in *includer) localPaths(local string) ([]string, error) {
	rel := filepath.FromSlash(strings.TrimPrefix(local, "/"))
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("%s is outside the repository", local)
	}
	full := filepath.Join(in.root, rel)
	if strings.ContainsAny(rel, "*?[") {
		return filepath.Glob(full)
	}
	if _, err := os.Stat(full); err != nil {
		return nil, err
	}
	return []string{full}, nil
}

// includeSpec is one include: entry: a string or a mapping.
type includeSpec struct {
	str string
	m   map[string]any
}

func includeSpecs(v any) []includeSpec {
	var out []includeSpec
	switch t := v.(type) {
	case string:
		out = append(out, includeSpec{str: t})
	case map[string]any:
		out = append(out, includeSpec{m: t})
	case []any:
		for _, it := range t {
			out = append(out, includeSpecs(it)...)
		}
	}
	return out
}

// local returns the local file path of the include, if it is one. A bare
// string is local unless it is a URL.
func (s includeSpec) local() (string, bool) {
	if s.m == nil {
		return s.str, !strings.Contains(s.str, "://")
	}
	l, ok := s.m["local"].(string)
	return l, ok
}

func (s includeSpec) describe() string {
	if s.m == nil {
		return s.str
	}
	for _, k := range []string{"local", "project", "remote", "template", "component"} {
		if v, ok := s.m[k].(string); ok {
			if f, ok := s.m["file"].(string); ok {
				v += " " + f
			}
			return k + ": " + v
		}
	}
	return "include with unknown form"
}

// resolver resolves extends: and !reference over the merged top level.
type resolver struct {
	top  map[string]any
	done map[string]map[string]any
	file *File
}

// resolve returns job name with its extends chain merged in: templates in
// the listed order, each overriding the previous, then the job itself.
func (r *resolver) resolve(name string, depth int) (map[string]any, error) {
	if m, ok := r.done[name]; ok {
		if m == nil {
			return nil, fmt.Errorf("job %s: extends forms a cycle", name)
		}
		return m, nil
	}
	job, ok := r.top[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("extends: unknown job or template %q", name)
	}
	if depth > maxExtends {
		return nil, fmt.Errorf("job %s: extends nests deeper than %d levels", name, maxExtends)
	}
	r.done[name] = nil // in progress: a revisit is a cycle
	base := map[string]any{}
	for _, parent := range stringList(job["extends"]) {
		pm, err := r.resolve(parent, depth+1)
		if err != nil {
			delete(r.done, name)
			return nil, fmt.Errorf("job %s: %w", name, err)
		}
		base = deepMerge(base, pm)
	}
	out := deepMerge(base, job)
	r.done[name] = out
	return out, nil
}

// references replaces !reference tags inside job (after extends) with the
// values they point at, leaving unresolvable ones out with a warning.
func (r *resolver) references(job map[string]any) map[string]any {
	v, _ := r.deref(job, 0).(map[string]any)
	return v
}

func (r *resolver) deref(v any, depth int) any {
	switch t := v.(type) {
	case ref:
		if depth >= maxReference {
			r.file.Warnings = append(r.file.Warnings, fmt.Sprintf("!reference %v nests deeper than %d levels", []string(t), maxReference))
			return nil
		}
		target, ok := r.lookup(t)
		if !ok {
			r.file.Warnings = append(r.file.Warnings, fmt.Sprintf("!reference %v points at nothing", []string(t)))
			return nil
		}
		return r.deref(target, depth+1)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[k] = r.deref(val, depth)
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, it := range t {
			out = append(out, r.deref(it, depth))
		}
		return out
	}
	return v
}

// lookup follows a !reference path: a job (after its extends) and keys.
func (r *resolver) lookup(path ref) (any, bool) {
	if len(path) == 0 {
		return nil, false
	}
	var cur any
	if m, err := r.resolve(path[0], 0); err == nil {
		cur = m
	} else if v, ok := r.top[path[0]]; ok {
		cur = v // a global keyword such as variables
	} else {
		return nil, false
	}
	for _, k := range path[1:] {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}
