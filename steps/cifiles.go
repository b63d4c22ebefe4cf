package steps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gitlab-oidc/internal/textdiff"

	"go.yaml.in/yaml/v3"
)

// FileEdit is one file setup wants to write in the checkout: Old is the
// current content ("" when the file does not exist), New what it should be.
type FileEdit struct {
	Path   string // relative to the repository root, slash-separated
	Old    string
	New    string
	Exists bool
	// IsCIFile marks the main pipeline file: adding the include to it is an
	// ordinary edit, while replacing a different snippet needs permission.
	IsCIFile bool
}

// Changed reports whether the edit writes anything.
func (e FileEdit) Changed() bool { return !e.Exists || e.Old != e.New }

// maxCIFileSize bounds what PlanCIFiles reads; real pipeline files are far
// smaller and GitLab itself refuses much less.
const maxCIFileSize = 5 << 20

// PlanCIFiles computes the file edits that install snippet: the snippet file
// itself and an include of it in the main pipeline file. The main file is
// edited as text (not re-serialized) so the user's comments, ordering and
// formatting survive; it is parsed only to learn the shape of include:. A
// missing main file is created with a minimal pipeline. Nothing is written.
func PlanCIFiles(dir, snippetPath, ciFile, snippet string) ([]FileEdit, error) {
	if snippetPath == "" {
		snippetPath = DefaultSnippetPath
	}
	if ciFile == "" {
		ciFile = DefaultCIFile
	}
	for _, p := range []string{snippetPath, ciFile} {
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return nil, fmt.Errorf("%q must be a path inside the repository", p)
		}
	}
	snipOld, snipExists, err := readSmall(filepath.Join(dir, filepath.FromSlash(snippetPath)))
	if err != nil {
		return nil, err
	}
	ciOld, ciExists, err := readSmall(filepath.Join(dir, filepath.FromSlash(ciFile)))
	if err != nil {
		return nil, err
	}
	includePath := "/" + path.Clean(filepath.ToSlash(snippetPath))
	ciNew := minimalCIFile(includePath)
	if ciExists {
		if ciNew, err = addInclude(ciOld, includePath); err != nil {
			return nil, fmt.Errorf("%s: %w", ciFile, err)
		}
	}
	return []FileEdit{
		{Path: filepath.ToSlash(snippetPath), Old: snipOld, New: snippet, Exists: snipExists},
		{Path: filepath.ToSlash(ciFile), Old: ciOld, New: ciNew, Exists: ciExists, IsCIFile: true},
	}, nil
}

// readSmall reads a file that may be missing, refusing huge ones.
func readSmall(p string) (content string, exists bool, err error) {
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", p, err)
	}
	if !info.Mode().IsRegular() {
		return "", false, fmt.Errorf("%s is not a regular file", p)
	}
	if info.Size() > maxCIFileSize {
		return "", false, fmt.Errorf("%s is larger than %d bytes; refusing to edit it", p, maxCIFileSize)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", p, err)
	}
	return string(b), true, nil
}

// minimalCIFile is the main pipeline file created when there is none. It
// carries a starter job besides the include because GitLab does not run a
// pipeline whose only jobs are in .pre or .post, where the example job sits.
func minimalCIFile(includePath string) string {
	return "# Created by gitlab-oidc. Replace the deploy job's script with your own.\n" +
		"stages:\n  - deploy\n\n" +
		"include:\n  - local: '" + includePath + "'\n\n" +
		"# Jobs that extend .aws-oidc get AWS credentials before their script runs.\n" +
		"deploy:\n  extends: " + templateName + "\n  stage: deploy\n  script:\n    - aws sts get-caller-identity\n"
}

// ApplyCIFiles turns edits into changes with unified diffs and, when apply
// is true, writes them. Adding the include: to the main pipeline file is an
// ordinary edit, shown as a diff with the rest of the plan; only a snippet
// file that exists with other content (someone's edits would be lost) needs
// d.OverwriteFiles, and without it the result is a *ConflictError carrying
// the diff. Files are written atomically
// and keep their mode. Unchanged files yield ActionKeep, so a second run
// changes nothing.
func ApplyCIFiles(dir string, edits []FileEdit, d Decisions, apply bool) ([]Change, error) {
	changes := make([]Change, 0, len(edits))
	for _, e := range edits {
		ch := Change{Resource: "file", Name: e.Path}
		switch {
		case !e.Changed():
			ch.Action, ch.Detail = ActionKeep, "already up to date"
			changes = append(changes, ch)
			continue
		case !e.Exists:
			ch.Action, ch.Detail = ActionWrite, "new file"
		default:
			ch.Action = ActionEdit
		}
		ch.Diff = textdiff.Unified("a/"+e.Path, "b/"+e.Path, e.Old, e.New, 3)
		if e.Exists {
			if !e.IsCIFile && !d.OverwriteFiles {
				return changes, &ConflictError{Resource: "file", Name: e.Path, Diff: ch.Diff,
					Hint: "replacing it loses the edits shown: confirm it on the review screen or pass --yes (or choose another --ci-file)"}
			}
			if e.IsCIFile {
				ch.Detail = "add include of the snippet"
			} else {
				ch.Detail = "replace the snippet"
			}
		}
		if apply {
			if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(e.Path)), e.New); err != nil {
				return changes, err
			}
			ch.Applied = true
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

// writeAtomic writes content to a temporary file beside p and renames it
// over p, so a crash never leaves a half-written pipeline file. An existing
// file's mode is kept; new files get 0644.
func writeAtomic(p, content string) error {
	mode := fs.FileMode(0o644)
	if info, err := os.Stat(p); err == nil {
		mode = info.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", p, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// addInclude returns src with includePath added to its top-level include:,
// changing as little text as possible. It handles no include, a string, a
// list (block or flow) and a map ({local: ...}) form, and returns src
// unchanged when the file is already included.
func addInclude(src, includePath string) (string, error) {
	if strings.Contains(src, "\r\n") {
		lf := strings.ReplaceAll(src, "\r\n", "\n")
		out, err := addIncludeLF(lf, includePath)
		if err != nil || out == lf {
			return src, err
		}
		return strings.ReplaceAll(out, "\n", "\r\n"), nil
	}
	return addIncludeLF(src, includePath)
}

// addIncludeLF is addInclude for text with \n line ends.
func addIncludeLF(src, includePath string) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		return "", fmt.Errorf("not valid YAML (fix it first): %w", err)
	}
	entry := "local: '" + includePath + "'"
	if len(doc.Content) == 0 { // empty or comments only
		return appendText(src, "include:\n  - "+entry+"\n"), nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return "", errors.New("the top level is not a mapping of jobs and keywords")
	}
	var key, val *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "include" {
			key, val = root.Content[i], root.Content[i+1]
		}
	}
	if key == nil {
		if root.Style&yaml.FlowStyle != 0 {
			return "", errors.New("the file is one flow mapping; add the include by hand")
		}
		return insertTopLevel(src, "include:\n  - "+entry+"\n"), nil
	}
	if alreadyIncluded(val, includePath) {
		return src, nil
	}
	lines := strings.SplitAfter(src, "\n")
	switch {
	case val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle == 0 && len(val.Content) > 0:
		// Block list: add an item after the last one, at the same indentation.
		first := val.Content[0]
		indent := strings.Repeat(" ", max(first.Column-3, 0))
		at := endLine(val, lines)
		return insertLines(lines, at, indent+"- "+entry+"\n"), nil
	case val.Line == key.Line || val.Kind == yaml.SequenceNode:
		// include: on one line (string, flow list, flow map, or empty list):
		// rewrite that key as a block list holding the old value and ours.
		items, err := existingItems(val, lines)
		if err != nil {
			return "", err
		}
		block := "include:\n"
		for _, it := range append(items, entry) {
			block += "  - " + it + "\n"
		}
		return replaceLines(lines, key.Line-1, endLine(val, lines), block), nil
	default:
		// Block map form (include:\n  local: x): turn it into a list item.
		start, end := val.Line-1, endLine(val, lines)
		indent := strings.Repeat(" ", val.Column-1)
		var block strings.Builder
		block.WriteString("include:\n")
		for i := start; i < end; i++ {
			l := strings.TrimPrefix(lines[i], indent)
			if i == start {
				block.WriteString("  - " + l)
			} else if strings.TrimSpace(l) == "" {
				block.WriteString(l)
			} else {
				block.WriteString("    " + l)
			}
		}
		block.WriteString("  - " + entry + "\n")
		return replaceLines(lines, key.Line-1, end, block.String()), nil
	}
}

// alreadyIncluded reports whether the include value names includePath as a
// local file (with or without the leading slash).
func alreadyIncluded(val *yaml.Node, includePath string) bool {
	same := func(s string) bool {
		return strings.TrimPrefix(strings.TrimSpace(s), "/") == strings.TrimPrefix(includePath, "/")
	}
	switch val.Kind {
	case yaml.ScalarNode:
		return same(val.Value)
	case yaml.SequenceNode:
		for _, it := range val.Content {
			if alreadyIncluded(it, includePath) {
				return true
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(val.Content); i += 2 {
			if val.Content[i].Value == "local" && same(val.Content[i+1].Value) {
				return true
			}
		}
	}
	return false
}

// existingItems renders the items of a one-line include value as block list
// entries, reusing the user's text for each item.
func existingItems(val *yaml.Node, lines []string) ([]string, error) {
	var nodes []*yaml.Node
	switch {
	case val.Kind == yaml.SequenceNode:
		nodes = val.Content
	case val.Kind == yaml.ScalarNode && val.Tag == "!!null":
		return nil, nil
	default:
		nodes = []*yaml.Node{val}
	}
	var items []string
	for _, n := range nodes {
		out, err := yaml.Marshal(n)
		if err != nil {
			return nil, fmt.Errorf("re-render include item: %w", err)
		}
		item := strings.TrimSpace(string(out))
		if n.Kind == yaml.MappingNode {
			var flow yaml.Node = *n
			flow.Style = yaml.FlowStyle
			if out, err = yaml.Marshal(&flow); err == nil {
				item = strings.TrimSpace(string(out))
			}
		}
		items = append(items, item)
	}
	return items, nil
}

// endLine is the 0-based index of the first line after node's text: the
// first later line that is indented at most as far as the node's parent key
// and is not blank or a comment.
func endLine(n *yaml.Node, lines []string) int {
	last := lastLine(n)
	keyCol := 1 // top-level keys
	for i := last; i < len(lines); i++ {
		t := strings.TrimRight(lines[i], "\r\n")
		trim := strings.TrimLeft(t, " ")
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		if len(t)-len(trim)+1 <= keyCol && !strings.HasPrefix(trim, "- ") && trim != "-" {
			return trimTrailingBlank(lines, i, last)
		}
	}
	return trimTrailingBlank(lines, len(lines), last)
}

// trimTrailingBlank backs off blank and comment lines before end, so an
// inserted item goes right after the last item and comments that introduce
// the next key stay with it.
func trimTrailingBlank(lines []string, end, floor int) int {
	for end > floor {
		trim := strings.TrimSpace(lines[end-1])
		if trim != "" && !strings.HasPrefix(trim, "#") {
			break
		}
		end--
	}
	return end
}

// lastLine is the 1-based line of the deepest last descendant of n.
func lastLine(n *yaml.Node) int {
	for len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	return n.Line
}

// insertTopLevel puts block before the first top-level key, after any
// leading comments, so include: reads first as GitLab's docs show it.
func insertTopLevel(src, block string) string {
	lines := strings.SplitAfter(src, "\n")
	at := 0
	for at < len(lines) {
		trim := strings.TrimSpace(lines[at])
		if trim != "" && !strings.HasPrefix(trim, "#") && trim != "---" {
			break
		}
		at++
	}
	// Keep a header comment block separate from the include.
	if at == len(lines) {
		return appendText(src, block)
	}
	return insertLines(lines, at, block+"\n")
}

func appendText(src, block string) string {
	if src != "" && !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	return src + block
}

func insertLines(lines []string, at int, text string) string {
	if at > 0 && !strings.HasSuffix(lines[at-1], "\n") {
		text = "\n" + text
	}
	return strings.Join(lines[:at], "") + text + strings.Join(lines[at:], "")
}

func replaceLines(lines []string, from, to int, text string) string {
	return strings.Join(lines[:from], "") + text + strings.Join(lines[to:], "")
}
