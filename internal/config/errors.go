package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is a configuration error: a bad value, an unknown or unsupported
// property, a malformed file. Its message is one line that names the property
// and what would have been accepted, e.g.
//
//	config: log.retention.hours: "abc" is not a number
//	config: unknown property "log.retension.ms" (did you mean log.retention.ms?)
//
// The server exits with status 2 on an *Error from Load; the broker answers
// INVALID_CONFIG (with Error() as the message) for one from a validator.
type Error struct {
	// Key is the property at fault, or "" when the error concerns the file.
	Key string
	// Value is the offending value, if any.
	Value string
	// Line is the line in the properties file (1-based), or 0 when the
	// property came from an override, a request, or nowhere in particular.
	Line int

	msg string // the whole message after "config: "
}

func (e *Error) Error() string { return "config: " + e.msg }

// valueError reports that value is not acceptable for key; rule completes the
// sentence begun by the quoted value, e.g. "is not a number".
func valueError(key, value, rule string) *Error {
	return &Error{Key: key, Value: value, msg: fmt.Sprintf("%s: %q %s", key, value, rule)}
}

// keyError reports a problem with key that is not about one value.
func keyError(key, msg string) *Error {
	return &Error{Key: key, msg: key + ": " + msg}
}

func unknownError(what, key string, candidates []string) *Error {
	msg := fmt.Sprintf("unknown %s %q", what, key)
	if s := suggest(key, candidates); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return &Error{Key: key, msg: msg}
}

// suggest returns the candidate nearest to key by edit distance, if it is
// near enough to be a plausible typo.
func suggest(key string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(key, c); d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := 2 + len(key)/8
	if bestD > limit {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func joinQuoted(vals []string) string { return strings.Join(vals, ", ") }
