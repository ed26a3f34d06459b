// Package xlsxwitness reads an .xlsx file with archive/zip and encoding/xml only — an
// independent witness for tests of the .xlsx files Steward writes (with excelize): every
// part of the package, every sheet's cells as stored (shared strings resolved), formulas,
// hidden sheets, defined names and comments, so that a test can say what a file holds
// without trusting the library that wrote it.
package xlsxwitness

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Cell is one stored cell: its reference, type attribute (t: "" or "n" a number, "s" a
// shared string, "str", "inlineStr", "b", "e"), its value as stored (a shared string
// resolved) and whether it holds a formula.
type Cell struct {
	Ref     string
	Type    string
	Value   string
	Formula bool
}

// Number reports whether the cell is stored as a number.
func (c Cell) Number() bool { return c.Type == "" || c.Type == "n" }

// Sheet is one worksheet.
type Sheet struct {
	Name  string
	State string // "" (visible), "hidden" or "veryHidden"
	Part  string
	Rows  [][]Cell
}

// Workbook is what the package holds.
type Workbook struct {
	Parts        map[string][]byte // every part, by name
	Sheets       []Sheet
	DefinedNames int
}

// Sheet returns the sheet named name, or nil.
func (w *Workbook) Sheet(name string) *Sheet {
	for i := range w.Sheets {
		if w.Sheets[i].Name == name {
			return &w.Sheets[i]
		}
	}
	return nil
}

// Text is the character data of every XML part and the raw bytes of every other, one
// string per text node: what someone unzipping the file could read.
func (w *Workbook) Text() map[string][]string {
	out := map[string][]string{}
	for name, b := range w.Parts {
		if !strings.HasSuffix(name, ".xml") && !strings.HasSuffix(name, ".rels") {
			out[name] = []string{string(b)}
			continue
		}
		d := xml.NewDecoder(bytes.NewReader(b))
		for {
			tok, err := d.Token()
			if err != nil {
				break
			}
			switch t := tok.(type) {
			case xml.CharData:
				if s := strings.TrimSpace(string(t)); s != "" {
					out[name] = append(out[name], s)
				}
			case xml.StartElement:
				for _, a := range t.Attr {
					out[name] = append(out[name], a.Value)
				}
			}
		}
	}
	return out
}

// Strings are a sheet's cells' values, row by row, as displayed text (numbers as stored).
func (s *Sheet) Strings() [][]string {
	out := make([][]string, len(s.Rows))
	for i, r := range s.Rows {
		for _, c := range r {
			out[i] = append(out[i], c.Value)
		}
	}
	return out
}

// Read reads an .xlsx file.
func Read(b []byte) (*Workbook, error) {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	w := &Workbook{Parts: map[string][]byte{}}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", f.Name, err)
		}
		w.Parts[f.Name] = data
	}
	var shared []string
	if b, ok := w.Parts["xl/sharedStrings.xml"]; ok {
		var sst struct {
			SI []struct {
				T string `xml:"t"`
				R []struct {
					T string `xml:"t"`
				} `xml:"r"`
			} `xml:"si"`
		}
		if err := xml.Unmarshal(b, &sst); err != nil {
			return nil, fmt.Errorf("shared strings: %w", err)
		}
		for _, si := range sst.SI {
			s := si.T
			for _, r := range si.R {
				s += r.T
			}
			shared = append(shared, s)
		}
	}
	var book struct {
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"`
			RID   string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
		Defined []struct{} `xml:"definedNames>definedName"`
	}
	if err := xml.Unmarshal(w.Parts["xl/workbook.xml"], &book); err != nil {
		return nil, fmt.Errorf("workbook: %w", err)
	}
	w.DefinedNames = len(book.Defined)
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(w.Parts["xl/_rels/workbook.xml.rels"], &rels); err != nil {
		return nil, fmt.Errorf("workbook relationships: %w", err)
	}
	target := map[string]string{}
	for _, r := range rels.Rel {
		t := r.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join("xl", t)
		}
		target[r.ID] = t
	}
	for _, s := range book.Sheets {
		part := target[s.RID]
		data, ok := w.Parts[part]
		if !ok {
			return nil, fmt.Errorf("sheet %s: part %q missing", s.Name, part)
		}
		var ws struct {
			Rows []struct {
				C []struct {
					R  string  `xml:"r,attr"`
					T  string  `xml:"t,attr"`
					F  *string `xml:"f"`
					V  string  `xml:"v"`
					IS struct {
						T string `xml:"t"`
					} `xml:"is"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
		}
		if err := xml.Unmarshal(data, &ws); err != nil {
			return nil, fmt.Errorf("sheet %s: %w", s.Name, err)
		}
		sh := Sheet{Name: s.Name, State: s.State, Part: part}
		for _, r := range ws.Rows {
			var row []Cell
			for _, c := range r.C {
				cell := Cell{Ref: c.R, Type: c.T, Value: c.V, Formula: c.F != nil}
				switch c.T {
				case "s":
					i, err := strconv.Atoi(c.V)
					if err != nil || i < 0 || i >= len(shared) {
						return nil, fmt.Errorf("sheet %s cell %s: shared string %q", s.Name, c.R, c.V)
					}
					cell.Value = shared[i]
				case "inlineStr":
					cell.Value = c.IS.T
				}
				row = append(row, cell)
			}
			sh.Rows = append(sh.Rows, row)
		}
		w.Sheets = append(w.Sheets, sh)
	}
	return w, nil
}
