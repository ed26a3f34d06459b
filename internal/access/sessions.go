package access

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/stewardhealth/steward/internal/store"
)

// SessionStore keeps web sessions (github.com/alexedwards/scs/v2's Store) in the sessions
// table. The session manager stores a hash of each cookie token, not the token.
type SessionStore struct{ DB *store.DB }

// Find implements scs.Store.
func (s SessionStore) Find(token string) ([]byte, bool, error) {
	var data string
	err := s.DB.QueryRowContext(context.Background(), `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`,
		token, store.FormatTime(time.Now())).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	b, err := base64.StdEncoding.DecodeString(data)
	return b, err == nil, err
}

// Commit implements scs.Store.
func (s SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	_, err := s.DB.ExecContext(context.Background(), `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, base64.StdEncoding.EncodeToString(b), store.FormatTime(expiry))
	return err
}

// Delete implements scs.Store.
func (s SessionStore) Delete(token string) error {
	_, err := s.DB.ExecContext(context.Background(), `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

// Cleanup removes expired sessions.
func (s SessionStore) Cleanup(ctx context.Context) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= $1`, store.FormatTime(time.Now()))
	return err
}
