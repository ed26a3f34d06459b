package i2b2

import (
	"encoding/xml"
	"strings"
	"time"
)

// Namespaces of the messages Steward writes.
const (
	NSHive = "http://www.i2b2.org/xsd/hive/msg/1.1/"
	NSPM   = "http://www.i2b2.org/xsd/cell/pm/1.1/"
	NSPSM  = "http://www.i2b2.org/xsd/cell/crc/psm/1.1/"
	NSONT  = "http://www.i2b2.org/xsd/cell/ont/1.1/"
	NSPDO  = "http://www.i2b2.org/xsd/hive/pdo/1.1/"
	NSCPDO = "http://www.i2b2.org/xsd/cell/crc/pdo/1.1/"
	NSWORK = "http://www.i2b2.org/xsd/cell/work/1.1/"
	NSXSI  = "http://www.w3.org/2001/XMLSchema-instance"
)

// Status types of a response's result_status.
const (
	Done  = "DONE"
	Error = "ERROR"
)

// Writer builds an XML document; every text and attribute value is escaped.
type Writer struct{ b strings.Builder }

// Open writes a start tag; attrs are name, value pairs.
func (w *Writer) Open(name string, attrs ...string) *Writer {
	w.b.WriteByte('<')
	w.b.WriteString(name)
	for i := 0; i+1 < len(attrs); i += 2 {
		w.b.WriteByte(' ')
		w.b.WriteString(attrs[i])
		w.b.WriteString(`="`)
		xml.EscapeText(&w.b, []byte(attrs[i+1]))
		w.b.WriteByte('"')
	}
	w.b.WriteByte('>')
	return w
}

// Close writes an end tag.
func (w *Writer) Close(name string) *Writer {
	w.b.WriteString("</")
	w.b.WriteString(name)
	w.b.WriteByte('>')
	return w
}

// El writes an element holding text.
func (w *Writer) El(name, text string, attrs ...string) *Writer {
	w.Open(name, attrs...)
	xml.EscapeText(&w.b, []byte(text))
	return w.Close(name)
}

// Raw writes already well-formed XML (another Writer's document).
func (w *Writer) Raw(s string) *Writer { w.b.WriteString(s); return w }

// String is the document so far.
func (w *Writer) String() string { return w.b.String() }

// Time is how i2b2 writes a time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Response is a whole response envelope: the header, the result_status (DONE or ERROR with
// its message) and the body, whose elements may use the prefix ns4 for the cell's
// namespace cellNS (and xsi).
func Response(cellNS, project, status, message, body string) []byte {
	var w Writer
	w.Raw(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n")
	w.Open("ns2:response", "xmlns:ns2", NSHive, "xmlns:ns4", cellNS, "xmlns:xsi", NSXSI)
	w.Open("message_header")
	w.El("i2b2_version_compatible", "1.1").El("hl7_version_compatible", "2.4")
	w.Open("sending_application").El("application_name", "Steward").El("application_version", "1.7").Close("sending_application")
	w.Open("sending_facility").El("facility_name", "Steward").Close("sending_facility")
	w.El("datetime_of_message", Time(time.Now()))
	w.Open("processing_id").El("processing_id", "P").El("processing_mode", "I").Close("processing_id")
	w.El("project_id", project)
	w.Close("message_header")
	w.Open("response_header").Open("result_status").El("status", message, "type", status).Close("result_status").Close("response_header")
	w.Open("message_body").Raw(body).Close("message_body")
	w.Close("ns2:response")
	return []byte(w.String())
}
