package report

import (
	"fmt"
	"io"
	"os"

	"github.com/ai-infra-matrix/matrix/pkg/class"
)

// Outputs are the files a run writes its report to beside the table, each
// by path ("" none): the CLI's --report, --junit, --results and --html.
type Outputs struct {
	JSON, JUnit, Results, HTML string
	Previous                   *Report // the earlier run --html marks the changes from
}

// Write writes r to each path of o. In GitHub Actions it then appends the
// step summary to $GITHUB_STEP_SUMMARY and writes one annotation per failed
// cell to stdout, where GitHub reads workflow commands.
func (o Outputs) Write(r *Report, stdout io.Writer) error {
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{o.JSON, r.JSON},
		{o.JUnit, r.JUnit},
		{o.Results, r.File("results.json").Write},
		{o.HTML, func(w io.Writer) error { return r.HTML(w, o.Previous) }},
	} {
		if f.path != "" {
			if err := writeFile(f.path, f.write, os.O_TRUNC); err != nil {
				return err
			}
		}
	}
	if path := os.Getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if err := writeFile(path, r.File("summary.md").Write, os.O_APPEND); err != nil {
			return err
		}
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		return r.Annotations(stdout)
	}
	return nil
}

// File is the report's file name of Files; it panics on a name Files does
// not have, a mistake of the caller's code.
func (r *Report) File(name string) File {
	for _, f := range r.Files() {
		if f.Name == name {
			return f
		}
	}
	panic("report: no file " + name)
}

// writeFile writes (mode os.O_TRUNC) or appends (os.O_APPEND) to path.
func writeFile(path string, write func(io.Writer) error, mode int) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

// ReadFile reads the JSON report at path, which flag names (--previous):
// bad input when it cannot be read or is not a report.
func ReadFile(path, flag string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, class.BadInput.Errorf("%s %s: %v; give a report written with --report", flag, path, err)
	}
	r, err := ReadReport(b, flag+" "+path)
	if err != nil {
		return nil, class.BadInput.Wrap(err)
	}
	return r, nil
}
