// Command nightingale is the AI-Infra-Matrix monitoring service: a small HTTP
// server that exposes its own metrics in the Prometheus text format on
// /metrics and a liveness probe on /healthz. It uses the standard library only.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	addr := flag.String("addr", ":17000", "listen address")
	showVersion := flag.Bool("version", false, "print the version and platform, then exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("nightingale %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	m := newMetrics(time.Now())
	srv := &http.Server{Addr: *addr, Handler: m.instrument(routes(m)), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("nightingale %s listening on %s", version, *addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func routes(m *metrics) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.write(w, time.Now())
	})
	return mux
}

// metrics counts requests by path and status code.
type metrics struct {
	start    time.Time
	mu       sync.Mutex
	requests map[string]uint64 // key: path + "\x00" + code
}

func newMetrics(start time.Time) *metrics {
	return &metrics{start: start, requests: map[string]uint64{}}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		path := r.URL.Path
		if path != "/healthz" && path != "/metrics" {
			path = "other" // bounded label cardinality
		}
		m.mu.Lock()
		m.requests[fmt.Sprintf("%s\x00%d", path, sw.code)]++
		m.mu.Unlock()
	})
}

func (m *metrics) write(w http.ResponseWriter, now time.Time) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "# HELP nightingale_build_info Build information.\n# TYPE nightingale_build_info gauge\n")
	fmt.Fprintf(w, "nightingale_build_info{version=%q,goarch=%q,goversion=%q} 1\n", version, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "# HELP nightingale_uptime_seconds Seconds since the service started.\n# TYPE nightingale_uptime_seconds gauge\n")
	fmt.Fprintf(w, "nightingale_uptime_seconds %g\n", now.Sub(m.start).Seconds())
	fmt.Fprintf(w, "# HELP nightingale_goroutines Number of goroutines.\n# TYPE nightingale_goroutines gauge\n")
	fmt.Fprintf(w, "nightingale_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# HELP nightingale_heap_alloc_bytes Bytes of allocated heap objects.\n# TYPE nightingale_heap_alloc_bytes gauge\n")
	fmt.Fprintf(w, "nightingale_heap_alloc_bytes %d\n", ms.HeapAlloc)
	fmt.Fprintf(w, "# HELP nightingale_http_requests_total HTTP requests served, by path and status code.\n# TYPE nightingale_http_requests_total counter\n")
	m.mu.Lock()
	keys := make([]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path, code, _ := strings.Cut(k, "\x00")
		fmt.Fprintf(w, "nightingale_http_requests_total{path=%q,code=%q} %d\n", path, code, m.requests[k])
	}
	m.mu.Unlock()
}
