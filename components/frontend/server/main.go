// Command spa-server serves the AI-Infra-Matrix single-page app: static files
// from a directory, index.html for any other path (client-side routes), and
// /healthz. Hashed assets are cached for a year; index.html is never cached.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net/http"
	"os"
	"path"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	root := flag.String("root", "/srv/www", "directory holding index.html and the assets")
	check := flag.Bool("check", false, "check that index.html and every asset it references exist, then exit")
	showVersion := flag.Bool("version", false, "print the version and platform, then exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("spa-server %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
		return
	}
	site := os.DirFS(*root)
	if err := checkSite(site); err != nil {
		log.Printf("%s: %v", *root, err)
		os.Exit(1)
	}
	if *check {
		fmt.Printf("spa-server %s: %s ok\n", version, *root)
		return
	}
	srv := &http.Server{Addr: *addr, Handler: handler(site), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("spa-server %s serving %s on %s", version, *root, *addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// refRE finds local src/href references in index.html.
var refRE = regexp.MustCompile(`(?:src|href)="(/[^"]*)"`)

// checkSite verifies index.html exists and every local asset it names does.
func checkSite(site fs.FS) error {
	html, err := fs.ReadFile(site, "index.html")
	if err != nil {
		return fmt.Errorf("no index.html: %w", err)
	}
	for _, m := range refRE.FindAllStringSubmatch(string(html), -1) {
		name := strings.TrimPrefix(path.Clean(m[1]), "/")
		if name == "" || !strings.Contains(path.Base(name), ".") {
			continue // a client-side route such as /services
		}
		if _, err := fs.Stat(site, name); err != nil {
			return fmt.Errorf("index.html references %s: %w", m[1], err)
		}
	}
	return nil
}

func handler(site fs.FS) http.Handler {
	files := http.FileServerFS(site)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name != "" && name != "index.html" {
			if st, err := fs.Stat(site, name); err == nil && !st.IsDir() {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				files.ServeHTTP(w, r)
				return
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			if path.Ext(name) != "" {
				http.NotFound(w, r) // a missing asset, not a route
				return
			}
		}
		// index.html for / and for client-side routes.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFileFS(w, r, site, "index.html")
	})
	return mux
}
