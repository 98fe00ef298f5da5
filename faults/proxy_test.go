package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"

	kiosksync "github.com/keqiao/villagekiosk/sync"
)

// --- toxiproxy between the kiosk and the district ---

// counters hold the bytes each "count" toxic has passed, by its key.
var counters sync.Map // key -> *atomic.Int64

// countToxic passes every byte through and adds them up: how many bytes
// crossed the proxy in its direction.
type countToxic struct {
	Key string `json:"key"`
}

func (t *countToxic) Pipe(stub *toxics.ToxicStub) {
	c, _ := counters.LoadOrStore(t.Key, new(atomic.Int64))
	n := c.(*atomic.Int64)
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				stub.Close()
				return
			}
			n.Add(int64(len(chunk.Data)))
			stub.Output <- chunk
		}
	}
}

func init() { toxics.Register("count", new(countToxic)) }

// toxic is a toxiproxy proxy in this process, from a loopback address to
// the district, with a byte counter on the kiosk→district stream.
type toxic struct {
	t     *testing.T
	proxy *toxiproxy.Proxy
	key   string
}

func newToxic(t *testing.T, upstream string) *toxic {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, t.Name(), freeAddr(t), upstream)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	x := &toxic{t: t, proxy: p, key: t.Name() + "/up"}
	counters.Store(x.key, new(atomic.Int64))
	x.add("counter", "count", "upstream", map[string]any{"key": x.key})
	return x
}

func (x *toxic) url() string { return "http://" + x.proxy.Listen }

// add puts a toxic on a stream ("upstream": kiosk→district).
func (x *toxic) add(name, kind, streamName string, attrs map[string]any) {
	x.t.Helper()
	doc, _ := json.Marshal(map[string]any{"name": name, "type": kind, "stream": streamName, "toxicity": 1.0, "attributes": attrs})
	if _, err := x.proxy.Toxics.AddToxicJson(bytes.NewReader(doc)); err != nil {
		x.t.Fatalf("add toxic %s: %v", name, err)
	}
}

func (x *toxic) remove(name string) {
	x.t.Helper()
	if err := x.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
		x.t.Fatalf("remove toxic %s: %v", name, err)
	}
}

// upBytes is how many bytes went from the kiosk to the district so far.
func (x *toxic) upBytes() int64 {
	c, _ := counters.Load(x.key)
	return c.(*atomic.Int64).Load()
}

// --- an HTTP proxy that answers or tampers instead of the district ---

// faultProxy forwards to the district unless its hook answers first; it
// counts requests and request bytes that reached it.
type faultProxy struct {
	t        *testing.T
	srv      *http.Server
	addr     string
	rp       *httputil.ReverseProxy
	mu       sync.Mutex
	hook     func(w http.ResponseWriter, r *http.Request, body []byte) bool // true: answered
	onReply  func(r *http.Request, body []byte, resp *http.Response) error  // non-nil error: drop the reply
	requests map[string]int                                                 // "METHOD /path" -> count
	bodies   int64                                                          // request body bytes received
}

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	u, _ := url.Parse(upstream)
	p := &faultProxy{t: t, requests: map[string]int{}}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	p.rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		on := p.onReply
		p.mu.Unlock()
		if on == nil {
			return nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		req := resp.Request
		reqBody, _ := req.Context().Value(bodyKey{}).([]byte)
		return on(req, reqBody, &http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body))})
	}
	p.rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		// Like a connection that broke: the kiosk gets no answer at all.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	return p
}

type bodyKey struct{}

func (p *faultProxy) url() string { return "http://" + p.addr }

func (p *faultProxy) set(hook func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = hook
}

func (p *faultProxy) setOnReply(f func(r *http.Request, body []byte, resp *http.Response) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onReply = f
}

func (p *faultProxy) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[key]
}

func (p *faultProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests, p.bodies = map[string]int{}, 0
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + routeOf(r.URL.Path)
	p.mu.Lock()
	p.requests[key]++
	p.bodies += int64(len(body))
	hook := p.hook
	p.mu.Unlock()
	if hook != nil && hook(w, r, body) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
	p.rp.ServeHTTP(w, r)
}

// routeOf reduces a path to its route: /v1/attachments/{sha} and so on.
func routeOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return strings.Join(parts, "/")
}

// answer writes an error reply as the district would (with the protocol
// header), optionally with Retry-After.
func answer(w http.ResponseWriter, status int, retryAfter string) {
	w.Header().Set(kiosksync.ProtocolHeader, kiosksync.Protocol)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":"injected by the fault suite"}`, kiosksync.CodeFor(status))
}

// portal answers like a Wi-Fi login page: 200 and HTML, no protocol header.
func portal(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `<html><body><form action="/login">请登录 Wi-Fi <input name="phone"></form></body></html>`)
}
