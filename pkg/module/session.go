package module

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"dagger.io/dagger"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/component"
	core "github.com/ai-infra-matrix/matrix/pkg/matrix"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// session is a checked run of a call and the components directory it reads.
type session struct {
	run *core.Run
	src *dagger.Directory // what the run uploads: the tree, or the part of it the run needs
}

// session adds the run-wide inputs to o and checks the run with newRun
// (core.New, or core.Inspect for a function that builds nothing): options
// first, then the specs, read in the engine. Its cell events go to the log,
// beside Dagger's own progress.
func (c *Call) session(ctx context.Context, o core.Options, newRun func(core.Options, component.Tree) (*core.Run, error)) (*session, error) {
	o.Run.Mirrors, o.Run.MaxContext = c.Mirrors, int64(c.MaxContext)
	o.Run.Lint, o.Run.Severity, o.Attest.SyftImage = c.LintMode, c.Severity, c.SyftImage
	o.Notify = c.notify
	var err error
	if o.Run.Secrets, err = c.secrets(ctx); err != nil {
		return nil, Classify(err)
	}
	if o.Run.BuildArgFiles, err = argFiles(ctx, c.BuildArgFiles); err != nil {
		return nil, Classify(err)
	}
	src, tree, note, err := c.tree()
	if err != nil {
		return nil, Classify(err)
	}
	tree.FS = component.EngineFS(ctx, src)
	o.Run.UploadedWhole = c.Source != nil // the dagger CLI sent it all
	r, err := newRun(o, tree)
	if err != nil {
		return nil, Classify(err)
	}
	if note != "" {
		o.Notify("note: " + note)
		r.Plan.Notes = append([]string{note}, r.Plan.Notes...)
	}
	if r.Upload != "." {
		src = src.Directory(r.Upload)
	}
	prog, _ := report.NewProgress(c.Log, report.ProgressPlain, r.Requested(), r.Options.Run.Jobs, nil)
	r.Options.Events = prog.Event
	return &session{run: r, src: src}, nil
}

// push binds what a verb that pushes needs beside its own options: the
// registry and its credentials, the registry service, the signing key, and
// in o.Push.Checkout a copy of checkout, the git history of floating tags
// and of the commit time (--source's own when there is a --source). done
// removes that copy.
func (c *Call) push(ctx context.Context, o *core.Options, checkout *dagger.Directory) (done func(), err error) {
	if checkout, err = c.checkout(ctx, checkout); err != nil {
		return nil, err
	}
	if o.Push.Password, o.Push.Via, err = c.credentials(ctx); err != nil {
		return nil, err
	}
	o.Push.Registry, o.Push.Username = c.Registry, c.Username
	if c.SignKey != nil {
		if o.Attest.SignKey, err = c.SignKey.Plaintext(ctx); err != nil {
			return nil, Classify(class.BadInput.Errorf("--sign-key: cannot be read: %w", err))
		}
	}
	if o.Push.Checkout, err = exported(ctx, checkout, "matrix-checkout-"); err != nil {
		return nil, err
	}
	return func() { os.RemoveAll(o.Push.Checkout) }, nil
}

// target is the push options of mirror and import, as the CLI's registry
// flags bind them.
func (c *Call) target(ctx context.Context, tags []string) (core.PushOptions, error) {
	pw, via, err := c.credentials(ctx)
	return core.PushOptions{Registry: c.Registry, Tags: tags, Username: c.Username, Password: pw, Via: via}, err
}

// tree picks --source, --components-dir or the module's own components
// (see core.ModuleTree): the directory the run reads, how it names it, and
// a note when it is the module's own.
func (c *Call) tree() (*dagger.Directory, component.Tree, string, error) {
	from, t, note, err := core.ModuleTree(c.Source != nil, c.ComponentsDir != nil, c.ComponentsPath)
	return map[core.TreeFrom]*dagger.Directory{core.FromSource: c.Source, core.FromComponentsDir: c.ComponentsDir, core.FromModule: c.OwnComponents}[from],
		t, note, err
}

// checkout is the git history the revision, the created time and the
// floating tags come from, when the verb needs one (def is not nil):
// --source's .git when there is a --source (none when it has no .git), else
// def, the module's own.
func (c *Call) checkout(ctx context.Context, def *dagger.Directory) (*dagger.Directory, error) {
	if def == nil || c.Source == nil {
		return def, nil
	}
	ok, err := c.Source.Exists(ctx, ".git")
	if err != nil || !ok {
		return nil, err
	}
	return c.Client.Directory().WithDirectory(".git", c.Source.Directory(".git")), nil
}

// credentials reads the registry password and starts the registry service,
// whose endpoint this process dials for a registry on the caller's loopback.
func (c *Call) credentials(ctx context.Context) (pw, via string, err error) {
	if c.Password != nil {
		if pw, err = c.Password.Plaintext(ctx); err != nil {
			return "", "", Classify(class.BadInput.Errorf("--password: cannot be read: %w", err))
		}
	}
	via, err = endpoint(ctx, c.RegistryService, "--registry-service")
	return pw, via, err
}

// secrets pairs each --secret with its --secret-id.
func (c *Call) secrets(ctx context.Context) (map[string]string, error) {
	if len(c.Secrets) != len(c.SecretIDs) {
		return nil, class.BadInput.Errorf("--secret-id: %d ids for %d secrets; give one --secret-id per --secret, in the same order",
			len(c.SecretIDs), len(c.Secrets))
	}
	out := map[string]string{}
	for i, s := range c.Secrets {
		v, err := s.Plaintext(ctx)
		if err != nil {
			return nil, class.BadInput.Errorf("--secret %s: cannot be read: %w", c.SecretIDs[i], err)
		}
		out[c.SecretIDs[i]] = v
	}
	return out, nil
}

// argFiles reads each --build-arg-file; the core parses them.
func argFiles(ctx context.Context, files []*dagger.File) ([]core.ArgFile, error) {
	var out []core.ArgFile
	for _, f := range files {
		name, err := f.Name(ctx)
		if err == nil {
			var data string
			if data, err = f.Contents(ctx); err == nil {
				out = append(out, core.ArgFile{Name: name, Data: []byte(data)})
				continue
			}
		}
		return nil, class.BadInput.Errorf("--build-arg-file: cannot be read: %w", err)
	}
	return out, nil
}

// endpoint starts svc, if given, and returns the host:port it answers on.
func endpoint(ctx context.Context, svc *dagger.Service, flag string) (string, error) {
	if svc == nil {
		return "", nil
	}
	started, err := svc.Start(ctx)
	if err != nil {
		return "", Classify(class.Unreachable.Errorf("%s: starting it: %w", flag, err))
	}
	return started.Endpoint(ctx)
}

// exported writes d (none: nothing) into a new temporary directory, for the
// code that reads files: git, and the bundle reader.
func exported(ctx context.Context, d *dagger.Directory, prefix string) (string, error) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil || d == nil {
		return dir, err
	}
	if _, err := d.Export(ctx, dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// Text is what a function returns: the table write draws, and err, with
// the table, in its class.
func Text(write func(io.Writer) error, err error) (string, error) {
	var b strings.Builder
	if write != nil {
		if werr := write(&b); werr != nil {
			return "", werr
		}
	}
	if err != nil && b.Len() > 0 {
		err = fmt.Errorf("%s\n%w", b.String(), err)
	}
	if err != nil {
		return "", Classify(err)
	}
	return b.String(), nil
}

// Outcome is Text of a run's report: its table, or only err when the run
// stopped before its report.
func Outcome(res *core.Result, err error) (string, error) {
	if res == nil {
		return Text(nil, err)
	}
	return Text(res.Report.Table, err)
}

// Classify carries the class out of `dagger call` as its exit code (2 bad
// input, 3 engine or registry unreachable; a failed cell exits 1, as any
// error does). In Dagger v0.21.8 the dagger CLI exits with another code than
// 1 only for a *dagger.ExecError, which the SDK makes of a GraphQL error
// whose extensions say _type EXEC_ERROR and exitCode; and the module's
// generated main hands on the extensions of a *gqlerror.Error only. So the
// class travels as those two extensions, on err itself. An error Classify
// already carries goes through unchanged; nil stays nil.
func Classify(err error) error {
	if _, done := err.(*gqlerror.Error); done || err == nil { //nolint:errorlint // the generated main reads only a top-level *gqlerror.Error
		return err
	}
	if c := class.Of(err); c == class.BadInput || c == class.Unreachable {
		return &gqlerror.Error{Err: err, Message: err.Error(), Extensions: map[string]any{"_type": "EXEC_ERROR", "exitCode": int(c)}}
	}
	return err
}
