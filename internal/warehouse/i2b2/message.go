// Package i2b2 reads and writes the i2b2 hive's XML messages (i2b2 1.7/1.8, message schema
// hive/msg/1.1): the request envelope with its security block, and the response envelope
// with its result_status, for the PM, ontology and CRC cells that Steward answers (issue 20).
// It knows the messages' shape only; what each cell answers is decided by the warehouse and
// the access service (the web package puts them together).
//
// Requests are read as the query_definition parser reads XML: UTF-8 only, no document type
// declaration and so no entities beyond XML's own, a bounded number and depth of elements;
// namespace prefixes are dropped (i2b2 clients use ns2…ns8 freely).
package i2b2

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/xmltree"
)

// Node is an element of a request, by its local name.
type Node struct {
	Name  string
	Attrs map[string]string // attributes by local name
	Kids  []*Node
	text  strings.Builder
}

// Limits of a request document.
const (
	MaxDepth = 64
	MaxNodes = 50000
)

// ErrMalformed is what a request that cannot be read as an i2b2 message wraps.
var ErrMalformed = errors.New("malformed i2b2 message")

// Parse reads a whole request document strictly (internal/xmltree).
func Parse(b []byte) (*Node, error) {
	t, err := xmltree.Parse(b, MaxDepth, MaxNodes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return fromTree(t), nil
}

// fromTree is the tree with attributes by local name.
func fromTree(t *xmltree.Node) *Node {
	n := &Node{Name: t.Name, Attrs: make(map[string]string, len(t.Attrs)), Kids: make([]*Node, 0, len(t.Kids))}
	for _, a := range t.Attrs {
		n.Attrs[a.Name.Local] = a.Value
	}
	n.text.WriteString(t.Raw())
	for _, k := range t.Kids {
		n.Kids = append(n.Kids, fromTree(k))
	}
	return n
}

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

// Child is the first direct child of that name (nil if none).
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Children are the direct children of that name.
func (n *Node) Children(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, k := range n.Kids {
		if k.Name == name {
			out = append(out, k)
		}
	}
	return out
}

// Text is the element's own text, trimmed ("" for a nil node).
func (n *Node) Text() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text.String())
}

// Attr is an attribute's value ("" when absent or for a nil node).
func (n *Node) Attr(name string) string {
	if n == nil {
		return ""
	}
	return n.Attrs[name]
}

// SessionPrefix starts a password that is a session token, as i2b2's PM cell issues them.
const SessionPrefix = "SessionKey:"

// Security is a request's security block.
type Security struct {
	Domain, Username, Password string
	// Token is the session token when the password is one (SessionKey:…, or is_token="true").
	Token string
}

// Request is a request envelope.
type Request struct {
	Root     *Node
	Security Security
	Project  string // message_header/project_id
	Body     *Node  // message_body
}

// ReadRequest reads a request envelope: a message_header with a security block and a
// message_body.
func ReadRequest(b []byte) (Request, error) {
	root, err := Parse(b)
	if err != nil {
		return Request{}, err
	}
	if root.Name != "request" {
		return Request{}, fmt.Errorf("%w: the root element is %s, want request", ErrMalformed, root.Name)
	}
	h := root.Child("message_header")
	sec := h.Child("security")
	if h == nil || sec == nil {
		return Request{}, fmt.Errorf("%w: no message_header/security", ErrMalformed)
	}
	r := Request{Root: root, Project: h.Child("project_id").Text(), Body: root.Child("message_body")}
	if r.Body == nil {
		return Request{}, fmt.Errorf("%w: no message_body", ErrMalformed)
	}
	pw := sec.Child("password")
	r.Security = Security{Domain: sec.Child("domain").Text(), Username: sec.Child("username").Text(), Password: pw.Text()}
	if t, ok := strings.CutPrefix(r.Security.Password, SessionPrefix); ok {
		r.Security.Token, r.Security.Password = t, ""
	} else if strings.EqualFold(pw.Attr("is_token"), "true") {
		r.Security.Token, r.Security.Password = r.Security.Password, ""
	}
	if r.Security.Username == "" || r.Security.Password == "" && r.Security.Token == "" {
		return Request{}, fmt.Errorf("%w: security needs a username and a password", ErrMalformed)
	}
	if r.Project == "undefined" {
		r.Project = ""
	}
	return r, nil
}

// XML writes the element again without namespace prefixes: its attributes, its text (when
// it has no children) and its children. Comments and processing instructions are dropped.
func (n *Node) XML() string {
	var w Writer
	n.write(&w)
	return w.String()
}

func (n *Node) write(w *Writer) {
	names := make([]string, 0, len(n.Attrs))
	for k := range n.Attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	var attrs []string
	for _, k := range names {
		attrs = append(attrs, k, n.Attrs[k])
	}
	if len(n.Kids) == 0 {
		w.El(n.Name, n.Text(), attrs...)
		return
	}
	w.Open(n.Name, attrs...)
	for _, k := range n.Kids {
		k.write(w)
	}
	w.Close(n.Name)
}
