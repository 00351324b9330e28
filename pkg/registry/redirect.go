package registry

import (
	"net/http"
	"net/url"
)

// Redirect sends the requests whose URL Match accepts to the host:port To
// instead: a tunnel from inside the module to a registry on the caller's
// loopback (a Client's Via, an upstream in package mirror).
type Redirect struct {
	Match func(*url.URL) bool
	To    string
	Next  http.RoundTripper
}

func (r Redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.Match(req.URL) {
		req = req.Clone(req.Context())
		req.URL.Host = r.To
	}
	return r.Next.RoundTrip(req)
}
