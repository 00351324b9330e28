package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	prev := &Report{}
	prev.Set(Cell{Component: "a", Platform: "linux/amd64", Seconds: 60})
	prev.Set(Cell{Component: "a", Platform: "linux/arm64", Seconds: 120})
	p, err := NewProgress(&b, ProgressAuto, 2, 1, prev)
	require.NoError(t, err)
	p.Event(Event{Component: "a", Platform: "linux/amd64", Kind: EventStarted})
	p.Event(Event{Component: "a", Platform: "linux/amd64", Kind: EventVerified, Seconds: 1.5})
	p.Event(Event{Component: "a", Platform: "linux/arm64", Kind: EventFailed, Step: "build", Reason: "exit code 42"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3, "a buffer is not a terminal: plain lines")
	assert.Regexp(t, `^matrix: \[0/2 0s, 1 running, ~3m0s left\] a linux/amd64 started$`, lines[0])
	assert.Regexp(t, `^matrix: \[1/2 0s, 0 running, ~2m0s left\] a linux/amd64 verified 1.5s$`, lines[1])
	assert.Regexp(t, `^matrix: \[2/2 0s, 0 running, ~0s left\] a linux/arm64 failed at build: exit code 42$`, lines[2])
}

func TestProgressModes(t *testing.T) {
	var b bytes.Buffer
	p, err := NewProgress(&b, ProgressQuiet, 1, 1, nil)
	require.NoError(t, err)
	p.Event(Event{Component: "a", Platform: "linux/amd64", Kind: EventStarted})
	assert.Empty(t, b.String())
	_, err = NewProgress(&b, "fancy", 1, 1, nil)
	assert.ErrorContains(t, err, "use auto, plain, tty or quiet")
	p, err = NewProgress(&b, ProgressTTY, 1, 1, nil)
	require.NoError(t, err)
	p.Event(Event{Component: "a", Platform: "linux/amd64", Kind: EventVerified})
	p.Close()
	assert.Contains(t, b.String(), "a linux/amd64 verified", "the line is printed above the live bar")
}
