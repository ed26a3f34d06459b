// Package warehouse is Steward's research warehouse: i2b2's star schema in the application
// store, loaders, cohort queries, and what each data-protection role gets back.
//
// The model. Facts (observation_fact) say that a patient had a concept (a diagnosis code, a
// lab test with its numeric value, a demographic) at a visit on a date. Concepts sit in a tree
// (concept_dimension.concept_path, "\i2b2\Diagnoses\ICD10\E\E11\E11.9\"); naming a folder
// in a query means every concept under it. Every row carries the agency it belongs to, and a
// query sees only the rows of its project's agency (or, for a site project, the asker's).
// The *_blob columns are sealed with AES-GCM under a key kept outside the database (a key
// file, see Keys); identified data (name, record number, address) lives in its own sealed
// table, patient_identity, and is opened only for DATA_PROT.
//
// A cohort query is i2b2's: panels of items, items OR-ed within a panel, panels AND-ed, a panel
// may be inverted (NOT), carry a date range on the fact's start date, and demand a number of
// occurrences (total_item_occurrences with EQ NE GT LT GE LE, default GE 1); an item may
// constrain the fact's numeric value. With SAMEVISIT timing the panels must all hold within
// one visit. Queries arrive as JSON or as i2b2's query_definition XML, are stored like i2b2's
// (query master, instance, result instance with shown size, real size and obfuscation method),
// and are answered from per-concept patient bitmaps (roaring) where a panel is a plain union
// of concepts, from SQL otherwise.
//
// What comes back depends on the role (access.Allowed decides): DATA_OBFSC gets a count with
// noise and is locked out of queries after too many results with the same real count (i2b2's
// rule); DATA_AGG exact counts and breakdowns; DATA_LDS patient-level data without blobs;
// DATA_DEID with blobs; DATA_PROT with identified data. Every answer and read is audited
// with counts and ids, never values.
//
// Governance (issue 9) comes first: before a count or a patient-level read, the gate (Gate,
// see gate.go) asks whether the project may analyse the agencies' data at all — an approved
// ethics application, or a single agency's own evaluation — and which agencies and regions
// consent; the patients of agencies left out and clients who withdrew their consent are taken
// out of the cohort, and the answer says so.
package warehouse

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
)

// KeyEnv names the environment variable that may hold the warehouse key (64 hex digits)
// instead of a key file.
const KeyEnv = "STEWARD_WAREHOUSE_KEY"

// Keys are what the warehouse derives from its one secret: the AES-256-GCM key that seals
// blob columns and identified data, and the HMAC key of the consistent noise.
type Keys struct {
	aead  cipher.AEAD
	noise []byte
}

// NewKeys derives the keys from a 32-byte secret.
func NewKeys(secret []byte) (*Keys, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("warehouse key: got %d bytes, want 32", len(secret))
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("steward warehouse " + label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("blob"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, noise: derive("noise")}, nil
}

// DefaultKeyFile is where the key of a SQLite store lives when not told: beside the database
// file, never inside it. A PostgreSQL store needs --key-file or the environment variable.
func DefaultKeyFile(dsn string) string {
	if strings.Contains(dsn, "://") {
		return ""
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	return path + ".warehouse-key"
}

// LoadKeys reads the secret from $STEWARD_WAREHOUSE_KEY or from path (64 hex digits). With
// create set, a missing file is made with a fresh random secret (mode 0600).
func LoadKeys(path string, create bool) (*Keys, error) {
	text := os.Getenv(KeyEnv)
	if text == "" {
		if path == "" {
			return nil, fmt.Errorf("warehouse key: no key file given and %s is unset", KeyEnv)
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && create {
			secret := make([]byte, 32)
			rand.Read(secret)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("warehouse key: %w", err)
			}
			if err := os.WriteFile(path, []byte(hex.EncodeToString(secret)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("warehouse key: %w", err)
			}
			return NewKeys(secret)
		}
		if err != nil {
			return nil, fmt.Errorf("warehouse key: %w", err)
		}
		text = string(b)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, errors.New("warehouse key: not 64 hex digits")
	}
	return NewKeys(secret)
}

// seal encrypts plain for the place it is stored (bound as additional data, so a sealed
// value moved to another row or column no longer opens).
func (k *Keys) seal(plain, place string) string {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(plain), []byte(place)))
}

// open decrypts what seal made for the same place.
func (k *Keys) open(sealed, place string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", errors.New("sealed value is malformed")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(place))
	if err != nil {
		return "", errors.New("sealed value does not open with this key")
	}
	return string(plain), nil
}

// Warehouse answers cohort queries and patient-level reads over the store.
type Warehouse struct {
	DB       *store.DB
	Access   *access.Service
	Keys     *Keys
	Settings Settings
	// Gate is issue 9's governance: whose data an analysis may read (ethics approval,
	// agency, region and client consent). New sets it over the same store.
	Gate *governance.Service

	mu    sync.Mutex
	gen   int64                 // warehouse_loads seq the caches belong to
	cache map[string]*scopeData // agency scope → cached bitmaps and demographics
	gates *gateCache            // agencies and their patients, for the gate
}

// Settings are the obfuscation and lockout settings (i2b2's crc.properties names in brackets).
type Settings struct {
	Noise          NoiseMode // Consistent (default) or I2B2
	Sigma          float64   // [obfuscation.count.sigma] 1.323
	BreakdownSigma float64   // [breakdowncount.sigma] 1.6
	Minimum        int       // [obfuscation.minimum.value] 3: a true count ≤ this is shown as 0 ("< 3")
	LockoutCount   int       // [lockout.setfinderquery.count] 7
	LockoutDays    int       // [lockout.setfinderquery.day] 30
	LockoutZeros   bool      // [lockout.setfinderquery.zero.count] false: zero results never count
}

// DefaultSettings are i2b2's.
func DefaultSettings() Settings {
	return Settings{Noise: Consistent, Sigma: 1.323, BreakdownSigma: 1.6, Minimum: 3, LockoutCount: 7, LockoutDays: 30}
}

// New returns a warehouse with i2b2's settings and consistent noise.
func New(db *store.DB, svc *access.Service, keys *Keys) *Warehouse {
	return &Warehouse{DB: db, Access: svc, Keys: keys, Settings: DefaultSettings(), Gate: governance.New(db, governance.Config{})}
}

// generation returns the current load sequence number.
func generation(ctx context.Context, db *store.DB) (int64, error) {
	var g int64
	st, err := db.Prepared(ctx, `SELECT COALESCE(MAX(seq), 0) FROM warehouse_loads`)
	if err == nil {
		err = st.QueryRowContext(ctx).Scan(&g)
	}
	return g, err
}

// txExec runs the constant statement q in tx, prepared once for the store.
func txExec(ctx context.Context, db *store.DB, tx *sql.Tx, q string, args ...any) error {
	st, err := db.TxStmt(ctx, tx, q)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// txQueryRow runs the constant query q in tx, prepared once for the store.
func txQueryRow(ctx context.Context, db *store.DB, tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := db.TxStmt(ctx, tx, q)
	if err != nil {
		return tx.QueryRowContext(ctx, q, args...) // the same error, from the row
	}
	return st.QueryRowContext(ctx, args...)
}

// tellLockout emails the directors that p was locked out of queries (issue 6's notice; ids
// and dates only, never a count).
func (w *Warehouse) tellLockout(ctx context.Context, p access.Principal, project string, at time.Time) {
	subject := fmt.Sprintf("Steward: %q locked out of cohort queries", p.User)
	body := fmt.Sprintf("Steward locked the account %q out of cohort queries at %s: %d of its obfuscated\n"+
		"answers had the same real count within %d days (i2b2's lockout), the last in project %s.\n\n"+
		"Queries stay refused until an administrator unlocks it, giving a reason:\n"+
		"  POST /api/v1/warehouse/lockouts/%s/unlock {\"reason\": \"…\"}\n",
		p.User, at.UTC().Format(time.RFC3339), w.Settings.LockoutCount, w.Settings.LockoutDays, project, p.User)
	w.Access.NotifyDirectors(ctx, p.Source, "query-lockout/"+p.User, "query-lockout/"+p.User, subject, body)
}
