package airlock

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// stored names of a request's files: the checked version (hidden cells suppressed); the
// upload, kept only to check it again at approval and never served; and the table an
// approved exception releases (the checked one with the cells the reviewers freed).
func checkedName(id, file string) string  { return id + "--checked--" + file }
func originalName(id, file string) string { return id + "--original--" + file }
func freedName(id, file string) string    { return id + "--freed--" + file }

type evidence struct {
	Result *disclosure.Result `json:"result"`
	Record disclosure.Release `json:"record"` // what the ledger keeps when the file is released
}

// rowLevelComment is why an exception of a list of persons is refused.
const rowLevelComment = "row-level data (most rows count one person) is never released by an exception of a failed check; " +
	"non-aggregated exports go only through the documented route for them"

// declaredComment marks a hand-made upload.
const declaredComment = "hand-made upload: contributors declared, not verified; a reviewer validates it"

// structuralComment marks a request whose analyst declared zero cells structural.
const structuralComment = "zero cells declared structural by the analyst, shown as 0; a reviewer validates the declaration"

// Submit runs the checks on an analyst's files and queues or refuses the request. The files
// are hand-made — produced elsewhere in the processing environment, their persons and
// contributors declared by the analyst, not verified — so the request always waits for a
// reviewer, whatever the analyst's mode.
func (s *Service) Submit(ctx context.Context, p access.Principal, project string, sub Submission) (*Request, error) {
	return s.submit(ctx, p, project, sub, false)
}

// submit runs the checks on the files and releases, queues or refuses the request. Only
// tables Steward computed itself (computed: their cells' contributors known, not declared)
// are released at once for an automatic analyst.
func (s *Service) submit(ctx context.Context, p access.Principal, project string, sub Submission, computed bool) (*Request, error) {
	x, err := s.project(ctx, p, project, access.RequestExport)
	if err != nil {
		return nil, err
	}
	m, err := s.mode(ctx, x.Code, p.User)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(sub.Purpose) == "" || len(sub.Files) == 0 {
		return nil, fmt.Errorf("%w: an export request needs a purpose and at least one file", derrors.Invalid)
	}
	sub.StructuralReason = strings.TrimSpace(sub.StructuralReason)
	if err := sub.structural(); err != nil {
		return nil, err
	}
	adm, err := s.admit(ctx, p, x, sub.Agencies, sub.Analysis)
	if err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, x.Code)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	r := &Request{ID: randomID("exp-", 8), Project: x.Code, Author: p.User, Mode: m, Purpose: sub.Purpose,
		Exception: strings.TrimSpace(sub.Exception), Created: now, Agencies: adm.Agencies, Analysis: cmp.Or(sub.Analysis, DefaultAnalysis), Basis: basis(adm),
		StructuralReason: sub.StructuralReason}
	r.Needs = needs(st, r.Exception != "")
	r.Declared = !computed
	earlier := map[string][]disclosure.Release{}
	seen := map[string]bool{}
	outright, refused, rowLevel := false, false, false
	for _, in := range sub.Files {
		if in.table == nil && strings.HasSuffix(in.Name, ".xlsx") {
			return nil, fmt.Errorf("%w: file name %q: hand-made uploads are CSV (an .xlsx is written only of a table Steward computes: exports/tables)", derrors.Invalid, in.Name)
		}
		xlsx := in.table != nil && strings.HasSuffix(in.Name, ".xlsx")
		if in.Name != filepath.Base(in.Name) || !strings.HasSuffix(in.Name, ".csv") && !xlsx || seen[in.Name] {
			return nil, fmt.Errorf("%w: file name %q: want a plain, unique name ending in .csv", derrors.Invalid, in.Name)
		}
		seen[in.Name] = true
		pop := in.Meta.Population
		if _, ok := earlier[pop]; !ok {
			if earlier[pop], err = s.earlier(ctx, pop); err != nil {
				return nil, err
			}
		}
		if in.table == nil && len(in.Meta.Overlapping) > 0 {
			return nil, fmt.Errorf("%w: file %s: metadata overlapping is set only by Steward, for the tables it computes", derrors.Invalid, in.Name)
		}
		t, head, err := disclosure.ReadCSV(in.Name, strings.NewReader(in.Data), in.Meta)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", derrors.Invalid, err)
		}
		if in.table != nil { // a computed cell's true per-person values, for dominance and p %
			for _, c := range in.table.Cells {
				if dc := t.Cell(c.Key...); dc != nil && len(c.Values) > 0 {
					dc.Values = c.Values
				}
			}
		}
		res := disclosure.Check(t, head, st.Rules, earlier[pop])
		if computed { // Steward counted the contributors itself
			res.Verified()
		}
		id := randomID("rel-", 8)
		f := File{Name: in.Name, Meta: in.Meta, Result: res, Cells: cellsOf(r), record: res.Record(id, p.User, r.ID, now, false)}
		// files of one request are compared too, as if all their cells left
		earlier[pop] = append(earlier[pop], res.Record(id, p.User, r.ID, now, true))
		outright = outright || res.Outright
		rowLevel = rowLevel || res.RowLevel()
		refused = refused || res.Verdict == disclosure.Refused
		r.Files = append(r.Files, f)
		if !res.Outright {
			var b bytes.Buffer
			if err := res.WriteReleased(&b); err != nil {
				return nil, err
			}
			if xlsx { // the checked table, written again as a workbook
				x, err := releasedXLSX(b.Bytes(), in.Meta, in.table, r.ID, in.Name)
				if err != nil {
					return nil, err
				}
				b.Reset()
				b.Write(x)
			}
			if err := s.Files.Put(ctx, checkedName(r.ID, in.Name), &b, int64(b.Len())); err != nil {
				return nil, fmt.Errorf("store %s: %w", in.Name, err)
			}
			// kept, never served, to check it again at approval against the ledger as it is then
			if err := s.Files.Put(ctx, originalName(r.ID, in.Name), strings.NewReader(in.Data), int64(len(in.Data))); err != nil {
				return nil, fmt.Errorf("store %s: %w", in.Name, err)
			}
		}
	}
	// the ledger over people: a computed table's shown cells against every released cell
	people, incomplete := "", false
	if computed && !outright && !refused {
		for i := range r.Files {
			r.Files[i].Provenance = sub.Files[i].table
		}
		f, why, ran, err := s.checkPeople(ctx, p, r, st, sub.Files)
		if err != nil {
			return nil, err
		}
		people, incomplete = why, ran && f.Incomplete
	}
	switch {
	case outright:
		r.Status, r.Comment = Refused, "not aggregated data: refused outright"
	case people != "":
		r.Status, r.Comment = Refused, "refused: "+people
	case rowLevel && r.Exception != "":
		r.Status, r.Comment = Refused, rowLevelComment
	case refused && r.Exception == "":
		r.Status, r.Comment = Refused, "checks failed: change the files, or ask for an exception with a written reason"
	case m == Validated || r.Exception != "" || st.Bunker: // in a bunker the data publishers verify
		r.Status = Pending
	case r.Declared: // a hand-made upload: a reviewer validates it
		r.Status = Pending
	case incomplete: // not proven safe: never automatic
		r.Status = Pending
	case sub.StructuralReason != "": // zeros declared structural: a reviewer validates the declaration
		r.Status = Pending
	default:
		r.Status = Released
	}
	if r.Status == Pending && r.Declared {
		r.Comment = declaredComment
	}
	if r.Status == Pending && incomplete {
		r.Comment = incompleteComment
	}
	declared := 0
	for _, f := range sub.Files {
		declared += len(f.Meta.StructuralCells)
	}
	if r.Status == Pending && sub.StructuralReason != "" {
		r.Comment = strings.TrimPrefix(r.Comment+"; ", "; ") + fmt.Sprintf("%s (%d cell(s)): %s", structuralComment, declared, sub.StructuralReason)
	}
	var links []newLink
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, exception, status, created_at, comment, agencies, analysis, basis, declared, structural_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, r.ID, r.Project, r.Author, string(m), r.Purpose, r.Exception,
			string(r.Status), store.FormatTime(now), r.Comment, strings.Join(r.Agencies, " "), r.Analysis, r.Basis, r.Declared, r.StructuralReason); err != nil {
			return nil, err
		}
		d := map[string]string{"project": r.Project, "mode": string(m), "status": string(r.Status), "files": fmt.Sprint(len(r.Files)),
			"agencies": strings.Join(r.Agencies, " "), "analysis": r.Analysis, "basis": r.Basis}
		if r.Exception != "" {
			d["exception"] = r.Exception // the analyst's written reason
		}
		if sub.StructuralReason != "" {
			d["structural_zeros"] = strconv.Itoa(declared)
			d["structural_reason"] = sub.StructuralReason // the analyst's written reason
		}
		if r.Declared {
			d["provenance"] = "hand-made: contributors declared, not verified"
		}
		for _, f := range r.Files {
			ev, _ := json.Marshal(evidence{f.Result, f.record})
			meta, _ := json.Marshal(f.Meta)
			if _, err := tx.ExecContext(ctx, `INSERT INTO export_files (request_id, name, meta, verdict, evidence) VALUES ($1, $2, $3, $4, $5)`,
				r.ID, f.Name, string(meta), string(f.Result.Verdict), string(ev)); err != nil {
				return nil, err
			}
			d["file:"+f.Name] = fmt.Sprintf("%s, %d of %d cells hidden", f.Result.Verdict, len(f.Result.Hidden), f.Result.Cells)
		}
		if computed {
			d["provenance"] = "computed by Steward from the warehouse"
			if err := saveComputed(ctx, tx, r, sub.Files); err != nil {
				return nil, err
			}
		}
		es := []audit.Entry{event(p, "export.submit", "export/"+r.ID, d)}
		if r.Status == Released {
			rel, ls, err := s.release(ctx, tx, p, r, st)
			links = ls
			return append(es, rel...), err
		}
		return es, nil
	})
	if err != nil {
		return nil, err
	}
	s.tell(ctx, r, links)
	return r, nil
}

// structural checks the declaration of structural zeros: cells named in a file's metadata
// (structural_cells, checked against the file when it is read) need the request's
// structural_reason, and a reason needs cells.
func (sub Submission) structural() error {
	var named []string
	for _, f := range sub.Files {
		if len(f.Meta.StructuralCells) > 0 {
			named = append(named, f.Name)
		}
	}
	switch {
	case len(named) > 0 && sub.StructuralReason == "":
		return fmt.Errorf("%w: file %s: metadata structural_cells need the request's structural_reason: why can these cells not hold anyone?", derrors.Invalid, strings.Join(named, ", "))
	case len(named) == 0 && sub.StructuralReason != "":
		var files []string
		for _, f := range sub.Files {
			files = append(files, f.Name)
		}
		return fmt.Errorf("%w: structural_reason without structural_cells: no file (%s) names in its metadata the cells whose zeros are structural", derrors.Invalid, strings.Join(files, ", "))
	}
	return nil
}

// Decision is a reviewer's decision on a pending request.
type Decision struct {
	Approve bool   `json:"approve"`
	Comment string `json:"comment"`
	// Free names, per file, the hidden cells an approved exception shows, as the evidence
	// labels them (e.g. "age_band=0-17"); every other hidden cell stays hidden.
	Free map[string][]string `json:"free,omitempty"`
}

// Review approves or rejects a pending request, freeing no cell.
func (s *Service) Review(ctx context.Context, p access.Principal, id string, approve bool, comment string) (*Request, error) {
	return s.Decide(ctx, p, id, Decision{Approve: approve, Comment: comment})
}

// Decide approves or rejects a pending request (the officer; never its author). An
// approved exception releases the checked table — checked again against the ledger as it
// is now — with only the cells d.Free names shown, never the upload.
func (s *Service) Decide(ctx context.Context, p access.Principal, id string, d Decision) (*Request, error) {
	approve, comment := d.Approve, d.Comment
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	capacity, err := s.reviewer(ctx, p, r.Project)
	if err != nil {
		return nil, err
	}
	if r.Author == p.User {
		return nil, fmt.Errorf("%w: the author of export %s cannot review it", derrors.Forbidden, id)
	}
	if r.Status != Pending {
		return nil, fmt.Errorf("%w: export %s is %s, not pending review", derrors.Conflict, id, r.Status)
	}
	if strings.TrimSpace(comment) == "" {
		return nil, fmt.Errorf("%w: a review needs a comment", derrors.Invalid)
	}
	if slices.ContainsFunc(r.Reviews, func(v Review) bool { return v.Reviewer == p.User }) {
		return nil, fmt.Errorf("%w: %s reviewed export %s already: another reviewer decides", derrors.Conflict, p.User, id)
	}
	if !approve && len(d.Free) > 0 {
		return nil, fmt.Errorf("%w: a rejection frees no cell", derrors.Invalid)
	}
	if len(d.Free) > 0 && r.Exception == "" {
		return nil, fmt.Errorf("%w: export %s asks no exception: no cell is freed", derrors.Invalid, id)
	}
	st, err := s.Settings(ctx, r.Project)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	mine := Review{Reviewer: p.User, Capacity: capacity, Decision: "reject", Comment: comment, Free: d.Free, At: now}
	if approve {
		mine.Decision = "approve"
	}
	var approvals []Review
	for _, v := range r.Reviews {
		if v.Decision == "approve" {
			approvals = append(approvals, v)
		}
	}
	final := !approve
	if approve {
		approvals = append(approvals, mine)
		final = ready(approvals, r.Needs, st.Bunker)
		// consent may have been withdrawn since the request was submitted
		x, err := s.Access.Project(ctx, p, r.Project)
		if err != nil {
			return nil, err
		}
		if _, err := s.admit(ctx, p, x, r.Agencies, r.Analysis); err != nil {
			return nil, fmt.Errorf("export %s may no longer be released: %w", id, err)
		}
		if r.Exception != "" {
			// this reviewer's cells are checked now; at the last approval a cell leaves
			// only if every approving reviewer freed it
			if err := s.applyException(ctx, r, st, d.Free, false); err != nil {
				return nil, err
			}
			if final {
				if err := s.applyException(ctx, r, st, freedByAll(approvals), true); err != nil {
					return nil, err
				}
			}
		} else if final {
			if err := s.recheck(ctx, r, st); err != nil {
				return nil, err
			}
		}
		if final { // the ledger over people as it is now, others' releases since included
			f, why, _, err := s.checkPeople(ctx, p, r, st, nil)
			if err != nil {
				return nil, err
			}
			if len(f.Groups) > 0 {
				return nil, fmt.Errorf("%w: export %s may not be released: %s; reject it", derrors.Conflict, id, why)
			}
		}
	}
	if final {
		r.Status, r.DecidedBy, r.Comment = Rejected, p.User, comment
		if approve {
			r.Status = Released
		}
	}
	r.Reviews = append(r.Reviews, mine)
	var links []newLink
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		free, _ := json.Marshal(mine.Free)
		if _, err := tx.ExecContext(ctx, `INSERT INTO export_reviews (request_id, reviewer, capacity, decision, comment, free, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, p.User, capacity, mine.Decision, comment, string(free), store.FormatTime(now)); err != nil {
			return nil, fmt.Errorf("%w: export %s: %s's review was recorded meanwhile", derrors.Conflict, id, p.User)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_reviews WHERE request_id = $1 AND decision = 'approve'`, id).Scan(&n); err != nil {
			return nil, err
		}
		if approve && n != len(approvals) {
			return nil, fmt.Errorf("%w: export %s was reviewed meanwhile: look again", derrors.Conflict, id)
		}
		detail := map[string]string{"decision": mine.Decision, "capacity": capacity, "comment": comment,
			"approvals": fmt.Sprintf("%d of %d", len(approvals), r.Needs), "status": string(r.Status)}
		if len(mine.Free) > 0 {
			detail["free"] = string(free) // cell labels, never values
		}
		es := []audit.Entry{event(p, "export.review", "export/"+id, detail)}
		if !final {
			res, err := tx.ExecContext(ctx, `UPDATE export_requests SET comment = $1 WHERE id = $2 AND status = $3`,
				fmt.Sprintf("approved by %d of %d reviewers", len(approvals), r.Needs), id, string(Pending))
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return nil, fmt.Errorf("%w: export %s was decided meanwhile", derrors.Conflict, id)
			}
			return es, nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE export_requests SET status = $1, decided_by = $2, decided_at = $3, comment = $4
			WHERE id = $5 AND status = $6`, string(r.Status), p.User, store.FormatTime(now), comment, id, string(Pending))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil, fmt.Errorf("%w: export %s was decided meanwhile", derrors.Conflict, id)
		}
		if approve && r.Exception != "" { // the evidence and ledger record of the table that leaves
			for _, f := range r.Files {
				ev, _ := json.Marshal(evidence{f.Result, f.record})
				if _, err := tx.ExecContext(ctx, `UPDATE export_files SET verdict = $1, evidence = $2 WHERE request_id = $3 AND name = $4`,
					string(f.Result.Verdict), string(ev), r.ID, f.Name); err != nil {
					return nil, err
				}
			}
		}
		if approve {
			rel, ls, err := s.release(ctx, tx, p, r, st)
			links = ls
			return append(es, rel...), err
		}
		return es, nil
	})
	if err != nil {
		return nil, err
	}
	if !final {
		r.Comment = fmt.Sprintf("approved by %d of %d reviewers", len(approvals), r.Needs)
	}
	s.tell(ctx, r, links)
	return r, nil
}

// Review is one reviewer's decision on a request, in the capacity they reviewed it: an
// officer ("officer") approves; a bunker's data publisher ("publisher") verifies.
type Review struct {
	Reviewer string              `json:"reviewer"`
	Capacity string              `json:"capacity"`
	Decision string              `json:"decision"` // approve | reject
	Comment  string              `json:"comment"`
	Free     map[string][]string `json:"free,omitempty"`
	At       time.Time           `json:"at"`
}

// needs is how many distinct reviewers must approve a request: the project's setting (1
// or 2), and always 2 for an exception.
func needs(st Settings, exception bool) int {
	if exception {
		return 2
	}
	return max(1, st.Reviewers)
}

// ready reports whether distinct approvals release a request: as many as it needs, one of
// them by an officer, and in a bunker one by a data publisher (who verifies the content but
// never approves alone).
func ready(approvals []Review, need int, bunker bool) bool {
	officer := slices.ContainsFunc(approvals, func(v Review) bool { return v.Capacity == capOfficer })
	publisher := slices.ContainsFunc(approvals, func(v Review) bool { return v.Capacity == capPublisher })
	return len(approvals) >= need && officer && (!bunker || publisher)
}

// freedByAll is the cells, per file, that every approval frees.
func freedByAll(approvals []Review) map[string][]string {
	out := map[string][]string{}
	if len(approvals) == 0 {
		return out
	}
	for file, cells := range approvals[0].Free {
		for _, c := range cells {
			if !slices.ContainsFunc(approvals[1:], func(v Review) bool { return !slices.Contains(v.Free[file], c) }) {
				out[file] = append(out[file], c)
			}
		}
	}
	return out
}

const (
	capOfficer   = "officer"
	capPublisher = "publisher"
)

// applyException makes the table an approved exception releases, file by file: the upload
// is read and checked again (rules and ledger as they are now), the cells free names are
// shown and the rest stays hidden (secondary suppression redone around them), and the
// result is stored under freedName; r's files get the new evidence and ledger records. A
// list of persons, or a cell that is not hidden, is refused.
//
// Before the last approval (final false) it only checks that the cells can be freed.
func (s *Service) applyException(ctx context.Context, r *Request, st Settings, free map[string][]string, final bool) error {
	for name := range free {
		if !slices.ContainsFunc(r.Files, func(f File) bool { return f.Name == name }) {
			return fmt.Errorf("%w: export %s has no file %s", derrors.Invalid, r.ID, name)
		}
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	earlier := map[string][]disclosure.Release{}
	for i, f := range r.Files {
		res, err := s.upload(ctx, r, f, st, earlier)
		if err != nil {
			return err
		}
		if res.RowLevel() {
			return fmt.Errorf("%w: export %s file %s: %s", derrors.Conflict, r.ID, f.Name, rowLevelComment)
		}
		if err := res.Free(free[f.Name]); err != nil {
			return fmt.Errorf("%w: export %s: %w", derrors.Invalid, r.ID, err)
		}
		if !final {
			continue
		}
		var b bytes.Buffer
		if err := res.WriteReleased(&b); err != nil {
			return err
		}
		if f.Provenance != nil && strings.HasSuffix(f.Name, ".xlsx") { // the freed table as a workbook
			x, err := releasedXLSX(b.Bytes(), f.Meta, f.Provenance, r.ID, f.Name)
			if err != nil {
				return err
			}
			b.Reset()
			b.Write(x)
		}
		if err := s.Files.Put(ctx, freedName(r.ID, f.Name), &b, int64(b.Len())); err != nil {
			return fmt.Errorf("store %s: %w", f.Name, err)
		}
		r.Files[i].Result, r.Files[i].record = res, res.Record(f.record.ID, r.Author, r.ID, now, false)
	}
	return nil
}

// upload reads a file's upload, kept at submission, and checks it against the ledger as it
// is now (earlier holds the releases by population, filled as needed; the files of one
// request are compared with each other too, as if all their cells left).
func (s *Service) upload(ctx context.Context, r *Request, f File, st Settings, earlier map[string][]disclosure.Release) (*disclosure.Result, error) {
	rc, err := s.Files.Open(originalName(r.ID, f.Name))
	if err != nil {
		return nil, fmt.Errorf("%w: export %s file %s: its upload is not kept (submitted before checks at approval, or past retention): ask for a new submission",
			derrors.Conflict, r.ID, f.Name)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("export %s file %s: %w", r.ID, f.Name, err)
	}
	pop := f.Meta.Population
	if _, ok := earlier[pop]; !ok {
		if earlier[pop], err = s.earlier(ctx, pop); err != nil {
			return nil, err
		}
	}
	t, head, err := disclosure.ReadCSV(f.Name, bytes.NewReader(data), f.Meta)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", derrors.Invalid, err)
	}
	if err := s.personValues(ctx, r, f.Name, t); err != nil {
		return nil, err
	}
	res := disclosure.Check(t, head, st.Rules, earlier[pop])
	if !r.Declared {
		res.Verified()
	}
	earlier[pop] = append(earlier[pop], res.Record(f.record.ID, r.Author, r.ID, s.Now().UTC(), true))
	return res, nil
}

// recheck checks a request's files again at its approval, against everything released
// since it was submitted (other analysts' requests approved meanwhile included). The
// checked files stand only if the checks still hide no more than they did: otherwise the
// approval is refused with the rules and releases that changed, never a value, and the
// request stays pending for a reviewer to reject (the analyst then submits anew).
func (s *Service) recheck(ctx context.Context, r *Request, st Settings) error {
	earlier := map[string][]disclosure.Release{}
	var why []string
	for _, f := range r.Files {
		res, err := s.upload(ctx, r, f, st, earlier)
		if err != nil {
			return err
		}
		was := map[string]bool{}
		for _, e := range f.Result.Hidden {
			was[e.Cell] = true
		}
		if res.Verdict == disclosure.Refused {
			why = append(why, f.Name+": "+strings.Join(res.Reasons, "; "))
		}
		for _, e := range res.Hidden {
			if !was[e.Cell] {
				var rules []string
				for _, x := range e.Findings {
					rules = append(rules, x.Reason)
				}
				why = append(why, fmt.Sprintf("%s: cell %s is now hidden: %s", f.Name, e.Cell, strings.Join(rules, "; ")))
			}
		}
	}
	if len(why) > 0 {
		return fmt.Errorf("%w: export %s may no longer be released as submitted: checked again against the releases since, %s; reject it and ask for a new submission",
			derrors.Conflict, r.ID, strings.Join(why, "; "))
	}
	return nil
}

// reviewer checks that p may review the project's requests and returns the capacity: its
// data-governance officers approve; in a bunker project its data publishers verify.
func (s *Service) reviewer(ctx context.Context, p access.Principal, project string) (string, error) {
	x, err := s.Access.Project(ctx, p, project)
	if err != nil {
		return "", err
	}
	if access.Allowed(p, access.ReviewExport, x) {
		return capOfficer, nil
	}
	if access.Allowed(p, access.ReceiveExport, x) {
		if st, err := s.Settings(ctx, project); err != nil || st.Bunker {
			return capPublisher, err
		}
	}
	return "", access.Check(p, access.ReviewExport, x)
}

type newLink struct {
	Link
	token string
}

// release writes the ledger entries and the download links of a request, in tx.
func (s *Service) release(ctx context.Context, tx *sql.Tx, p access.Principal, r *Request, st Settings) ([]audit.Entry, []newLink, error) {
	now := s.Now().UTC()
	var es []audit.Entry
	if err := s.recordReleased(ctx, tx, r); err != nil { // the ledger over people
		return nil, nil, err
	}
	for _, f := range r.Files {
		record := f.record // the checked table's cells, with those an exception freed
		rec, _ := json.Marshal(record)
		if _, err := tx.ExecContext(ctx, `INSERT INTO release_ledger (id, request_id, project, population, released_by, released_at, record)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, record.ID, r.ID, r.Project, record.Population, p.User, store.FormatTime(now), string(rec)); err != nil {
			return nil, nil, err
		}
		es = append(es, event(p, "export.ledger", "export/"+r.ID, map[string]string{"release": record.ID, "file": f.Name,
			"population": record.Population, "cells shown": fmt.Sprint(len(record.Cells))}))
	}
	recipients := []string{r.Author}
	var ipRange string
	err := tx.QueryRowContext(ctx, `SELECT ip_range FROM export_users WHERE project = $1 AND user_name = $2`, r.Project, r.Author).Scan(&ipRange)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	if st.Bunker { // the analyst is not known: the project's data publishers receive
		rows, err := tx.QueryContext(ctx, `SELECT user_name FROM grants WHERE project = $1 AND role = $2 ORDER BY user_name`, r.Project, string(access.DataPublisher))
		if err != nil {
			return nil, nil, err
		}
		recipients, ipRange = nil, ""
		for rows.Next() {
			var u string
			rows.Scan(&u)
			recipients = append(recipients, u)
		}
		rows.Close()
		if len(recipients) == 0 {
			return nil, nil, fmt.Errorf("%w: bunker project %s has no data publisher to receive the export", derrors.Conflict, r.Project)
		}
	}
	var links []newLink
	for _, who := range recipients {
		l, e, err := s.createLink(ctx, tx, p, r.ID, who, ipRange, time.Duration(st.LinkDays)*24*time.Hour)
		if err != nil {
			return nil, nil, err
		}
		links = append(links, l)
		es = append(es, e)
	}
	return es, links, nil
}

// tell emails each new link to its recipient, after the transaction committed. A failed
// email is audited; the link stays valid and shows on the recipient's page.
func (s *Service) tell(ctx context.Context, r *Request, links []newLink) {
	if s.Notify == nil {
		return
	}
	for _, l := range links {
		u, err := s.Access.User(ctx, l.Recipient)
		if err != nil || u.Email == "" {
			continue
		}
		body := fmt.Sprintf("Export %s of project %s was released to you.\n\nDownload it, signed in as %s, before %s:\n%s/airlock/download/%s\n\nThe link works only for you and can be revoked; every use is recorded.\n",
			r.ID, r.Project, l.Recipient, l.Expires.Format(time.RFC1123), s.BaseURL, l.token)
		status := "sent"
		if err := s.Notify.Notify(ctx, []string{u.Email}, "Steward: export "+r.ID+" is ready", body); err != nil {
			status = "failed"
		}
		s.Audit.Append(ctx, audit.Entry{Actor: "steward", Action: "export.notify", Object: "link/" + l.ID,
			Detail: map[string]string{"recipient": l.Recipient, "status": status}})
	}
}

// Get returns a request for its author, the project's officers and data publishers.
func (s *Service) Get(ctx context.Context, p access.Principal, id string) (*Request, error) {
	r, err := s.getUnchecked(ctx, id)
	if err != nil {
		return nil, err
	}
	x, err := s.Access.Project(ctx, p, r.Project)
	if err != nil || r.Author != p.User && !access.Allowed(p, access.ReviewExport, x) && !access.Allowed(p, access.ReceiveExport, x) {
		return nil, fmt.Errorf("%w: export %s", derrors.NotFound, id)
	}
	return r, nil
}

func (s *Service) getUnchecked(ctx context.Context, id string) (*Request, error) {
	r := &Request{}
	var created string
	var agencies string
	err := s.DB.QueryRowContext(ctx, `SELECT id, project, author, mode, purpose, exception, status, created_at, decided_by, comment, sampled,
		agencies, analysis, basis, declared, structural_reason FROM export_requests WHERE id = $1`, id).Scan(&r.ID, &r.Project, &r.Author, &r.Mode, &r.Purpose, &r.Exception, &r.Status,
		&created, &r.DecidedBy, &r.Comment, &r.Sampled, &agencies, &r.Analysis, &r.Basis, &r.Declared, &r.StructuralReason)
	r.Agencies = strings.Fields(agencies)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: export %s", derrors.NotFound, id)
	}
	if err != nil {
		return nil, err
	}
	r.Created, _ = store.ParseTime(created)
	rows, err := s.DB.QueryContext(ctx, `SELECT name, meta, evidence FROM export_files WHERE request_id = $1 ORDER BY name`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f File
		var meta, ev string
		if err := rows.Scan(&f.Name, &meta, &ev); err != nil {
			return nil, err
		}
		var e evidence
		if err := errors.Join(json.Unmarshal([]byte(meta), &f.Meta), json.Unmarshal([]byte(ev), &e)); err != nil {
			return nil, fmt.Errorf("export %s file %s: %w", id, f.Name, err)
		}
		f.Result, f.record, f.Cells = e.Result, e.Record, cellsOf(r)
		r.Files = append(r.Files, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i, f := range r.Files {
		var prov string
		if err := s.DB.QueryRowContext(ctx, `SELECT provenance FROM export_provenance WHERE request_id = $1 AND file = $2`, id, f.Name).Scan(&prov); err == nil {
			r.Files[i].Provenance = &warehouse.Table{}
			if err := json.Unmarshal([]byte(prov), r.Files[i].Provenance); err != nil {
				return nil, fmt.Errorf("export %s file %s provenance: %w", id, f.Name, err)
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	if r.Reviews, err = s.reviews(ctx, id); err != nil {
		return nil, err
	}
	st, err := s.Settings(ctx, r.Project)
	r.Needs = needs(st, r.Exception != "")
	return r, err
}

// reviews loads the reviewers' decisions on a request, in order.
func (s *Service) reviews(ctx context.Context, id string) ([]Review, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT reviewer, capacity, decision, comment, free, decided_at FROM export_reviews
		WHERE request_id = $1 ORDER BY decided_at, reviewer`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Review
	for rows.Next() {
		var v Review
		var free, at string
		if err := rows.Scan(&v.Reviewer, &v.Capacity, &v.Decision, &v.Comment, &free, &at); err != nil {
			return nil, err
		}
		if free != "" && free != "null" {
			if err := json.Unmarshal([]byte(free), &v.Free); err != nil {
				return nil, fmt.Errorf("export %s review by %s: %w", id, v.Reviewer, err)
			}
		}
		v.At, _ = store.ParseTime(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// List returns a project's requests: all for its officers, else the user's own.
func (s *Service) List(ctx context.Context, p access.Principal, project string, status Status) ([]*Request, error) {
	x, err := s.Access.Project(ctx, p, project)
	if err != nil {
		return nil, err
	}
	author := p.User
	if access.Allowed(p, access.ReviewExport, x) {
		author = ""
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT id FROM export_requests WHERE project = $1 AND ($2 = '' OR author = $2)
		AND ($3 = '' OR status = $3) ORDER BY created_at DESC`, x.Code, author, string(status))
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	out := []*Request{}
	for _, id := range ids {
		r, err := s.Get(ctx, p, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Sample picks up to n released automatic exports not yet sampled for a retroactive check.
func (s *Service) Sample(ctx context.Context, p access.Principal, project string, n int) ([]*Request, error) {
	x, err := s.project(ctx, p, project, access.ReviewExport)
	if err != nil {
		return nil, err
	}
	all, err := s.List(ctx, p, x.Code, Released)
	if err != nil {
		return nil, err
	}
	var pool []*Request
	for _, r := range all {
		if r.Mode == Automatic && !r.Sampled && r.DecidedBy == "" {
			pool = append(pool, r)
		}
	}
	rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	pool = pool[:min(n, len(pool))]
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		var es []audit.Entry
		for _, r := range pool {
			r.Sampled = true
			if _, err := tx.ExecContext(ctx, `UPDATE export_requests SET sampled = TRUE WHERE id = $1`, r.ID); err != nil {
				return nil, err
			}
			es = append(es, event(p, "export.sample", "export/"+r.ID, nil))
		}
		return es, nil
	})
	return pool, err
}

// Recall withdraws a released export (the officer): its links die, the analyst is asked
// for a new export, and with demote the analyst goes back to validated.
func (s *Service) Recall(ctx context.Context, p access.Principal, id, reason string, demote bool) error {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	if _, err := s.project(ctx, p, r.Project, access.ReviewExport); err != nil {
		return err
	}
	if r.Status != Released {
		return fmt.Errorf("%w: export %s is %s, not released", derrors.Conflict, id, r.Status)
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("%w: a recall needs a reason", derrors.Invalid)
	}
	now := store.FormatTime(s.Now())
	err = s.change(ctx, func(tx *sql.Tx) ([]audit.Entry, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE export_requests SET status = $1, comment = $2 WHERE id = $3`, string(Recalled), reason, id); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE download_links SET revoked_at = $1 WHERE request_id = $2 AND revoked_at IS NULL`, now, id); err != nil {
			return nil, err
		}
		return []audit.Entry{event(p, "export.recall", "export/"+id, map[string]string{"demote": fmt.Sprint(demote), "reason": reason})}, nil
	})
	if err != nil {
		return err
	}
	if demote {
		if err := s.setMode(ctx, p, r.Project, r.Author, Validated, nil, "recall of "+id); err != nil {
			return err
		}
	}
	if u, err := s.Access.User(ctx, r.Author); err == nil && u.Email != "" && s.Notify != nil {
		s.Notify.Notify(ctx, []string{u.Email}, "Steward: export "+id+" was recalled",
			fmt.Sprintf("Export %s of project %s was recalled by the data-governance officer: %s\n\nIts download links no longer work. Please submit a new export.\n", id, r.Project, reason))
	}
	return nil
}

// Open returns a stored file of a released request, for a download.
func (s *Service) open(r *Request, file string) (io.ReadCloser, error) {
	for _, f := range r.Files {
		if f.Name == file {
			if r.Exception != "" { // the checked table with the cells the reviewers freed
				return s.Files.Open(freedName(r.ID, file))
			}
			return s.Files.Open(checkedName(r.ID, file))
		}
	}
	return nil, fmt.Errorf("%w: file %s", derrors.NotFound, file)
}
