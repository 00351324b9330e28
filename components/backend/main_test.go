package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

func TestRoutes(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/healthz", "ok\n", http.StatusOK},
		{"/nope", "404 page not found\n", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		routes().ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.code || rec.Body.String() != tc.want {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, rec.Code, rec.Body.String(), tc.code, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	routes().ServeHTTP(rec, httptest.NewRequest("GET", "/version", nil))
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["version"] != version || got["arch"] != runtime.GOARCH {
		t.Errorf("/version = %v", got)
	}
}
