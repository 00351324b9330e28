package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaky answers the first n requests with status (and Retry-After when set).
func flaky(n int32, status int, retryAfter string) (*httptest.Server, *atomic.Int32, *[]time.Time) {
	var count atomic.Int32
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		times = append(times, time.Now())
		if count.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	return srv, &count, &times
}

func TestRetryTransport(t *testing.T) {
	fast := Retry{Attempts: 4, Base: time.Millisecond, Max: 2 * time.Second}
	for _, tc := range []struct {
		name       string
		fails      int32
		status     int
		retryAfter string
		wantStatus int
		wantTries  int32
		minGap     time.Duration
	}{
		{"503 storm then ok", 3, 503, "", 200, 4, 0},
		{"429 honours Retry-After", 1, 429, "1", 200, 2, time.Second},
		{"gives up after attempts", 10, 503, "", 503, 4, 0},
		{"404 is not retried", 10, 404, "", 404, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, count, times := flaky(tc.fails, tc.status, tc.retryAfter)
			defer srv.Close()
			cl := http.Client{Transport: fast.Transport(http.DefaultTransport)}
			resp, err := cl.Get(srv.URL)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantTries, count.Load())
			if tc.minGap > 0 {
				assert.GreaterOrEqual(t, (*times)[1].Sub((*times)[0]), tc.minGap, "waited Retry-After")
			}
		})
	}
}

func TestRetryAfterCapped(t *testing.T) {
	r := Retry{Attempts: 2, Base: time.Millisecond, Max: 3 * time.Second}
	resp := &http.Response{Header: http.Header{"Retry-After": []string{"3600"}}}
	assert.Equal(t, 3*time.Second, r.wait(0, resp), "a registry cannot stall us for an hour")
	assert.Equal(t, 4*time.Millisecond, r.wait(2, nil))
}

func TestRetryDo(t *testing.T) {
	r := Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
	n := 0
	err := r.Do(context.Background(), func() error {
		n++
		return errors.New("unexpected status code 503 Service Unavailable")
	})
	assert.Error(t, err)
	assert.Equal(t, 3, n, "transient errors are retried, bounded")
	n = 0
	err = r.Do(context.Background(), func() error { n++; return errors.New("denied: requested access to the resource is denied") })
	assert.Error(t, err)
	assert.Equal(t, 1, n, "permanent errors are not retried")
}

// TestRetryWrongProtocol: https to a plain-http registry fails at once.
// go-containerregistry probes an insecure registry with https before http;
// retrying that probe made every registry call wait 300 ms.
func TestRetryWrongProtocol(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	r := Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
	cl := http.Client{Transport: r.Transport(http.DefaultTransport)}
	resp, err := cl.Get("https://" + srv.Listener.Addr().String() + "/v2/")
	if resp != nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err)
	assert.ErrorContains(t, err, "HTTP response to HTTPS client")
	assert.Equal(t, int32(1), conns.Load(), "one connection: no retry")
}
