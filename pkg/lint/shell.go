package lint

import (
	"slices"
	"strings"
)

// commands splits the text of a RUN into simple commands (at &&, ||, ;, |,
// newlines and parentheses), each as its words, quotes removed. It is a
// reading aid for the rules, not a shell: words are what a rule compares.
func commands(text string) [][]string {
	var out [][]string
	var cur []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	var quote rune
	for i, r := range text {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\' && i+1 < len(text) && text[i+1] == '\n':
		case r == ' ' || r == '\t':
			flushWord()
		case r == '&' || r == '|' || r == ';' || r == '\n' || r == '(' || r == ')' || r == '`':
			// $( opens a substitution whose words start a command too.
			if r == '(' && inWord && strings.HasSuffix(word.String(), "$") {
				s := word.String()
				word.Reset()
				word.WriteString(s[:len(s)-1])
				inWord = word.Len() > 0
			}
			flushCmd()
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	flushCmd()
	// Keywords that open a compound command are not the command.
	for i, c := range out {
		for len(c) > 0 && slices.Contains([]string{"then", "else", "do", "!", "if", "while", "until", "{", "}"}, c[0]) {
			c = c[1:]
		}
		out[i] = c
	}
	return slices.DeleteFunc(out, func(c []string) bool { return len(c) == 0 })
}

// assignments are the VAR=value words before a command, and the arguments
// of export and env.
func assignments(sc []string) []string {
	var out []string
	for i, w := range sc {
		if isAssignment(w) && (i == 0 || isAssignment(sc[i-1]) || slices.Contains([]string{"export", "env"}, sc[0])) {
			out = append(out, w)
		}
	}
	return out
}

func isAssignment(w string) bool {
	k, _, ok := strings.Cut(w, "=")
	return ok && k != "" && strings.IndexFunc(k, func(r rune) bool {
		return r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) < 0
}

// command is sc without its leading assignments (and env).
func command(sc []string) []string {
	for len(sc) > 0 && (isAssignment(sc[0]) || sc[0] == "env") {
		sc = sc[1:]
	}
	return sc
}

// compiler names the compile or bundle step sc runs, or "".
func compiler(sc []string) string {
	c := command(sc)
	if len(c) == 0 {
		return ""
	}
	arg := func(i int) string {
		if i < len(c) {
			return c[i]
		}
		return ""
	}
	name := c[0][strings.LastIndex(c[0], "/")+1:]
	switch name {
	case "go":
		if arg(1) == "build" || arg(1) == "install" {
			return "go build"
		}
	case "cargo":
		if arg(1) == "build" || arg(1) == "install" {
			return "cargo build"
		}
	case "npm", "yarn", "pnpm":
		script := arg(1)
		if script == "run" || script == "run-script" {
			script = arg(2)
		}
		if strings.Contains(script, "build") {
			return name + " " + strings.Join(c[1:], " ")
		}
	case "mvn", "gradle", "gradlew", "make", "gcc", "g++", "cc", "cmake":
		return name
	}
	return ""
}

// varRefs lists the variables $NAME and ${NAME...} that text refers to.
func varRefs(text string) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != '$' || i+1 == len(text) {
			continue
		}
		j := i + 1
		if text[j] == '{' {
			j++
		}
		k := j
		for k < len(text) && (text[k] == '_' || text[k] >= 'A' && text[k] <= 'Z' || text[k] >= 'a' && text[k] <= 'z' || k > j && text[k] >= '0' && text[k] <= '9') {
			k++
		}
		if k > j {
			out = append(out, text[j:k])
		}
		i = k - 1
	}
	return out
}
