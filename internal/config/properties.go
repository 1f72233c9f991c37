package config

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Property is one key/value pair read from a .properties file, with the line
// on which its logical line started (1-based).
type Property struct {
	Key   string
	Value string
	Line  int
}

// ParseProperties reads the java.util.Properties text format: '#' and '!'
// start comment lines; a key ends at the first unescaped '=', ':' or
// whitespace; a line ending in an odd number of backslashes continues on the
// next line (whose leading whitespace is dropped); and \t \n \r \f \uXXXX and
// \<any> escapes are decoded in keys and values. Properties are returned in
// file order; when a key repeats, the caller keeps the last one, as Java does.
//
// Unlike Java, a malformed \u escape is an error rather than an exception.
func ParseProperties(r io.Reader) ([]Property, error) {
	var (
		props   []Property
		sc      = bufio.NewScanner(r)
		lineNo  int
		logical strings.Builder
		start   int
		cont    bool
	)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if cont {
			line = strings.TrimLeft(line, " \t\f")
		} else {
			trimmed := strings.TrimLeft(line, " \t\f")
			if trimmed == "" || trimmed[0] == '#' || trimmed[0] == '!' {
				continue
			}
			line = trimmed
			start = lineNo
			logical.Reset()
		}
		if endsWithContinuation(line) {
			logical.WriteString(line[:len(line)-1])
			cont = true
			continue
		}
		logical.WriteString(line)
		cont = false
		p, err := splitProperty(logical.String())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		p.Line = start
		props = append(props, p)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cont { // a continuation at end of input ends the logical line
		p, err := splitProperty(logical.String())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", start, err)
		}
		p.Line = start
		props = append(props, p)
	}
	return props, nil
}

// endsWithContinuation reports whether line ends in an odd number of
// backslashes.
func endsWithContinuation(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitProperty splits one logical line (leading whitespace already removed)
// into its unescaped key and value.
func splitProperty(s string) (Property, error) {
	keyEnd := len(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++ // skip the escaped character
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			keyEnd = i
			break
		}
	}
	rest := strings.TrimLeft(s[keyEnd:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	key, err := unescape(s[:keyEnd])
	if err != nil {
		return Property{}, err
	}
	val, err := unescape(rest)
	if err != nil {
		return Property{}, err
	}
	return Property{Key: key, Value: val}, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
