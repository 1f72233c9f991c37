package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// parseKeyValueArgs parses repeated "key=value" command-line arguments the
// way Kafka's CommandLineUtils.parseKeyValueArgs does: split at the first
// '='; a bare "key" maps to the empty string.
func parseKeyValueArgs(args []string) (map[string]string, error) {
	m := make(map[string]string, len(args))
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		if k == "" {
			return nil, usageErrorf("invalid property %q: expected key=value", a)
		}
		m[k] = v
	}
	return m, nil
}

// loadPropertiesFile reads a Java .properties file (the format of Kafka's
// --command-config, --producer.config, --consumer.config).
func loadPropertiesFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	defer f.Close()
	m, err := parseProperties(f)
	if err != nil {
		return nil, withCode(ExitUsage, fmt.Errorf("%s: %w", path, err))
	}
	return m, nil
}

// parseProperties implements java.util.Properties.load: '#' and '!' start
// comments, a key ends at the first unescaped '=', ':' or whitespace, a line
// ending in an odd number of backslashes continues on the next line, and
// \t \n \r \f \uXXXX escapes are decoded.
func parseProperties(r io.Reader) (map[string]string, error) {
	m := make(map[string]string)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var logical strings.Builder
	continuing := false
	for sc.Scan() {
		line := sc.Text()
		if continuing {
			line = strings.TrimLeft(line, " \t\f")
		} else {
			line = strings.TrimLeft(line, " \t\f")
			if line == "" || line[0] == '#' || line[0] == '!' {
				continue
			}
		}
		trailing := 0
		for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
			trailing++
		}
		if trailing%2 == 1 {
			logical.WriteString(line[:len(line)-1])
			continuing = true
			continue
		}
		logical.WriteString(line)
		continuing = false
		k, v, err := splitPropertyLine(logical.String())
		logical.Reset()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	if continuing && logical.Len() > 0 {
		k, v, err := splitPropertyLine(logical.String())
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, sc.Err()
}

func splitPropertyLine(line string) (string, string, error) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key := line[:end]
	rest := strings.TrimLeft(line[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	k, err := unescapeProperty(key)
	if err != nil {
		return "", "", err
	}
	v, err := unescapeProperty(rest)
	return k, v, err
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
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
				return "", fmt.Errorf("malformed \\uxxxx encoding in %q", s)
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\uxxxx encoding in %q", s)
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

// propBool reads a boolean property the way Java's Boolean.parseBoolean does
// (only "true", case-insensitively, is true).
func propBool(m map[string]string, key string, def bool) bool {
	v, ok := m[key]
	if !ok {
		return def
	}
	return strings.EqualFold(strings.TrimSpace(v), "true")
}

func propString(m map[string]string, key, def string) string {
	if v, ok := m[key]; ok {
		return v
	}
	return def
}

// mergeProps returns a new map with every layer applied in order (later wins).
func mergeProps(layers ...map[string]string) map[string]string {
	out := make(map[string]string)
	for _, l := range layers {
		for k, v := range l {
			out[k] = v
		}
	}
	return out
}
