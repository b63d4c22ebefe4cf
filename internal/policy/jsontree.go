package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// node is one JSON value with object members kept in document order. Parse
// works on nodes rather than on encoding/json structs because encoding/json
// silently keeps the last of two equal keys, and a duplicate "StringEquals"
// block is a real way to lose a sub condition without noticing.
type node struct {
	kind    nodeKind
	text    string   // string value, number text, or "true"/"false"
	members []member // objects, in document order, duplicates included
	items   []node   // arrays
}

type member struct {
	key string
	val node
}

type nodeKind int

const (
	kindNull nodeKind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack;
// a valid policy document nests at most five levels deep.
const maxDepth = 32

func (k nodeKind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindObject:
		return "an object"
	case kindArray:
		return "a list"
	}
	return "null"
}

// parseTree decodes exactly one JSON value from data.
func parseTree(data []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, 0)
	if err != nil {
		return node{}, jsonError(data, dec, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return node{}, fmt.Errorf("invalid JSON at %s: unexpected data after the policy document", position(data, dec.InputOffset()))
	}
	return n, nil
}

func readNode(dec *json.Decoder, depth int) (node, error) {
	if depth > maxDepth {
		return node{}, errors.New("nested too deeply for a policy document")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return node{}, io.ErrUnexpectedEOF
		}
		return node{}, err
	}
	switch t := tok.(type) {
	case nil:
		return node{kind: kindNull}, nil
	case string:
		return node{kind: kindString, text: t}, nil
	case json.Number:
		return node{kind: kindNumber, text: t.String()}, nil
	case bool:
		return node{kind: kindBool, text: fmt.Sprint(t)}, nil
	case json.Delim:
		if t == '{' {
			n := node{kind: kindObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return node{}, err
				}
				key, _ := kt.(string)
				v, err := readNode(dec, depth+1)
				if err != nil {
					return node{}, err
				}
				n.members = append(n.members, member{key: key, val: v})
			}
			_, err := dec.Token() // '}'
			return n, err
		}
		n := node{kind: kindArray, items: []node{}}
		for dec.More() {
			v, err := readNode(dec, depth+1)
			if err != nil {
				return node{}, err
			}
			n.items = append(n.items, v)
		}
		_, err := dec.Token() // ']'
		return n, err
	}
	return node{}, fmt.Errorf("unexpected token %v", tok)
}

// jsonError turns a decoder error into one that names the line and column.
func jsonError(data []byte, dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		off = syn.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("invalid JSON: the document ends early (unbalanced braces or brackets?)")
	}
	return fmt.Errorf("invalid JSON at %s: %v", position(data, off), err)
}

// position renders a byte offset as "line L, column C" (both 1-based).
func position(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// dedup returns the object's members with only the last of equal keys kept,
// as IAM and encoding/json do, and the keys that appeared more than once in
// the order they were first seen.
func (n node) dedup() (members []member, dups []string) {
	last := make(map[string]int, len(n.members))
	for i, m := range n.members {
		if _, seen := last[m.key]; seen && !slices.Contains(dups, m.key) {
			dups = append(dups, m.key)
		}
		last[m.key] = i
	}
	for i, m := range n.members {
		if last[m.key] == i {
			members = append(members, m)
		}
	}
	return members, dups
}

// dropped lists the keys of the earlier (discarded) objects of a duplicated
// key, so a warning can say which conditions were lost.
func (n node) dropped(key string) []string {
	var lost []string
	idx := -1
	for i, m := range n.members {
		if m.key == key {
			idx = i
		}
	}
	for i, m := range n.members {
		if m.key != key || i == idx {
			continue
		}
		for _, inner := range m.val.members {
			lost = append(lost, inner.key)
		}
	}
	return lost
}
