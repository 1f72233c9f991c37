package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// Flag annotations understood by normalizeArgs.
const (
	// annNargs marks a flag that takes one or more following values, like
	// argparse4j's nargs("+") (kafka-producer-perf-test --producer-props a=1 b=2).
	annNargs = "sluice/nargs+"
	// annOptArg marks a flag with an optional value that, as in jopt-simple,
	// takes the next argument when it does not look like an option
	// (kafka-console-producer --compression-codec [codec]).
	annOptArg = "sluice/optarg"
)

// normalizeArgs rewrites a Kafka tool's command line into what pflag parses,
// keeping Kafka's own parsers' habits:
//
//   - jopt-simple accepts long options with one dash (-topic t) and unique
//     abbreviations (--bootstrap localhost:9092); both become --name;
//   - --flag value and --flag=value both work (pflag already does that);
//   - flags annotated annNargs take every following non-option argument
//     (--producer-props acks=1 linger.ms=5), rewritten as repeated --flag=v;
//   - flags annotated annOptArg take the next argument if it is not an option.
//
// Arguments after "--" are left alone.
func normalizeArgs(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		body := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		singleDash := !strings.HasPrefix(a, "--")
		if singleDash && len(body) == 1 {
			// A shorthand flag (-b, -p): leave it to pflag, but skip its value.
			out = append(out, a)
			if f := fs.ShorthandLookup(body); f != nil && f.NoOptDefVal == "" && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		name, value, hasValue := strings.Cut(body, "=")
		if singleDash && fs.Lookup(name) == nil && lookupPrefix(fs, name) == nil {
			// Possibly clustered shorthands (-vvv) or a negative number.
			out = append(out, a)
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			f = lookupPrefix(fs, name)
		}
		if f == nil {
			out = append(out, a) // pflag reports the unknown flag
			continue
		}
		long := "--" + f.Name
		switch {
		case f.Annotations[annNargs] != nil:
			if hasValue {
				out = append(out, long+"="+value)
			}
			for i+1 < len(args) && !looksLikeOption(fs, args[i+1]) {
				i++
				out = append(out, long+"="+args[i])
			}
		case hasValue:
			out = append(out, long+"="+value)
		case f.Annotations[annOptArg] != nil:
			if i+1 < len(args) && !looksLikeOption(fs, args[i+1]) {
				i++
				out = append(out, long+"="+args[i])
			} else {
				out = append(out, long)
			}
		case f.NoOptDefVal != "":
			out = append(out, long) // boolean
		default:
			out = append(out, long)
			if i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
		}
	}
	return out
}

// lookupPrefix returns the only flag whose name starts with prefix.
func lookupPrefix(fs *pflag.FlagSet, prefix string) *pflag.Flag {
	if prefix == "" {
		return nil
	}
	var found *pflag.Flag
	n := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if strings.HasPrefix(f.Name, prefix) {
			found = f
			n++
		}
	})
	if n == 1 {
		return found
	}
	return nil
}

// looksLikeOption reports whether a is an option rather than a value.
// Negative numbers (--time -1) are values.
func looksLikeOption(fs *pflag.FlagSet, a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	if c := a[1]; c >= '0' && c <= '9' {
		return false
	}
	return true
}
