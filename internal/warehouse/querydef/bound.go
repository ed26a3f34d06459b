package querydef

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// Bound is one end of a date range, as i2b2's constrainDateType: a wall-clock time (the
// zone it is written in is dropped, as i2b2 drops it, and so are fractions of a second), the
// fact column it bounds (START_DATE, the default, or END_DATE), and whether the bound itself
// is in the range (inclusive, the default). A date without a time is midnight, so a range
// to 2012-12-31 ends as that day begins, as in i2b2. In JSON a bound is its time alone
// ("2012-12-31" or "2012-12-31T08:30:00") or an object {"at", "column", "exclusive"}.
type Bound struct {
	At        string `json:"at"`                  // normalized: YYYY-MM-DD HH:MM:SS
	Column    string `json:"column,omitempty"`    // "" (START_DATE) or END_DATE
	Exclusive bool   `json:"exclusive,omitempty"` // inclusive="NO"
}

// UnmarshalJSON reads a bound written as its time alone or as an object.
func (b *Bound) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*b = Bound{At: s}
		return nil
	}
	type plain Bound
	var p plain
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("date bound: %w", err)
	}
	*b = Bound(p)
	return nil
}

// MarshalJSON writes a bound as its time alone when the rest are defaults.
func (b Bound) MarshalJSON() ([]byte, error) {
	if b.Column == "" && !b.Exclusive {
		return json.Marshal(b.At)
	}
	type plain Bound
	return json.Marshal(plain(b))
}

func (b *Bound) normalize() error {
	t, err := ParseTime(b.At)
	if err != nil {
		return err
	}
	b.At = t
	switch c := strings.ToUpper(strings.TrimSpace(b.Column)); c {
	case "", "START_DATE":
		b.Column = ""
	case "END_DATE":
		b.Column = c
	default:
		return fmt.Errorf(`date bound time %q is not supported (want START_DATE or END_DATE)`, b.Column)
	}
	return nil
}

// EndDate reports whether the bound is on the facts' end date.
func (b Bound) EndDate() bool { return b.Column == "END_DATE" }

// Layout is how the warehouse writes times: sortable as text.
const Layout = schema.TimeLayout

// ParseTime reads a date or date-time as i2b2 writes them (see schema.ParseTime).
func ParseTime(s string) (string, error) { return schema.ParseTime(s) }
