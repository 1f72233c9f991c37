package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Short names for Kafka's ConfigDef types, as DescribeConfigs reports them.
const (
	tBool     = kmsg.ConfigTypeBoolean
	tString   = kmsg.ConfigTypeString
	tInt      = kmsg.ConfigTypeInt
	tShort    = kmsg.ConfigTypeShort
	tLong     = kmsg.ConfigTypeLong
	tDouble   = kmsg.ConfigTypeDouble
	tList     = kmsg.ConfigTypeList
	tClass    = kmsg.ConfigTypeClass
	tPassword = kmsg.ConfigTypePassword
)

// null marks a definition without a default value (Kafka's null default).
const null = "\x00null"

// rule is the validator of a value beyond its type: a numeric range, a set of
// accepted strings (for a list: of accepted items), or a custom check that
// returns the end of a sentence beginning with the quoted value ("" if ok).
type rule struct {
	hasMin, hasMax bool
	min, max       float64
	oneOf          []string
	custom         func(v string) string
}

func atLeast(n float64) rule            { return rule{hasMin: true, min: n} }
func between(a, b float64) rule         { return rule{hasMin: true, min: a, hasMax: true, max: b} }
func oneOf(vals ...string) rule         { return rule{oneOf: vals} }
func custom(f func(string) string) rule { return rule{custom: f} }

// describe says in words what the rule accepts, for messages.
func (r rule) describe() string {
	switch {
	case r.hasMin && r.hasMax:
		return "must be between " + fmtNum(r.min) + " and " + fmtNum(r.max)
	case r.hasMin:
		return "must be at least " + fmtNum(r.min)
	case r.hasMax:
		return "must be at most " + fmtNum(r.max)
	}
	return ""
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// check validates v against type t and rule r and returns "" or the rest of a
// sentence that starts with the quoted value, e.g. `is not a number`.
func check(t kmsg.ConfigType, r rule, v string) string {
	s := strings.TrimSpace(v)
	switch t {
	case tBool:
		if !strings.EqualFold(s, "true") && !strings.EqualFold(s, "false") {
			return "is not a boolean (true or false)"
		}
	case tShort, tInt, tLong:
		bits := map[kmsg.ConfigType]int{tShort: 16, tInt: 32, tLong: 64}[t]
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return fmt.Sprintf("is out of range for a %d-bit integer", bits)
			}
			return "is not a number"
		}
		if msg := r.checkRange(float64(n)); msg != "" {
			return msg
		}
	case tDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return "is not a number"
		}
		if msg := r.checkRange(f); msg != "" {
			return msg
		}
	case tList:
		if r.oneOf != nil {
			items := splitList(s)
			if len(items) == 0 {
				return "is empty; accepted values: " + joinQuoted(r.oneOf)
			}
			for _, it := range items {
				if !contains(r.oneOf, it) {
					return fmt.Sprintf("contains %q; accepted values: %s", it, joinQuoted(r.oneOf))
				}
			}
		}
	default:
		if r.oneOf != nil && !contains(r.oneOf, s) {
			return "is not one of " + joinQuoted(r.oneOf)
		}
	}
	if r.custom != nil {
		return r.custom(s)
	}
	return ""
}

func (r rule) checkRange(f float64) string {
	if (r.hasMin && f < r.min) || (r.hasMax && f > r.max) {
		return r.describe()
	}
	return ""
}

// splitList splits a Kafka LIST value: comma separated, items trimmed, empty
// items dropped.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Parsers for values that already passed check.

func parseInt(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n
}

func parseBool(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "true") }

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f
}
