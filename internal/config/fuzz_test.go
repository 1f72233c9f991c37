package config

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseProperties(f *testing.F) {
	f.Add([]byte("listeners=PLAINTEXT://:9092\nlog.retention.hours=1"))
	f.Add([]byte("a=b\\\n  c\n# x\n!y\nk\\=y:v\\u0041\\"))
	f.Add([]byte(`a=\u00`))
	f.Fuzz(func(t *testing.T, data []byte) {
		props, err := ParseProperties(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever parses must build or fail with an *Error, never panic.
		raw := map[string]string{}
		for _, p := range props {
			raw[p.Key] = p.Value
		}
		if _, err := build(raw); err != nil && !strings.HasPrefix(err.Error(), "config: ") {
			t.Fatalf("bad error %q", err)
		}
	})
}

func FuzzTopicConfigs(f *testing.F) {
	f.Add("retention.ms", "-1", "log.retention.hours", "2")
	f.Add("cleanup.policy", "compact,,delete", "log.cleanup.policy", " ")
	f.Add("segment.bytes", "99999999999999999999", "log.roll.hours", "-9223372036854775808")
	f.Fuzz(func(t *testing.T, tk, tv, bk, bv string) {
		_ = ValidateTopicConfigs(map[string]string{tk: tv})
		_ = ValidateBrokerDynamic(bk, bv)
		b := Default()
		tp := ResolveTopic(b, map[string]string{bk: bv}, map[string]string{tk: tv})
		if tp.SegmentBytes < 1<<20 || tp.MinInsyncReplicas < 1 {
			t.Fatalf("resolved an invalid value: %+v", tp)
		}
		DescribeTopic(b, map[string]string{bk: bv}, map[string]string{tk: tv}, nil, true, true)
		DescribeBroker(b, map[string]string{bk: bv}, nil, nil, true, true)
	})
}
