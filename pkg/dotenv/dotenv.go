// Package dotenv reads build args from .env files (--build-arg-file).
//
// It is hand-written, not joho/godotenv: that parser's errors quote the rest
// of the file (passwords included) and carry no line number, and a missing
// closing quote there swallows the following lines. Here an error names the
// line and never a value, a quote closes on its own line, and values are
// literal: ${VAR} is not expanded, so no key's value (a password) can flow
// into another key's.
package dotenv

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Var is one KEY=value line.
type Var struct {
	Key, Value string
	Line       int
}

// Error is a line that does not parse; it never holds a value.
type Error struct {
	Line    int
	Problem string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Problem) }

var keyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads data: blank lines and # comments are skipped, `export ` is
// allowed before a key, a value is bare (an inline comment after " #" is
// dropped), 'single-quoted' (literal) or "double-quoted" (\n, \t, \" and \\
// escapes). A key given twice keeps its place and its last value.
func Parse(data []byte) ([]Var, error) {
	var out []Var
	at := map[string]int{}
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, "export "))
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &Error{n, "no '='"}
		}
		key = strings.TrimSpace(key)
		if !keyRE.MatchString(key) {
			return nil, &Error{n, "the key is not a name of letters, digits and _ (not starting with a digit)"}
		}
		v, err := value(strings.TrimSpace(raw))
		if err != "" {
			return nil, &Error{n, key + ": " + err}
		}
		if i, dup := at[key]; dup {
			out[i] = Var{Key: key, Value: v, Line: n}
			continue
		}
		at[key] = len(out)
		out = append(out, Var{Key: key, Value: v, Line: n})
	}
	if err := s.Err(); err != nil {
		return nil, &Error{0, err.Error()}
	}
	return out, nil
}

// value unquotes a raw value, or says what is wrong with it.
func value(raw string) (string, string) {
	if raw == "" {
		return "", ""
	}
	q := raw[0]
	if q != '"' && q != '\'' {
		if i := strings.Index(raw, " #"); i >= 0 {
			raw = strings.TrimSpace(raw[:i])
		}
		return raw, ""
	}
	var b strings.Builder
	for i := 1; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == q:
			if rest := strings.TrimSpace(raw[i+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
				return "", "text after the closing quote"
			}
			return b.String(), ""
		case c == '\\' && q == '"' && i+1 < len(raw):
			i++
			switch raw[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '"', '\\':
				b.WriteByte(raw[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(raw[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "the quote is not closed on this line"
}
