package adopt

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// field is a top-level key of a file init writes, with the comment above it.
type field struct {
	comment, key string
	value        any
	flow         bool // a list on one line: [a, b]
}

// render is a YAML file: head as its opening comment, then each field.
// The same input gives the same bytes.
func render(head string, fields ...field) []byte {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fields {
		var v yaml.Node
		if err := v.Encode(f.value); err != nil {
			panic(err) // plain strings and structs of them
		}
		if f.flow {
			v.Style = yaml.FlowStyle
		}
		doc.Content = append(doc.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f.key, HeadComment: comment(f.comment)}, &v)
	}
	var b bytes.Buffer
	b.WriteString(comment(head) + "\n\n")
	if len(fields) == 0 {
		return b.Bytes()
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// comment is text as YAML comment lines.
func comment(text string) string {
	if text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("# "+l, " ")
	}
	return strings.Join(lines, "\n")
}
