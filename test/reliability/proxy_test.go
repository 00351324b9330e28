//go:build engine

package reliability

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// faultAddr is the proxy's address, and faultAddrs those of proxies side by
// side; the engine treats them as plain HTTP (ci/world/lib.sh lists
// 5001-5003 in engine.json).
const faultAddr = "127.0.0.1:5001"

var faultAddrs = []string{faultAddr, "127.0.0.1:5002", "127.0.0.1:5003"}

// fault is what the proxy does to the next matching requests.
type fault struct {
	match      func(*http.Request) bool
	status     int    // answer with this status, or
	retryAfter string // with this Retry-After
	reset      bool   // drop the connection after reading part of the body
	left       int    // how many more requests to hit; <0: all
}

// hit is one request the proxy saw.
type hit struct {
	At       time.Time
	Method   string
	Path     string
	Status   int // 0: connection dropped
	Injected bool
}

// proxy forwards to the real registry, injecting faults.
type proxy struct {
	mu     sync.Mutex
	faults []*fault
	hits   []hit
	srv    *http.Server
	addr   string
}

// startProxy serves on addr, in front of the registry upstream.
func startProxy(t *testing.T, addr, upstream string) *proxy {
	t.Helper()
	u, _ := url.Parse("http://" + upstream)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &proxy{addr: addr}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := p.take(r); f != nil {
			p.inject(w, r, f)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		// The registry builds Location headers from Host; keep ours.
		rp.ServeHTTP(rec, r)
		p.record(r, rec.status, false)
	})}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("fault proxy on %s: %v", addr, err)
	}
	go func() { _ = p.srv.Serve(ln) }() // ErrServerClosed at clean-up
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// add queues a fault.
func (p *proxy) add(f *fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
}

// clear removes every fault.
func (p *proxy) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = nil
}

func (p *proxy) take(r *http.Request) *fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if f.left != 0 && (f.match == nil || f.match(r)) {
			if f.left > 0 {
				f.left--
			}
			return f
		}
	}
	return nil
}

func (p *proxy) inject(w http.ResponseWriter, r *http.Request, f *fault) {
	if f.reset {
		// Read a little of the blob, then drop the connection mid-transfer.
		_, _ = io.CopyN(io.Discard, r.Body, 512) // a short read is the point
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
			}
		}
		p.record(r, 0, true)
		return
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	w.WriteHeader(f.status)
	p.record(r, f.status, true)
}

func (p *proxy) record(r *http.Request, status int, injected bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hits = append(p.hits, hit{At: time.Now(), Method: r.Method, Path: r.URL.Path, Status: status, Injected: injected})
}

// log returns a copy of the hits so far.
func (p *proxy) log() []hit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]hit(nil), p.hits...)
}

// injected counts injected faults.
func (p *proxy) injected() int {
	n := 0
	for _, h := range p.log() {
		if h.Injected {
			n++
		}
	}
	return n
}

// Request matchers.
func blobUpload(r *http.Request) bool {
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func manifestGet(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.URL.Path, "/manifests/")
}
