package airlock

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// xlsxContentType is an .xlsx file's media type.
const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// ContentType is the media type a download of file serves.
func ContentType(file string) string {
	if strings.HasSuffix(file, ".xlsx") {
		return xlsxContentType
	}
	return "text/csv; charset=utf-8"
}

// releasedXLSX writes the checked table — the CSV that leaves (disclosure.Result.WriteReleased:
// hidden cells "suppressed", no contributor column) — as a workbook: a sheet "table" with the
// same header and rows, dimensions as text, persons and magnitudes as numbers (a suppressed
// cell as the text "suppressed"), and a sheet "provenance" with the fields of the request's
// files[].provenance (the gate's admission excepted, which the request shows). No formula,
// hidden sheet, comment or defined name; the document's creator is "Steward", its dates the
// table's computation.
func releasedXLSX(checked []byte, m disclosure.Meta, prov *warehouse.Table, export, file string) ([]byte, error) {
	rows, err := csv.NewReader(bytes.NewReader(checked)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("file %s: the checked table: %w", file, err)
	}
	x := excelize.NewFile()
	defer x.Close()
	if err := x.SetSheetName("Sheet1", "table"); err != nil {
		return nil, err
	}
	nd := len(m.Dimensions)
	for i, row := range rows {
		vals := make([]any, len(row))
		for j, v := range row {
			switch {
			case i == 0 || j < nd || v == "suppressed":
				vals[j] = v
			case j == nd: // persons
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("file %s line %d column %s: persons %q is not a whole number", file, i+1, rows[0][j], v)
				}
				vals[j] = n
			default:
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, fmt.Errorf("file %s line %d column %s: not a number", file, i+1, rows[0][j])
				}
				vals[j] = f
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("table", cell, &vals); err != nil {
			return nil, err
		}
	}
	if _, err := x.NewSheet("provenance"); err != nil {
		return nil, err
	}
	at := ""
	if prov != nil {
		at = prov.At.UTC().Format(time.RFC3339)
	}
	fields := [][2]string{{"export", export}, {"file", file}}
	if prov != nil {
		q := ""
		if prov.Quantile != 0 {
			q = strconv.FormatFloat(prov.Quantile, 'f', -1, 64)
		}
		fields = append(fields, [][2]string{{"project", prov.Project}, {"query_id", prov.QueryID}, {"definition_sha256", prov.Definition},
			{"dimensions", strings.Join(prov.Dimensions, ",")}, {"statistic", prov.Statistic}, {"concept", prov.Concept},
			{"quantile", q}, {"value", prov.Value}, {"by", prov.By}, {"at", at}}...)
		if len(prov.StructuralZeros) > 0 { // the declared structural zeros, shown as 0, and why
			cells := make([]string, len(prov.StructuralZeros))
			for i, k := range prov.StructuralZeros {
				cells[i] = strings.Join(k, ",")
			}
			fields = append(fields, [][2]string{{"structural_zeros", strings.Join(cells, "; ")}, {"structural_reason", prov.StructuralReason}}...)
		}
	}
	for i, f := range fields {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("provenance", cell, &[]any{f[0], f[1]}); err != nil {
			return nil, err
		}
	}
	if err := x.SetDocProps(&excelize.DocProperties{Creator: "Steward", LastModifiedBy: "Steward", Title: file,
		Created: at, Modified: at}); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := x.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
