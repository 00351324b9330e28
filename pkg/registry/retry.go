package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Retry bounds for transient registry errors; the zero Retry is DefaultRetry.
type Retry struct {
	Attempts int           // total tries, at least 1
	Base     time.Duration // first back-off, doubled each try
	Max      time.Duration // longest wait, also the cap on Retry-After
}

// DefaultRetry tries 5 times over about half a minute at most.
var DefaultRetry = Retry{Attempts: 5, Base: 500 * time.Millisecond, Max: 10 * time.Second}

func (r Retry) orDefault() Retry {
	if r.Attempts == 0 {
		return DefaultRetry
	}
	return r
}

// Options are the options of a go-containerregistry client over tr, with
// r's retries; go-containerregistry's own are off, so tries do not multiply.
func (r Retry) Options(ctx context.Context, tr http.RoundTripper) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(r.Transport(tr)), remote.WithRetryBackoff(remote.Backoff{Steps: 1})}
}

// transient reports whether a registry status is worth another try.
func transient(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout || code == http.StatusInternalServerError
}

// wait is how long to wait before try n (0-based) after resp: Retry-After
// when the registry sends it, else exponential back-off.
func (r Retry) wait(n int, resp *http.Response) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, r.Max)
		}
	}
	return min(r.Base<<n, r.Max)
}

// Transport wraps next so transient statuses and dropped connections are
// retried with back-off, bounded by r.
func (r Retry) Transport(next http.RoundTripper) http.RoundTripper {
	return &retryTransport{next: next, r: r.orDefault()}
}

type retryTransport struct {
	next http.RoundTripper
	r    Retry
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := t.next.RoundTrip(req)
		last := n+1 >= t.r.Attempts
		if err == nil && !transient(resp.StatusCode) || err != nil && wrongProtocol(err) || last || !rewindable(req) {
			return resp, err
		}
		d := t.r.wait(n, resp)
		if resp != nil {
			_ = resp.Body.Close() // the response is dropped for the retry
		}
		if err := sleep(req.Context(), d); err != nil {
			return nil, err
		}
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
	}
}

// wrongProtocol reports a TLS failure that no retry cures: a plain-http
// registry answering https, or a certificate that does not verify. Failing it
// at once matters: go-containerregistry probes an insecure registry with https
// first and only turns to http when that fails, so retrying it cost 300 ms per
// registry call.
func wrongProtocol(err error) bool {
	var header tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var authority x509.UnknownAuthorityError
	var host x509.HostnameError
	return errors.As(err, &header) || errors.As(err, &verify) || errors.As(err, &alert) ||
		errors.As(err, &authority) || errors.As(err, &host) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") // net/http does not wrap it
}

// rewindable requests can be sent again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do runs f until it succeeds, fails for good, or r's tries are used up.
// Errors from the engine carry no status code, so transient ones are told by text.
func (r Retry) Do(ctx context.Context, f func() error) error {
	r = r.orDefault()
	var err error
	for n := 0; n < r.Attempts; n++ {
		if err = f(); err == nil || !transientText(err.Error()) {
			return err
		}
		if n+1 < r.Attempts {
			if serr := sleep(ctx, r.wait(n, nil)); serr != nil {
				return err
			}
		}
	}
	return err
}

func transientText(s string) bool {
	for _, m := range []string{"429", "Too Many Requests", "500 Internal", "502", "503", "504", "Service Unavailable", "connection reset", "connection refused", "unexpected EOF", "i/o timeout"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}
