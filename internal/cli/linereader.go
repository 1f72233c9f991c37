package cli

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// lineReader turns input lines into records the way Kafka's LineMessageReader
// (kafka-console-producer's default reader) does, configured by the same
// --property keys:
//
//	parse.key=true             key.separator (default "\t") splits key from value
//	parse.headers=true         headers.delimiter (default "\t") ends the headers,
//	                           headers.separator (default ",") splits them,
//	                           headers.key.separator (default ":") splits each key:value
//	null.marker=X              a key, value or header value equal to X is null
//	ignore.error=true          a malformed line is skipped (Sluice) instead of ending the run
//
// A line is "headers<delim>key<sep>value"; headers are parsed first, then the
// key from what follows them.
type lineReader struct {
	r          *bufio.Reader
	lineNumber int

	parseKey      bool
	keySep        string
	parseHeaders  bool
	headersDelim  string
	headersSep    string
	headersKeySep string
	nullMarker    string
	hasNullMarker bool
	ignoreError   bool

	extraHeaders []kgo.RecordHeader // added to every record (sluice produce -H)
}

// lineError is a malformed input line; Error() is the one-line message
// "line 296: no headers delimiter \";\" found".
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func newLineReader(in io.Reader, props map[string]string) (*lineReader, error) {
	lr := &lineReader{
		r:             bufio.NewReaderSize(in, 64<<10),
		parseKey:      propBool(props, "parse.key", false),
		keySep:        propString(props, "key.separator", "\t"),
		parseHeaders:  propBool(props, "parse.headers", false),
		headersDelim:  propString(props, "headers.delimiter", "\t"),
		headersSep:    propString(props, "headers.separator", ","),
		headersKeySep: propString(props, "headers.key.separator", ":"),
		ignoreError:   propBool(props, "ignore.error", false),
	}
	lr.nullMarker, lr.hasNullMarker = props["null.marker"]
	for name, v := range map[string]string{"key.separator": lr.keySep, "headers.delimiter": lr.headersDelim,
		"headers.separator": lr.headersSep, "headers.key.separator": lr.headersKeySep} {
		if v == "" {
			return nil, usageErrorf("property %s must not be empty", name)
		}
		if lr.hasNullMarker && v == lr.nullMarker {
			return nil, usageErrorf("null.marker and %s cannot be equal (%q)", name, v)
		}
	}
	if lr.parseHeaders && lr.headersSep == lr.headersKeySep {
		return nil, usageErrorf("headers.separator and headers.key.separator cannot be equal (%q)", lr.headersSep)
	}
	return lr, nil
}

// readLine returns the next line without its terminator (\n, \r\n), and
// false at the end of input.
func (lr *lineReader) readLine() (string, bool, error) {
	s, err := lr.r.ReadString('\n')
	if err == io.EOF {
		if s == "" {
			return "", false, nil
		}
	} else if err != nil {
		return "", false, err
	}
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, true, nil
}

// next returns the next record, io.EOF at the end of input, or a *lineError
// for a malformed line (when ignore.error is set the caller may continue).
func (lr *lineReader) next() (*kgo.Record, error) {
	line, ok, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, io.EOF
	}
	lr.lineNumber++
	rec, err := lr.parse(line)
	if rec != nil && len(lr.extraHeaders) > 0 {
		rec.Headers = append(rec.Headers, lr.extraHeaders...)
	}
	return rec, err
}

func (lr *lineReader) parse(line string) (*kgo.Record, error) {
	rec := &kgo.Record{}
	rest := line
	if lr.parseHeaders {
		i := strings.Index(rest, lr.headersDelim)
		if i < 0 {
			return nil, &lineError{lr.lineNumber, "no headers delimiter " + strconv.Quote(lr.headersDelim) + " found"}
		}
		headers := rest[:i]
		rest = rest[i+len(lr.headersDelim):]
		if headers != "" && !(lr.hasNullMarker && headers == lr.nullMarker) {
			for _, pair := range strings.Split(headers, lr.headersSep) {
				if pair == "" {
					continue
				}
				j := strings.Index(pair, lr.headersKeySep)
				if j < 0 {
					return nil, &lineError{lr.lineNumber, fmt.Sprintf("no header key separator %s found in %q", strconv.Quote(lr.headersKeySep), pair)}
				}
				k, v := pair[:j], pair[j+len(lr.headersKeySep):]
				if lr.hasNullMarker && k == lr.nullMarker {
					return nil, &lineError{lr.lineNumber, fmt.Sprintf("header key %q equals the null marker; header keys cannot be null", k)}
				}
				h := kgo.RecordHeader{Key: k}
				if !(lr.hasNullMarker && v == lr.nullMarker) {
					h.Value = []byte(v)
				}
				rec.Headers = append(rec.Headers, h)
			}
		}
	}
	if lr.parseKey {
		i := strings.Index(rest, lr.keySep)
		if i < 0 {
			return nil, &lineError{lr.lineNumber, "no key separator " + strconv.Quote(lr.keySep) + " found"}
		}
		if k := rest[:i]; !(lr.hasNullMarker && k == lr.nullMarker) {
			rec.Key = []byte(k)
		}
		rest = rest[i+len(lr.keySep):]
	}
	if !(lr.hasNullMarker && rest == lr.nullMarker) {
		rec.Value = []byte(rest)
		if rec.Value == nil {
			rec.Value = []byte{}
		}
	}
	return rec, nil
}
