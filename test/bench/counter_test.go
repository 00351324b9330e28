//go:build engine

package bench

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// counterAddr is where the counting proxy listens; the engine treats it as
// plain HTTP (ci/world/lib.sh lists 5000-5003 in engine.json).
const counterAddr = "127.0.0.1:5003"

// counter forwards to the real registry and counts what crosses it, so a
// no-op publish shows how many requests and bytes it really sent.
type counter struct {
	requests, writes, upBytes atomic.Int64
}

// snapshot returns and resets the counts.
func (c *counter) snapshot() (requests, writes, upBytes int64) {
	return c.requests.Swap(0), c.writes.Swap(0), c.upBytes.Swap(0)
}

// countingBody counts the bytes the client uploads.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func startCounter(b *testing.B, upstream string) *counter {
	b.Helper()
	u, _ := url.Parse("http://" + upstream)
	rp := httputil.NewSingleHostReverseProxy(u)
	c := &counter{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.writes.Add(1)
		}
		if r.Body != nil {
			r.Body = countingBody{r.Body, &c.upBytes}
		}
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", counterAddr)
	if err != nil {
		b.Fatalf("counting proxy on %s: %v", counterAddr, err)
	}
	go func() { _ = srv.Serve(ln) }() // ErrServerClosed at clean-up
	b.Cleanup(func() { _ = srv.Close() })
	return c
}
