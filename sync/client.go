package sync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	kiosk "github.com/keqiao/villagekiosk"
)

// Client speaks the protocol for one kiosk.
type Client struct {
	BaseURL  string // e.g. https://rs.keqiao.example
	HTTP     *http.Client
	DeviceID string
	Key      ed25519.PrivateKey
	Now      func() time.Time

	// Offset is the server clock minus ours, learnt from Hello: requests are
	// stamped with the server's time so a kiosk clock a day off still works.
	Offset time.Duration
}

// Error is a failed exchange: the error code, the HTTP status (0 for a
// network failure) and when the server asked to be tried again.
type Error struct {
	Code       string
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return e.Message
	}
	return fmt.Sprintf("district answered %d %s: %s", e.Status, e.Code, e.Message)
}

// DistrictDown says the district as a whole is unreachable or shedding load
// (no answer, an answer not from the district such as a Wi-Fi login page,
// 429, 502, 503, 504): the round stops and everything waits. Any other
// transient failure (a 500 on one submission) is that item's.
func (e *Error) DistrictDown() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return e.Status < 300
}

// Transient says whether trying again later may succeed.
func (e *Error) Transient() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500 || e.Code == kiosk.EUnavailable
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 60 * time.Second}
}

// do sends one request (signed when the client has a device id) and decodes
// the JSON reply into out. A reply without the protocol header is refused:
// it came from something else, such as a Wi-Fi login page.
func (c *Client) do(ctx context.Context, method, path string, body []byte, header http.Header, out any) error {
	data, _, err := c.raw(ctx, method, path, body, header)
	if err != nil {
		return err
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &Error{Code: kiosk.EUnavailable, Message: fmt.Sprintf("unreadable reply: %v", err)}
		}
	}
	return nil
}

// raw sends one request and returns the reply's body and headers.
func (c *Client) raw(ctx context.Context, method, path string, body []byte, header http.Header) ([]byte, http.Header, error) {
	u := strings.TrimRight(c.BaseURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, &Error{Code: kiosk.EInvalid, Message: fmt.Sprintf("bad district URL %q: %v", c.BaseURL, err)}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.DeviceID != "" {
		Sign(req, body, c.DeviceID, c.Key, c.now().Add(c.Offset), nonce())
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, &Error{Code: kiosk.EUnavailable, Message: fmt.Sprintf("cannot reach the district: %v", err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, &Error{Code: kiosk.EUnavailable, Message: fmt.Sprintf("reply cut off: %v", err)}
	}
	if resp.Header.Get(ProtocolHeader) != Protocol {
		return nil, nil, &Error{Code: kiosk.EUnavailable, Status: resp.StatusCode,
			Message: "the answer did not come from the district platform (a Wi-Fi login page or a proxy?); nothing was sent"}
	}
	if resp.StatusCode >= 300 {
		var p Problem
		json.Unmarshal(data, &p)
		if p.Code == "" {
			p.Code = CodeFor(resp.StatusCode)
		}
		e := &Error{Code: p.Code, Status: resp.StatusCode, Message: p.Message}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, nil, e
	}
	return data, resp.Header, nil
}

// Holidays downloads a year's published holiday arrangement, checked
// against the hash the feed announced.
func (c *Client) Holidays(ctx context.Context, year, wantSHA string) ([]byte, error) {
	return c.document(ctx, "/v1/holidays/"+url.PathEscape(year), wantSHA)
}

// Catalog downloads the published catalog whole and checks it against the
// hash the district sent, so a cut or damaged download is never installed.
func (c *Client) Catalog(ctx context.Context, wantSHA string) ([]byte, error) {
	return c.document(ctx, "/v1/catalog", wantSHA)
}

func (c *Client) document(ctx context.Context, path, wantSHA string) ([]byte, error) {
	doc, h, err := c.raw(ctx, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	got := hex.EncodeToString(sum[:])
	if got != h.Get("X-Content-SHA256") || (wantSHA != "" && got != wantSHA) {
		return nil, &Error{Code: kiosk.EUnavailable, Message: "the download of " + path + " is incomplete or damaged; what the kiosk has stays"}
	}
	return doc, nil
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hello checks that the server speaks the protocol and learns its clock.
func (c *Client) Hello(ctx context.Context) (Hello, error) {
	var h Hello
	start := c.now()
	if err := c.do(ctx, http.MethodGet, "/v1/hello", nil, nil, &h); err != nil {
		return h, err
	}
	if h.Protocol != Protocol {
		return h, &Error{Code: kiosk.EUnavailable, Message: fmt.Sprintf("the district speaks %q, this kiosk %q: update the kiosk", h.Protocol, Protocol)}
	}
	rtt := c.now().Sub(start)
	c.Offset = h.Time.Sub(start.Add(rtt / 2)).Round(time.Second)
	return h, nil
}

// Enroll registers this kiosk's public key with a one-time code.
func (c *Client) Enroll(ctx context.Context, code, appVersion string) (EnrollReply, error) {
	var r EnrollReply
	body, _ := json.Marshal(EnrollRequest{Code: strings.TrimSpace(code), AppVersion: appVersion,
		PublicKey: base64.RawURLEncoding.EncodeToString(c.Key.Public().(ed25519.PublicKey))})
	return r, c.do(ctx, http.MethodPost, "/v1/enroll", body, nil, &r)
}

// AttachmentState asks how much of a file the district has.
func (c *Client) AttachmentState(ctx context.Context, sha string) (AttachmentState, error) {
	var st AttachmentState
	return st, c.do(ctx, http.MethodGet, "/v1/attachments/"+url.PathEscape(sha), nil, nil, &st)
}

// PutChunk sends part of a file from offset.
func (c *Client) PutChunk(ctx context.Context, sha string, offset, total int64, chunk []byte) (AttachmentState, error) {
	var st AttachmentState
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Total-Size", strconv.FormatInt(total, 10))
	path := fmt.Sprintf("/v1/attachments/%s?offset=%d", url.PathEscape(sha), offset)
	return st, c.do(ctx, http.MethodPut, path, chunk, h, &st)
}

// PostSubmission uploads a submission's sealed parts; a replay returns the
// first reply.
func (c *Client) PostSubmission(ctx context.Context, o *kiosk.Outbound) (SubmissionReceipt, error) {
	var r SubmissionReceipt
	body, err := json.Marshal(SubmissionUpload{ID: o.ID, ReceiptNo: o.ReceiptNo, Revision: o.Revision, From: o.From, Chain: o.Chain, Sealed: o.Sealed})
	if err != nil {
		return r, err
	}
	return r, c.do(ctx, http.MethodPost, "/v1/submissions", body, nil, &r)
}

// Changes reads the change feed after a cursor.
func (c *Client) Changes(ctx context.Context, after int64) (Changes, error) {
	var ch Changes
	return ch, c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/changes?after=%d", after), nil, nil, &ch)
}

// Held reads what the district holds of this kiosk's submissions, a page
// after the submission id after ("" for the first).
func (c *Client) Held(ctx context.Context, after string) (HeldPage, error) {
	var p HeldPage
	return p, c.do(ctx, http.MethodGet, "/v1/submissions?after="+url.QueryEscape(after), nil, nil, &p)
}

// Roster reads the agents of this kiosk's service point.
func (c *Client) Roster(ctx context.Context) ([]kiosk.RosterEntry, error) {
	var r []kiosk.RosterEntry
	return r, c.do(ctx, http.MethodGet, "/v1/roster", nil, nil, &r)
}

// SendHeartbeat reports the kiosk's state.
func (c *Client) SendHeartbeat(ctx context.Context, hb Heartbeat) error {
	body, _ := json.Marshal(hb)
	return c.do(ctx, http.MethodPost, "/v1/heartbeat", body, nil, nil)
}

// AsError returns the *Error in err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
