// Package registry is matrix's client of an OCI registry from this process:
// the target (host[:port][/project], final tags, credential), retries that
// honour Retry-After, a redirect through a tunnel, and the tag mechanics
// publish, mirror and import share: every index goes under PendingTag and is
// read back before any final tag moves, one tag phase per registry at a time.
package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// Auth is a registry credential in plaintext, for this process's client;
// package publish hands the password to the engine as a secret.
type Auth struct {
	Username string
	Password string
}

// Client is a registry this process pushes to, and how it gets there.
type Client struct {
	Registry string   // host[:port][/project], e.g. harbor.example.com/ai-infra
	Tags     []string // final tags, e.g. v1.2.3 and latest
	Auth     Auth
	Jobs     int   // images read and pushed at once
	Retry    Retry // zero: DefaultRetry
	// Notify hears what the run waits for (another run's tag phase).
	Notify func(string)
	// Via is the host:port this process dials instead of the registry's host,
	// e.g. a tunnel to the host's localhost:5000 from inside a module.
	Via string
}

// Validate checks the registry and tags before anything is pushed.
func (c Client) Validate() error {
	if err := c.ValidateRegistry(); err != nil {
		return err
	}
	if len(c.Tags) == 0 {
		return class.BadInput.Errorf("no tags: pass --tags (e.g. --tags v1.2.3,latest)")
	}
	for _, tag := range c.Tags {
		if _, err := name.NewTag(c.Registry+"/x:"+tag, name.StrictValidation); err != nil || tag == PendingTag {
			return class.BadInput.Errorf("tag %q is not valid: use letters, digits, '_', '.', '-' (at most 128, not %s)", tag, PendingTag)
		}
	}
	return nil
}

// ValidateRegistry checks the registry alone, for a run that moves no tag.
func (c Client) ValidateRegistry() error {
	if c.Registry == "" {
		return class.BadInput.Errorf("registry is empty: pass --registry host[:port][/project]")
	}
	if strings.Contains(c.Registry, "://") {
		return class.BadInput.Errorf("registry %q is not host[:port][/project]: drop the scheme", c.Registry)
	}
	if _, err := name.NewRepository(c.Registry+"/x", name.StrictValidation); err != nil {
		return class.BadInput.Errorf("registry %q is not host[:port][/project]: %v", c.Registry, err)
	}
	return nil
}

// Repo is the repository of image under the registry.
func (c Client) Repo(image string) string { return c.Registry + "/" + image }

// Remote is the options of a go-containerregistry client for c: its
// transport with retries (and Via), and its credential.
func (c Client) Remote(ctx context.Context) []remote.Option {
	tr := http.DefaultTransport
	if c.Via != "" {
		host, _, _ := strings.Cut(c.Registry, "/")
		tr = Redirect{Match: func(u *url.URL) bool { return u.Host == host }, To: c.Via, Next: tr}
	}
	opts := c.Retry.Options(ctx, tr)
	if c.Auth.Username != "" || c.Auth.Password != "" {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: c.Auth.Username, Password: c.Auth.Password}))
	}
	return opts
}

// PingTimeout bounds Ping: an address that drops packets must fail the run
// in seconds.
var PingTimeout = 8 * time.Second

// Ping checks that the registry answers at all (any HTTP status, 401
// included) from this process, before anything is built or pushed: a
// registry that cannot be reached is class.Unreachable, with the fix, not a
// failed cell after the builds.
func (c Client) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	repo, err := name.NewRepository(c.Registry+"/x", name.StrictValidation)
	if err != nil {
		return class.BadInput.Errorf("registry %q: %w", c.Registry, err)
	}
	reg := repo.Registry
	host := reg.RegistryStr()
	if c.Via != "" {
		host = c.Via
	}
	schemes := []string{reg.Scheme()}
	if schemes[0] == "https" {
		schemes = append(schemes, "http") // an insecure registry answers on http only
	}
	var last error
	for _, scheme := range schemes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			_ = resp.Body.Close() // a ping reads nothing
			return nil
		}
		if wrongProtocol(err) {
			return nil // something answers; the push reports what is wrong with it
		}
		last = err
	}
	where := c.Registry
	if c.Via != "" {
		where += " (through " + c.Via + ")"
	}
	if ctx.Err() != nil {
		last = fmt.Errorf("no answer within %s (%w)", PingTimeout, last)
	}
	return class.Unreachable.Errorf("registry %s does not answer: %w; start it, or check --registry", where, last)
}
