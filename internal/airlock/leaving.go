package airlock

import (
	"context"
	"fmt"
	"io"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
)

// Leaving opens the file of export request id that leaves — or would leave, were the request
// approved as it stands — for those who may read the request (see Get), so that a review
// shows exactly what a download serves. It goes through open, the function a download uses:
// a released request's file is the downloaded one; a pending request's is its checked table
// (hidden cells "suppressed", no contributor column) — a CSV, or for a computed table named
// .xlsx the workbook written from it. The cells an exception frees are freed
// only by the approvals: until then a pending exception's table shows them suppressed.
func (s *Service) Leaving(ctx context.Context, p access.Principal, id, file string) (io.ReadCloser, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case Released:
	case Pending:
		q := *r
		q.Exception = "" // no freed file yet: the checked table is what would leave
		r = &q
	default:
		return nil, fmt.Errorf("%w: export %s is %s: none of its files leaves", derrors.NotFound, id, r.Status)
	}
	return s.open(r, file)
}
