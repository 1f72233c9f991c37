package cli

import (
	"io"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// messageFormatter prints records like Kafka's DefaultMessageFormatter
// (kafka-console-consumer's default --formatter), configured by the same
// --property keys: print.timestamp, print.partition, print.offset,
// print.headers, print.key, print.value (default true), key.separator
// (default "\t", the column separator), line.separator (default "\n"),
// headers.separator (default ","), null.literal (default "null").
//
// The columns come in Kafka's order:
//
//	CreateTime:1700000000000	Partition:0	Offset:5	h1:v1,h2:v2	k1	v1
type messageFormatter struct {
	printTimestamp, printPartition, printOffset bool
	printHeaders, printKey, printValue          bool
	keySep, lineSep, headersSep, nullLiteral    string
}

func newMessageFormatter(props map[string]string) *messageFormatter {
	return &messageFormatter{
		printTimestamp: propBool(props, "print.timestamp", false),
		printPartition: propBool(props, "print.partition", false),
		printOffset:    propBool(props, "print.offset", false),
		printHeaders:   propBool(props, "print.headers", false),
		printKey:       propBool(props, "print.key", false),
		printValue:     propBool(props, "print.value", true),
		keySep:         propString(props, "key.separator", "\t"),
		lineSep:        propString(props, "line.separator", "\n"),
		headersSep:     propString(props, "headers.separator", ","),
		nullLiteral:    propString(props, "null.literal", "null"),
	}
}

// appendRecord appends the formatted record to dst.
func (f *messageFormatter) appendRecord(dst []byte, r *kgo.Record) []byte {
	sep := func(more bool) {
		if more {
			dst = append(dst, f.keySep...)
		} else {
			dst = append(dst, f.lineSep...)
		}
	}
	bytesOrNull := func(b []byte) {
		if b == nil {
			dst = append(dst, f.nullLiteral...)
		} else {
			dst = append(dst, b...)
		}
	}
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			dst = append(dst, "CreateTime:"...)
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 1:
			dst = append(dst, "LogAppendTime:"...)
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		default:
			dst = append(dst, "NO_TIMESTAMP"...)
		}
		sep(f.printPartition || f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printPartition {
		dst = append(dst, "Partition:"...)
		dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		sep(f.printOffset || f.printHeaders || f.printKey || f.printValue)
	}
	if f.printOffset {
		dst = append(dst, "Offset:"...)
		dst = strconv.AppendInt(dst, r.Offset, 10)
		sep(f.printHeaders || f.printKey || f.printValue)
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			dst = append(dst, "NO_HEADERS"...)
		}
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, f.headersSep...)
			}
			dst = append(dst, h.Key...)
			dst = append(dst, ':')
			bytesOrNull(h.Value)
		}
		sep(f.printKey || f.printValue)
	}
	if f.printKey {
		bytesOrNull(r.Key)
		sep(f.printValue)
	}
	if f.printValue {
		bytesOrNull(r.Value)
		dst = append(dst, f.lineSep...)
	}
	return dst
}

func (f *messageFormatter) write(w io.Writer, r *kgo.Record) error {
	_, err := w.Write(f.appendRecord(nil, r))
	return err
}
