package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
)

// PDOOptions ask for patient-level data of a stored query's cohort (i2b2's PDO request).
type PDOOptions struct {
	Blobs      bool // include *_blob columns, decrypted (DATA_DEID)
	Identified bool // include names, record numbers and addresses (DATA_PROT)
	Offset     int  // patients to skip, in patient_num order
	Limit      int  // patients per page (default 100, at most 1000)
}

// PDO is a page of patient-level data: the patients, their visits and observations, and the
// concepts those use. Blob fields are empty unless asked for and allowed.
type PDO struct {
	Total        int64            `json:"total_patients"`
	Patients     []map[string]any `json:"patients"`
	Visits       []map[string]any `json:"visits"`
	Observations []map[string]any `json:"observations"`
	Concepts     []map[string]any `json:"concepts"`
	Identities   []map[string]any `json:"identities,omitempty"`
	Governance   *Admission       `json:"governance,omitempty"` // whose data entered (issue 9's gate)
}

// Patients returns patient-level data of the cohort of the user's stored query id: DATA_LDS
// without blobs, DATA_DEID with blobs, DATA_PROT with identified data. The read is audited
// with what was returned (counts).
func (w *Warehouse) Patients(ctx context.Context, p access.Principal, projectCode, id string, o PDOOptions) (PDO, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return PDO{}, err
	}
	need := access.PatientData
	if o.Identified {
		need = access.IdentifiedData
	} else if o.Blobs {
		need = access.PatientBlobs
	}
	if err := access.Check(p, need, x); err != nil {
		return PDO{}, err
	}
	if o.Limit <= 0 {
		o.Limit = 100
	}
	if o.Limit > 1000 || o.Offset < 0 {
		return PDO{}, fmt.Errorf("%w: limit is at most 1000 and offset not negative", derrors.Invalid)
	}
	q, _, err := w.stored(ctx, p, x, id)
	if err == nil {
		err = q.Normalize() // stored by an earlier version, perhaps: read in today's form
	}
	if err != nil {
		return PDO{}, err
	}
	s, err := w.cohorts.Scope(ctx, agency)
	var adm admission
	var patients *roaring.Bitmap
	if err == nil {
		adm, err = w.admit(ctx, p, x, s.Generation(), agency, AnalysisPatients)
	}
	if err == nil {
		patients, err = s.Patients(ctx, q, w.resolver(p, x))
	}
	if err != nil {
		return PDO{}, err
	}
	all := adm.apply(patients).ToArray()
	out := PDO{Total: int64(len(all)), Governance: adm.shown()}
	if err := w.read(ctx, &out, agency, all[min(o.Offset, len(all)):min(o.Offset+o.Limit, len(all))], o); err != nil {
		return PDO{}, err
	}
	detail := map[string]string{"patients": strconv.Itoa(len(out.Patients)), "visits": strconv.Itoa(len(out.Visits)),
		"observations": strconv.Itoa(len(out.Observations)), "blobs": strconv.FormatBool(o.Blobs), "identified": strconv.FormatBool(o.Identified)}
	adm.audit(detail)
	return out, w.Access.Record(ctx, p, "warehouse.pdo", "project/"+x.Code+"/query/"+id, detail)
}

// read fills out with the rows of the patients page in the agency's scope ("" for every
// agency): patients, visits, observations, the concepts they use and, when asked, the
// identified data.
func (w *Warehouse) read(ctx context.Context, out *PDO, agency string, page []uint32, o PDOOptions) error {
	if len(page) == 0 {
		return nil
	}
	ids := make([]string, len(page))
	for i, n := range page {
		ids[i] = strconv.FormatUint(uint64(n), 10)
	}
	// The numbers come from the store and are formatted here, so they may be written in.
	in := "(" + strings.Join(ids, ", ") + ")"
	scope := "($1 = '' OR agency = $1)"
	read := func(dst *[]map[string]any, t *schema.Table, q string) error {
		rows, err := w.rows(ctx, t, o.Blobs, q, agency)
		*dst = rows
		return err
	}
	errs := []error{
		read(&out.Patients, schema.Named("patient_dimension"), "SELECT %s FROM patient_dimension WHERE "+scope+" AND patient_num IN "+in+" ORDER BY patient_num"),
		read(&out.Visits, schema.Named("visit_dimension"), "SELECT %s FROM visit_dimension WHERE "+scope+" AND patient_num IN "+in+" ORDER BY patient_num, encounter_num"),
		read(&out.Observations, schema.Named("observation_fact"), "SELECT %s FROM observation_fact WHERE "+scope+" AND patient_num IN "+in+" ORDER BY patient_num, encounter_num, concept_cd, instance_num"),
		read(&out.Concepts, schema.Named("concept_dimension"), "SELECT %s FROM concept_dimension WHERE (agency = '' OR $1 = '' OR agency = $1) AND concept_cd IN (SELECT DISTINCT concept_cd FROM observation_fact WHERE "+scope+" AND patient_num IN "+in+") ORDER BY concept_path"),
	}
	if o.Identified {
		errs = append(errs, w.identities(ctx, out, agency, in))
	}
	return errors.Join(errs...)
}

// rows reads rows of a table as column → value, opening blob columns when asked and leaving
// them out otherwise. q has one %s for the column list.
func (w *Warehouse) rows(ctx context.Context, t *schema.Table, blobs bool, q string, args ...any) ([]map[string]any, error) {
	var cols []string
	for _, c := range t.Cols {
		if c.Kind != schema.Blob || blobs {
			cols = append(cols, c.Name)
		}
	}
	rows, err := w.DB.QueryContext(ctx, fmt.Sprintf(q, strings.Join(append(cols, "agency"), ", ")), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols), len(cols)+1)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var rowAgency string
		if err := rows.Scan(append(ptrs, &rowAgency)...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		file := make([]any, len(t.Cols)) // the row in file order, to bind sealed values
		for i, c := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
			file[t.Index(c)] = vals[i]
		}
		for i, c := range t.Cols {
			sealed, ok := m[c.Name].(string)
			if c.Kind != schema.Blob || !ok || sealed == "" {
				continue
			}
			plain, err := w.Keys.Open(sealed, t.Place(i, rowAgency, file))
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
			}
			m[c.Name] = plain
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (w *Warehouse) identities(ctx context.Context, out *PDO, agency, in string) error {
	rows, err := w.DB.QueryContext(ctx, "SELECT patient_num, identity_blob, agency FROM patient_identity WHERE ($1 = '' OR agency = $1) AND patient_num IN "+in+" ORDER BY patient_num", agency)
	if err != nil {
		return fmt.Errorf("patient_identity: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int64
		var sealed, rowAgency string
		if err := rows.Scan(&n, &sealed, &rowAgency); err != nil {
			return err
		}
		plain, err := w.Keys.Open(sealed, schema.IdentityPlace(rowAgency, n))
		if err != nil {
			return fmt.Errorf("patient_identity: %w", err)
		}
		var id schema.Identity
		if err := json.Unmarshal([]byte(plain), &id); err != nil {
			return fmt.Errorf("patient_identity: %w", err)
		}
		out.Identities = append(out.Identities, map[string]any{"patient_num": n, "name": id.Name, "mrn": id.MRN, "address": id.Address})
	}
	return rows.Err()
}
