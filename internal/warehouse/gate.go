package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
)

// The analyses an ethics application names to cover the warehouse's reads (issue 9's gate).
const (
	AnalysisCount    = "cohort_count"  // counts and breakdowns of a cohort
	AnalysisPatients = "patient_level" // patient-level data of a cohort
)

// Admission is what the governance gate let into an answer, as the user is told it: the
// basis (an approved application, or a single agency's own evaluation), the agencies whose
// data entered, those left out and why, and how many clients were left out for their
// withdrawn consent (of the admitted agencies, not of the cohort).
type Admission struct {
	governance.Admitted
	ClientsLeftOut int `json:"clients_left_out"`
}

// admission is an Admission with the patients to take out of every cohort: those of the
// agencies left out and the clients who withdrew.
type admission struct {
	Admission
	exclude *roaring.Bitmap // nil: nothing to take out
}

// shown is what the answer says of the gate; nil when no agency's data was read.
func (a admission) shown() *Admission {
	if len(a.Agencies) == 0 && len(a.Left) == 0 {
		return nil
	}
	x := a.Admission
	return &x
}

// admit asks the governance gate whether analysis may read the scope's data in project x and
// whose data enters it. A scope of one agency asks for that agency; the whole site ("")
// asks for every agency with patients in the warehouse. Rows loaded without an agency are
// the site's own and pass without asking. Patients of agencies left out (no consent, or
// consent withdrawn by the agency or its region) and clients whose own consent is withdrawn
// are taken out of the answer through exclude. A refusal is audited. gen is the load
// generation of the answer's scope, whose gate cache is read.
func (w *Warehouse) admit(ctx context.Context, p access.Principal, x access.Project, gen int64, agency, analysis string) (admission, error) {
	c := w.cached(gen)
	var agencies, outside []string
	if agency != "" {
		agencies = []string{agency}
	} else {
		var err error
		if agencies, err = c.agencyList(ctx, w.DB); err != nil {
			return admission{}, err
		}
		// At district level (issue 18) the agencies outside the district, and the site's own
		// rows, are taken out without being named.
		if _, district := p.DataScope(); district != nil {
			var in []string
			for _, a := range agencies {
				if slices.Contains(district, a) {
					in = append(in, a)
				} else {
					outside = append(outside, a)
				}
			}
			agencies, outside = in, append(outside, "")
		}
	}
	if len(agencies) == 0 && len(outside) == 0 {
		return admission{}, nil
	}
	var a governance.Admitted
	var err error
	if len(agencies) > 0 {
		a, err = w.Gate.Admit(ctx, x.Code, agencies, analysis)
	}
	if errors.Is(err, derrors.Forbidden) {
		rerr := w.Access.Record(ctx, p, "warehouse.gate_refused", "project/"+x.Code,
			map[string]string{"analysis": analysis, "agencies": strings.Join(agencies, " "), "reason": err.Error()})
		return admission{}, errors.Join(err, rerr)
	}
	if err != nil {
		return admission{}, err
	}
	out := admission{Admission: Admission{Admitted: a}}
	var ex []*roaring.Bitmap
	for _, o := range outside {
		b, err := c.agencyPatients(ctx, w.DB, o)
		if err != nil {
			return admission{}, err
		}
		ex = append(ex, b)
	}
	for _, l := range a.Left {
		b, err := c.agencyPatients(ctx, w.DB, l.Agency)
		if err != nil {
			return admission{}, err
		}
		ex = append(ex, b)
	}
	for _, ag := range a.Agencies {
		b, err := w.withdrawn(ctx, ag)
		if err != nil {
			return admission{}, err
		}
		out.ClientsLeftOut += int(b.GetCardinality())
		ex = append(ex, b)
	}
	if len(ex) > 0 {
		out.exclude = roaring.FastOr(ex...)
	}
	return out, nil
}

// apply takes the excluded patients out of a cohort.
func (a admission) apply(cohort *roaring.Bitmap) *roaring.Bitmap {
	if a.exclude == nil || a.exclude.IsEmpty() {
		return cohort
	}
	return roaring.AndNot(cohort, a.exclude)
}

// digest names the patients the gate takes out, for the noise key: a new withdrawal is a new
// version of the data.
func (a admission) digest() string {
	if a.exclude == nil || a.exclude.IsEmpty() {
		return ""
	}
	h := sha256.New()
	var buf [4]byte
	it := a.exclude.Iterator()
	for it.HasNext() {
		binary.LittleEndian.PutUint32(buf[:], it.Next())
		h.Write(buf[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// audit adds what the gate decided to an audit entry's detail: ids and counts only.
func (a admission) audit(detail map[string]string) {
	if len(a.Agencies) == 0 && len(a.Left) == 0 {
		return
	}
	detail["basis"] = a.Application
	if a.Application == "" {
		detail["basis"] = "single-agency:" + a.SingleAgency
	}
	detail["agencies"] = strings.Join(a.Agencies, " ")
	detail["agencies_left_out"] = strconv.Itoa(len(a.Left))
	detail["clients_left_out"] = strconv.Itoa(a.ClientsLeftOut)
}

// gateCache holds, for one load generation, the agencies with patients and each agency's
// patients, for concurrent readers; consent is read afresh on every answer.
type gateCache struct {
	gen      int64
	agencies cohort.Lazy[[]string]
	mu       sync.Mutex
	patients map[string]*cohort.Lazy[*roaring.Bitmap]
}

// cached returns the gate cache of load generation gen, replacing an older one.
func (w *Warehouse) cached(gen int64) *gateCache {
	for {
		c := w.gates.Load()
		if c != nil && c.gen >= gen {
			return c // a newer generation's, when a load happened since the scope was read: the tables hold it
		}
		if w.gates.CompareAndSwap(c, &gateCache{gen: gen, patients: map[string]*cohort.Lazy[*roaring.Bitmap]{}}) {
			return w.gates.Load()
		}
	}
}

// agencyList lists the agencies that have patients in the warehouse.
func (c *gateCache) agencyList(ctx context.Context, db *store.DB) ([]string, error) {
	return c.agencies.Get(func() ([]string, error) {
		as, err := store.Strings(ctx, db, `SELECT DISTINCT agency FROM patient_dimension WHERE agency <> '' ORDER BY agency`)
		if err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		return as, nil
	})
}

// agencyPatients is every patient of one agency (shared: never change it).
func (c *gateCache) agencyPatients(ctx context.Context, db *store.DB, agency string) (*roaring.Bitmap, error) {
	c.mu.Lock()
	l := c.patients[agency]
	if l == nil {
		l = &cohort.Lazy[*roaring.Bitmap]{}
		c.patients[agency] = l
	}
	c.mu.Unlock()
	return l.Get(func() (*roaring.Bitmap, error) {
		b, err := cohort.Collect(ctx, db, `SELECT patient_num FROM patient_dimension WHERE agency = $1`, agency)
		if err != nil {
			return nil, fmt.Errorf("patient_dimension: %w", err)
		}
		return b, nil
	})
}

// withdrawn is the agency's patients whose client consent is withdrawn: the clients the
// gate names, found by their identifiers in patient_mapping.
func (w *Warehouse) withdrawn(ctx context.Context, agency string) (*roaring.Bitmap, error) {
	ids, err := w.Gate.WithdrawnClients(ctx, agency)
	if err != nil || len(ids) == 0 {
		return roaring.New(), err
	}
	all := make([]any, 0, len(ids))
	for id := range ids {
		all = append(all, id)
	}
	out := roaring.New()
	const chunk = 500
	for i := 0; i < len(all); i += chunk {
		part := all[i:min(i+chunk, len(all))]
		marks := make([]string, len(part))
		for j := range part {
			marks[j] = "$" + strconv.Itoa(j+2)
		}
		b, err := cohort.Collect(ctx, w.DB, `SELECT DISTINCT patient_num FROM patient_mapping WHERE agency = $1 AND patient_ide IN (`+strings.Join(marks, ", ")+`)`,
			append([]any{agency}, part...)...)
		if err != nil {
			return nil, fmt.Errorf("patient_mapping: %w", err)
		}
		out.Or(b)
	}
	return out, nil
}
