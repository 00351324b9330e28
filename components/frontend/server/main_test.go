package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func site() fstest.MapFS {
	return fstest.MapFS{
		"index.html":    {Data: []byte(`<link href="/style.abc.css"><script src="/app.abc.js"></script><a href="/services">s</a>`)},
		"app.abc.js":    {Data: []byte("console.log(1)")},
		"style.abc.css": {Data: []byte("body{}")},
	}
}

func get(t *testing.T, h http.Handler, p string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestHandler(t *testing.T) {
	h := handler(site())
	for _, tc := range []struct {
		path string
		code int
		has  string
	}{
		{"/healthz", 200, "ok"},
		{"/", 200, "<script"},
		{"/services", 200, "<script"},
		{"/app.abc.js", 200, "console.log"},
		{"/missing.js", 404, ""},
	} {
		code, body := get(t, h, tc.path)
		if code != tc.code || !strings.Contains(body, tc.has) {
			t.Errorf("GET %s: %d %q, want %d containing %q", tc.path, code, body, tc.code, tc.has)
		}
	}
}

func TestCheckSite(t *testing.T) {
	if err := checkSite(site()); err != nil {
		t.Fatal(err)
	}
	s := site()
	delete(s, "app.abc.js")
	if err := checkSite(s); err == nil {
		t.Fatal("missing asset not reported")
	}
}
