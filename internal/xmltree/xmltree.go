// Package xmltree reads an XML document from a client into a tree, strictly: UTF-8 only, no
// document type declaration (and so no entities beyond XML's own), one root element, a
// bounded number and depth of elements. Namespace prefixes are dropped, as i2b2 clients use
// them freely, and namespace declarations are not kept as attributes. The query_definition
// parser and the i2b2 message cells both read their documents through it.
package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Node is an element, by its local name.
type Node struct {
	Name  string
	Attrs []xml.Attr // in document order, namespace declarations left out
	Kids  []*Node
	text  strings.Builder
}

// Value is the element's own text, trimmed.
func (n *Node) Value() string { return strings.TrimSpace(n.text.String()) }

// Raw is the element's own text as the document has it (the text between its children too).
func (n *Node) Raw() string { return n.text.String() }

// Find is the first element of that local name at or under n, depth first (nil if none).
func (n *Node) Find(name string) *Node {
	if n == nil {
		return nil
	}
	if n.Name == name {
		return n
	}
	for _, k := range n.Kids {
		if f := k.Find(name); f != nil {
			return f
		}
	}
	return nil
}

// Parse reads a whole document. Its errors describe the document's shape, never its text.
func Parse(b []byte, maxDepth, maxNodes int) (*Node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported (want UTF-8)", label)
	}
	var stack []*Node
	var root *Node
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n++
			if n > maxNodes || len(stack) >= maxDepth {
				return nil, errors.New("too many or too deeply nested elements")
			}
			e := &Node{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" && a.Name.Space == "" {
					continue
				}
				e.Attrs = append(e.Attrs, a)
			}
			switch {
			case len(stack) > 0:
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, e)
			case root == nil:
				root = e
			default:
				return nil, errors.New("more than one root element")
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.Directive:
			return nil, errors.New("document type declarations are not accepted")
		}
	}
	if root == nil {
		return nil, errors.New("no element")
	}
	return root, nil
}
