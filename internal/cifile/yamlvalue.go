package cifile

import (
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Limits that keep a hostile or broken file from exhausting memory or time.
// yaml.v3 bounds alias expansion only when decoding into Go values; this
// package walks yaml.Node trees itself, so it counts every node it expands.
const (
	maxFileSize  = 5 << 20 // bytes per file
	maxNodes     = 500_000 // expanded nodes per file, aliases included
	maxDepth     = 200     // nesting depth
	maxIncludes  = 150     // local include files, as GitLab's own limit
	maxExtends   = 11      // extends levels, as GitLab's own limit
	maxReference = 10      // nested !reference levels, as GitLab's own limit
)

// ref is a !reference [job, key, ...] tag, resolved after extends.
type ref []string

// errTooBig says a document expands beyond the node budget.
var errTooBig = errors.New("the YAML expands to too many nodes (alias bomb?)")

// converter turns yaml.Node trees into plain values: map[string]any, []any,
// string (every scalar keeps its source text), nil and ref.
type converter struct{ budget int }

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	c.budget--
	if c.budget < 0 {
		return nil, errTooBig
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("line %d: nesting deeper than %d levels", n.Line, maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0], depth+1)
	case yaml.AliasNode:
		return c.value(n.Alias, depth+1)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		if n.Tag == "!reference" {
			var r ref
			for _, it := range n.Content {
				if it.Kind != yaml.ScalarNode {
					return nil, fmt.Errorf("line %d: !reference takes a list of names", n.Line)
				}
				r = append(r, it.Value)
			}
			return r, nil
		}
		out := make([]any, 0, len(n.Content))
		for _, it := range n.Content {
			v, err := c.value(it, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return c.mapping(n, depth)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// mapping converts a mapping, applying YAML merge keys (<<) first so that
// the mapping's own keys win, as YAML specifies.
func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag != "!!merge" {
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, s := range sources {
			m, err := c.value(s, depth+1)
			if err != nil {
				return nil, err
			}
			mm, ok := m.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("line %d: << merges only mappings", v.Line)
			}
			for mk, mv := range mm {
				if _, set := out[mk]; !set {
					out[mk] = mv
				}
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		val, err := c.value(v, depth+1)
		if err != nil {
			return nil, err
		}
		out[k.Value] = val
	}
	return out, nil
}

// decode parses one YAML document into a top-level mapping.
func decode(data []byte) (map[string]any, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("the file is %d bytes; files over %d bytes are refused", len(data), maxFileSize)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	c := &converter{budget: maxNodes}
	v, err := c.value(&doc, 0)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the top level is not a mapping of jobs and keywords")
	}
	return m, nil
}

// deepMerge returns base overlaid with over: mappings merge key by key,
// everything else (lists included) is replaced, as GitLab's extends and
// include merging do.
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = deepMerge(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}
