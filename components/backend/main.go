// Command backend is the AI-Infra-Matrix API service: a small HTTP server with
// /healthz and /version, built by matrix for every platform.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	showVersion := flag.Bool("version", false, "print the version and platform, then exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("backend %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	srv := &http.Server{Addr: *addr, Handler: routes(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("backend %s listening on %s", version, *addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"version": version, "os": runtime.GOOS, "arch": runtime.GOARCH,
		})
	})
	return mux
}
