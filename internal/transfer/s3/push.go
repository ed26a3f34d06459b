package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stewardhealth/steward/internal/transfer"
	"golang.org/x/sync/errgroup"
)

var randRead = rand.Read

// PushOptions tune Push.
type PushOptions struct {
	Journal     string       // where finished parts are written down; required
	Concurrency int          // parts in flight; default 4
	Client      *http.Client // nil: http.DefaultClient
	Progress    transfer.Progress
	Retries     int // attempts per request after the first, for transient failures; default 5
}

// PushReport counts what Push did.
type PushReport struct {
	Files, FilesSkipped     int // FilesSkipped were completed by an earlier run
	PartsSent, PartsSkipped int // PartsSkipped were sent by an earlier run (the journal says so)
	BytesSent               int64
	CompletedBefore         []string // files whose completion an earlier run did, as the service says
}

// journal is what a push has finished, written after every part: an interrupted push (even
// by kill -9) starts again from it. It holds ETags and MD5s, never a URL.
type journal struct {
	Grant string                  `json:"grant"`
	Files map[string]*fileJournal `json:"files"`
}

type fileJournal struct {
	UploadID string           `json:"upload_id"`
	PartSize int64            `json:"part_size"`
	Parts    map[int]partDone `json:"parts"`
	Done     bool             `json:"done,omitempty"`
	ETag     string           `json:"etag,omitempty"` // the completed object's
}

type partDone struct {
	ETag string `json:"etag"`
	MD5  string `json:"md5"`
}

func readJournal(path, grant string) (*journal, error) {
	j := &journal{Grant: grant, Files: map[string]*fileJournal{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, fmt.Errorf("journal %s: %w (remove it to start the upload over)", path, err)
	}
	if j.Grant != grant {
		return nil, fmt.Errorf("journal %s belongs to grant %s, not %s: remove it, or give the uploads file it was made for", path, j.Grant, grant)
	}
	return j, nil
}

type journalWriter struct {
	mu   sync.Mutex
	path string
	j    *journal
}

// set records a file's state and writes the journal through a temporary file renamed over it.
func (w *journalWriter) update(f func(j *journal)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w.j)
	b, err := json.Marshal(w.j)
	if err != nil {
		return err
	}
	tmp := w.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return os.Rename(tmp, w.path)
}

// Push uploads the bundle in dir by plan: each file's missing parts, then its completion, the
// manifest last. Parts the journal holds are not sent again.
func Push(ctx context.Context, dir string, plan Plan, o PushOptions) (PushReport, error) {
	var rep PushReport
	m, err := transfer.ReadManifest(dir)
	if err != nil {
		return rep, fmt.Errorf("bundle %s: %w", dir, err)
	}
	mf, err := transfer.HashFile(filepath.Join(dir, transfer.ManifestName), transfer.ManifestName)
	if err != nil {
		return rep, err
	}
	want := append(append([]transfer.File(nil), m.Files...), mf)
	if len(plan.Files) != len(want) {
		return rep, fmt.Errorf("the uploads file covers %d files, the bundle has %d (with its manifest): ask for uploads made from this bundle's manifest", len(plan.Files), len(want))
	}
	for i, f := range want {
		p := plan.Files[i]
		if p.Name != f.Name || p.Size != f.Size || p.SHA256 != f.SHA256 {
			return rep, fmt.Errorf("the uploads file was made for another bundle: its file %d is %s (%d bytes, sha256 %.12s…), the bundle's is %s (%d bytes, sha256 %.12s…)", i+1, p.Name, p.Size, p.SHA256, f.Name, f.Size, f.SHA256)
		}
	}
	if o.Journal == "" {
		return rep, errors.New("no journal file")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if o.Progress == nil {
		o.Progress = transfer.NoProgress{}
	}
	j, err := readJournal(o.Journal, plan.Grant)
	if err != nil {
		return rep, err
	}
	p := &pusher{o: o, jw: &journalWriter{path: o.Journal, j: j}, expires: plan.Expires}
	for _, f := range plan.Files {
		rep.Files++
		if err := p.file(ctx, filepath.Join(dir, f.Name), f, &rep); err != nil {
			rep.PartsSent, rep.BytesSent = int(p.sent.Load()), p.bytes.Load()
			return rep, fmt.Errorf("upload %s: %w", f.Name, err)
		}
	}
	rep.PartsSent, rep.BytesSent = int(p.sent.Load()), p.bytes.Load()
	return rep, nil
}

type pusher struct {
	o           PushOptions
	jw          *journalWriter
	expires     time.Time
	sent, bytes atomic.Int64
}

func (p *pusher) file(ctx context.Context, path string, f FilePlan, rep *PushReport) (err error) {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil {
		return err
	} else if st.Size() != f.Size {
		return fmt.Errorf("%d bytes, but the manifest says %d: the bundle changed after it was made; make it again", st.Size(), f.Size)
	}
	var fj fileJournal
	p.jw.mu.Lock()
	if old := p.jw.j.Files[f.Name]; old != nil && old.UploadID == f.UploadID && old.PartSize == f.PartSize {
		fj = *old
		fj.Parts = map[int]partDone{}
		for k, v := range old.Parts {
			fj.Parts[k] = v
		}
	} else {
		fj = fileJournal{UploadID: f.UploadID, PartSize: f.PartSize, Parts: map[int]partDone{}}
	}
	p.jw.mu.Unlock()
	var done int64
	var todo []PartURL
	for _, part := range f.Parts {
		if _, ok := fj.Parts[part.Number]; ok || fj.Done {
			done += part.Size
			if !fj.Done {
				rep.PartsSkipped++
			}
		} else {
			todo = append(todo, part)
		}
	}
	fp := p.o.Progress.File(f.Name, f.Size, done)
	defer func() { fp.Done(err) }()
	if fj.Done {
		rep.FilesSkipped++
		return nil
	}
	if len(todo) > 0 && time.Now().After(p.expires) {
		return fmt.Errorf("the presigned URLs expired at %s: ask the bucket's owner for new ones (the parts already sent are kept only if they grant the same uploads)", p.expires.Format(time.RFC3339))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.o.Concurrency)
	bufs := make(chan []byte, p.o.Concurrency)
	for range p.o.Concurrency {
		bufs <- nil
	}
	for _, part := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			buf := <-bufs
			defer func() { bufs <- buf }()
			if int64(cap(buf)) < part.Size {
				buf = make([]byte, part.Size)
			}
			b := buf[:part.Size]
			if _, err := fh.ReadAt(b, int64(part.Number-1)*f.PartSize); err != nil && !(errors.Is(err, io.EOF) && part.Size == 0) {
				return fmt.Errorf("read part %d: %w", part.Number, err)
			}
			sum := md5.Sum(b)
			etag, err := p.putPart(gctx, part, b, sum[:])
			if err != nil {
				return fmt.Errorf("part %d: %w", part.Number, err)
			}
			if err := p.jw.update(func(j *journal) {
				cur := j.Files[f.Name]
				if cur == nil || cur.UploadID != f.UploadID {
					cur = &fileJournal{UploadID: f.UploadID, PartSize: f.PartSize, Parts: map[int]partDone{}}
					j.Files[f.Name] = cur
				}
				cur.Parts[part.Number] = partDone{ETag: etag, MD5: hex.EncodeToString(sum[:])}
			}); err != nil {
				return err
			}
			p.sent.Add(1)
			p.bytes.Add(part.Size)
			fp.Add(part.Size)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.jw.mu.Lock()
	cur := *p.jw.j.Files[f.Name]
	p.jw.mu.Unlock()
	etag, err := p.complete(ctx, f, cur)
	var gone *Refused
	if errors.As(err, &gone) && gone.Code == "NoSuchUpload" && len(cur.Parts) == len(f.Parts) {
		// An earlier run completed it and was stopped before writing that down: the service
		// no longer knows the upload id. The owner's confirm checks the object.
		rep.CompletedBefore = append(rep.CompletedBefore, f.Name)
		err = nil
	}
	if err != nil {
		return err
	}
	return p.jw.update(func(j *journal) { j.Files[f.Name].Done, j.Files[f.Name].ETag = true, etag })
}

// putPart sends one part; S3 checks its bytes against Content-MD5, and its ETag must be
// their MD5.
func (p *pusher) putPart(ctx context.Context, part PartURL, b, sum []byte) (string, error) {
	var etag string
	err := p.retry(ctx, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, part.URL, bytes.NewReader(b))
		if err != nil {
			return false, errors.New("a presigned part URL does not parse")
		}
		req.ContentLength = part.Size
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
		resp, err := p.o.Client.Do(req)
		if err != nil {
			return true, stripURL(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode/100 != 2 {
			return transient(resp.StatusCode), refusal(resp.StatusCode, body, p.expires)
		}
		etag = strings.Trim(resp.Header.Get("ETag"), `"`)
		if want := hex.EncodeToString(sum); etag != want {
			return false, fmt.Errorf("the service stored other bytes than were sent: ETag %s, the part's MD5 is %s", etag, want)
		}
		return false, nil
	})
	return etag, err
}

type completeBody struct {
	XMLName xml.Name       `xml:"CompleteMultipartUpload"`
	Parts   []completePart `xml:"Part"`
}

type completePart struct {
	PartNumber int    `xml:"PartNumber"`
	ETag       string `xml:"ETag"`
}

// complete asks the service to join the parts; a composite ETag (MD5 of the parts' MD5s, -N)
// is checked against the journal's.
func (p *pusher) complete(ctx context.Context, f FilePlan, fj fileJournal) (string, error) {
	cb := completeBody{}
	composite := md5.New()
	for _, part := range f.Parts {
		d, ok := fj.Parts[part.Number]
		if !ok {
			return "", fmt.Errorf("part %d was not sent", part.Number)
		}
		cb.Parts = append(cb.Parts, completePart{PartNumber: part.Number, ETag: `"` + d.ETag + `"`})
		raw, _ := hex.DecodeString(d.MD5)
		composite.Write(raw)
	}
	body, _ := xml.Marshal(cb)
	wantComposite := fmt.Sprintf("%x-%d", composite.Sum(nil), len(f.Parts))
	var etag string
	err := p.retry(ctx, func() (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Complete, bytes.NewReader(body))
		if err != nil {
			return false, errors.New("the presigned completion URL does not parse")
		}
		req.Header.Set("Content-Type", "application/xml")
		resp, err := p.o.Client.Do(req)
		if err != nil {
			return true, stripURL(err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		// S3 may answer 200 and report an error in the body.
		if resp.StatusCode/100 != 2 || bytes.Contains(rb, []byte("<Error>")) {
			return transient(resp.StatusCode) || resp.StatusCode == 200, refusal(resp.StatusCode, rb, p.expires)
		}
		var out struct {
			ETag string `xml:"ETag"`
		}
		xml.Unmarshal(rb, &out)
		etag = strings.Trim(out.ETag, `"`)
		if strings.Contains(etag, "-") && etag != wantComposite {
			return false, fmt.Errorf("the completed object's ETag %s is not the one its parts make (%s): the service joined other parts", etag, wantComposite)
		}
		return false, nil
	})
	return etag, err
}

// retry runs try until it succeeds, fails for good, or the attempts run out, backing off
// exponentially between transient failures.
func (p *pusher) retry(ctx context.Context, try func() (transient bool, err error)) error {
	delay := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		again, err := try()
		if err == nil || !again || attempt >= p.o.Retries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

func transient(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// stripURL drops the URL (which holds the signature) from a transport error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// Refused is the service refusing a presigned request, explained.
type Refused struct {
	Status  int
	Code    string
	Message string
	Reason  string // what is wrong, for the person holding the URLs
}

func (r *Refused) Error() string {
	return fmt.Sprintf("the storage service refused the request (%d %s): %s", r.Status, r.Code, r.Reason)
}

var (
	codeRE    = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	messageRE = regexp.MustCompile(`<Message>([^<]*)</Message>`)
)

// refusal explains an S3 error answer.
func refusal(status int, body []byte, expires time.Time) error {
	r := &Refused{Status: status}
	if m := codeRE.FindSubmatch(body); m != nil {
		r.Code = string(m[1])
	}
	if m := messageRE.FindSubmatch(body); m != nil {
		r.Message = string(m[1])
	}
	switch {
	case r.Code == "AccessDenied" && (strings.Contains(r.Message, "expired") || !time.Now().Before(expires)):
		r.Reason = "the presigned URLs expired at " + expires.UTC().Format(time.RFC3339) + ": ask the bucket's owner for new ones"
	case r.Code == "SignatureDoesNotMatch":
		r.Reason = "the URL's signature does not match it: the uploads file was altered, or the signing credentials were changed or revoked; use the file as sent, or ask for a new one"
	case r.Code == "NoSuchUpload":
		r.Reason = "the upload was aborted by the bucket's owner (revoked) or is already complete"
	case r.Code == "AccessDenied":
		r.Reason = "access denied: the bucket's policy refuses this address or plain HTTP, or the signing credentials were revoked; ask the bucket's owner"
	case r.Code == "BadDigest" || r.Code == "InvalidDigest":
		r.Reason = "the bytes that arrived differ from the ones sent (Content-MD5)"
	case r.Code == "EntityTooSmall" || r.Code == "InvalidPart" || r.Code == "InvalidPartOrder":
		r.Reason = "the service refused the parts (" + r.Code + ")"
	default:
		r.Reason = strings.TrimSpace(r.Message)
		if r.Reason == "" {
			r.Reason = http.StatusText(status)
		}
	}
	return r
}

// brief shortens an SDK error to the service's code and message.
func brief(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}
