package matrix

import (
	"io"

	"github.com/ai-infra-matrix/matrix/pkg/class"
	"github.com/ai-infra-matrix/matrix/pkg/report"
)

// Render draws the HTML page of an earlier JSON report (data, named name
// in errors) and, with previous (nil: none), marks what changed since that
// run. Input that is not a report is *BadInput; nothing is written then.
func Render(w io.Writer, data []byte, name string, previous []byte, previousName string) error {
	r, err := report.ReadReport(data, name)
	if err != nil {
		return class.BadInput.Wrap(err)
	}
	var prev *report.Report
	if previous != nil {
		if prev, err = report.ReadReport(previous, previousName); err != nil {
			return class.BadInput.Wrap(err)
		}
	}
	return r.HTML(w, prev)
}
