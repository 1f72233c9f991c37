package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fmtEntry renders an entry compactly: name=value source [synonyms].
func fmtEntry(e kmsg.DescribeConfigsResponseResourceConfig) string {
	val := func(p *string) string {
		if p == nil {
			return "null"
		}
		return *p
	}
	var syns []string
	for _, s := range e.ConfigSynonyms {
		syns = append(syns, fmt.Sprintf("%s=%s/%s", s.Name, val(s.Value), s.Source))
	}
	return fmt.Sprintf("%s=%s %s default=%v ro=%v sensitive=%v [%s]", e.Name, val(e.Value), e.Source,
		e.IsDefault, e.ReadOnly, e.IsSensitive, strings.Join(syns, " "))
}

func TestDescribeTopic(t *testing.T) {
	static := mustLoad(t, "log.retention.hours=24", "log.retention.minutes=60", "message.max.bytes=2000")
	tests := []struct {
		name      string
		dynamic   map[string]string
		overrides map[string]string
		key       string
		want      string
	}{
		{"kafka default through synonym", nil, nil, "segment.ms",
			"segment.ms=604800000 DEFAULT_CONFIG default=true ro=false sensitive=false [log.roll.hours=168/DEFAULT_CONFIG]"},
		{"no synonym default", nil, nil, "remote.storage.enable",
			"remote.storage.enable=false DEFAULT_CONFIG default=true ro=false sensitive=false []"},
		{"static, in Kafka's order", nil, nil, "retention.ms",
			"retention.ms=3600000 STATIC_BROKER_CONFIG default=false ro=false sensitive=false [log.retention.minutes=60/STATIC_BROKER_CONFIG log.retention.hours=24/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG]"},
		{"dynamic default", map[string]string{"log.retention.ms": "1000"}, nil, "retention.ms",
			"retention.ms=1000 DYNAMIC_DEFAULT_BROKER_CONFIG default=false ro=false sensitive=false [log.retention.ms=1000/DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.minutes=60/STATIC_BROKER_CONFIG log.retention.hours=24/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG]"},
		{"topic override", map[string]string{"log.retention.ms": "1000"}, map[string]string{"retention.ms": "5"}, "retention.ms",
			"retention.ms=5 DYNAMIC_TOPIC_CONFIG default=false ro=false sensitive=false [retention.ms=5/DYNAMIC_TOPIC_CONFIG log.retention.ms=1000/DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.minutes=60/STATIC_BROKER_CONFIG log.retention.hours=24/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG]"},
		{"different broker name", nil, nil, "max.message.bytes",
			"max.message.bytes=2000 STATIC_BROKER_CONFIG default=false ro=false sensitive=false [message.max.bytes=2000/STATIC_BROKER_CONFIG message.max.bytes=1048588/DEFAULT_CONFIG]"},
		{"override of topic without synonym", nil, map[string]string{"remote.storage.enable": "TRUE"}, "remote.storage.enable",
			"remote.storage.enable=true DYNAMIC_TOPIC_CONFIG default=false ro=false sensitive=false [remote.storage.enable=TRUE/DYNAMIC_TOPIC_CONFIG]"},
		{"list normalized", nil, map[string]string{"cleanup.policy": "compact, delete"}, "cleanup.policy",
			"cleanup.policy=compact,delete DYNAMIC_TOPIC_CONFIG default=false ro=false sensitive=false [cleanup.policy=compact, delete/DYNAMIC_TOPIC_CONFIG log.cleanup.policy=delete/DEFAULT_CONFIG]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DescribeTopic(static, tt.dynamic, tt.overrides, []string{tt.key}, true, true)
			if len(got) != 1 {
				t.Fatalf("got %d entries", len(got))
			}
			if s := fmtEntry(got[0]); s != tt.want {
				t.Errorf("got\n %s\nwant\n %s", s, tt.want)
			}
			if got[0].Documentation == nil || *got[0].Documentation == "" {
				t.Error("no documentation")
			}
		})
	}
}

func TestDescribeTopicAll(t *testing.T) {
	all := DescribeTopic(nil, nil, nil, nil, false, false)
	if len(all) != len(topicDefs) {
		t.Fatalf("got %d entries, want %d", len(all), len(topicDefs))
	}
	for i, e := range all {
		if i > 0 && all[i-1].Name >= e.Name {
			t.Errorf("not sorted at %s", e.Name)
		}
		if e.ConfigSynonyms != nil || e.Documentation != nil {
			t.Errorf("%s: synonyms or docs not asked for", e.Name)
		}
		if e.Source != kmsg.ConfigSourceDefaultConfig || !e.IsDefault || e.Value == nil {
			t.Errorf("%s: %s", e.Name, fmtEntry(e))
		}
	}
	if got := DescribeTopic(nil, nil, nil, []string{"nope", "segment.bytes"}, false, false); len(got) != 1 || got[0].ConfigType != kmsg.ConfigTypeInt {
		t.Errorf("filtered: %+v", got)
	}
}

func TestDescribeBroker(t *testing.T) {
	static := mustLoad(t, "log.retention.hours=24", "num.io.threads=16", "ssl.keystore.password=secret")
	dynBroker := map[string]string{"log.retention.ms": "500"}
	dynDefault := map[string]string{"log.retention.ms": "700", "message.max.bytes": "3000"}
	tests := []struct {
		key  string
		want string
	}{
		{"log.retention.ms", "log.retention.ms=500 DYNAMIC_BROKER_CONFIG default=false ro=false sensitive=false [log.retention.ms=500/DYNAMIC_BROKER_CONFIG log.retention.ms=700/DYNAMIC_DEFAULT_BROKER_CONFIG log.retention.hours=24/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG]"},
		{"log.retention.hours", "log.retention.hours=24 STATIC_BROKER_CONFIG default=false ro=false sensitive=false [log.retention.hours=24/STATIC_BROKER_CONFIG log.retention.hours=168/DEFAULT_CONFIG]"},
		{"log.retention.minutes", "log.retention.minutes=null DEFAULT_CONFIG default=true ro=false sensitive=false []"},
		{"message.max.bytes", "message.max.bytes=3000 DYNAMIC_DEFAULT_BROKER_CONFIG default=false ro=false sensitive=false [message.max.bytes=3000/DYNAMIC_DEFAULT_BROKER_CONFIG message.max.bytes=1048588/DEFAULT_CONFIG]"},
		{"node.id", "node.id=1 DEFAULT_CONFIG default=true ro=true sensitive=false [node.id=1/DEFAULT_CONFIG]"},
		{"num.io.threads", "num.io.threads=16 STATIC_BROKER_CONFIG default=false ro=false sensitive=false [num.io.threads=16/STATIC_BROKER_CONFIG]"},
		{"ssl.keystore.password", "ssl.keystore.password=null STATIC_BROKER_CONFIG default=false ro=false sensitive=true [ssl.keystore.password=null/STATIC_BROKER_CONFIG]"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got := DescribeBroker(static, dynBroker, dynDefault, []string{tt.key}, true, false)
			if len(got) != 1 {
				t.Fatalf("got %d entries", len(got))
			}
			if s := fmtEntry(got[0]); s != tt.want {
				t.Errorf("got\n %s\nwant\n %s", s, tt.want)
			}
		})
	}

	all := DescribeBroker(static, dynBroker, dynDefault, nil, false, true)
	names := map[string]bool{}
	for _, e := range all {
		names[e.Name] = true
		if e.Documentation == nil {
			t.Errorf("%s: no documentation", e.Name)
		}
	}
	for _, want := range []string{"node.id", "listeners", "log.dirs", "num.io.threads", "ssl.keystore.password", "log.retention.ms"} {
		if !names[want] {
			t.Errorf("%s not described", want)
		}
	}
	if names["num.network.threads"] {
		t.Error("unset ignored property described")
	}
}

func TestValidateBrokerDynamic(t *testing.T) {
	tests := []struct {
		key, value  string
		want        string // "" for ok
		wantDefault string // for ValidateBrokerDynamicDefault; "=" means same as want
	}{
		{"log.retention.ms", "1000", "", "="},
		{"log.segment.bytes", "1048576", "", "="},
		{"message.max.bytes", "abc", `config: message.max.bytes: "abc" is not a number`, "="},
		{"log.cleaner.threads", "2", "", "="},
		{"num.io.threads", "16", "", "="},
		{"min.insync.replicas", "2", "", "="},
		{"node.id", "2", "config: node.id: cannot be updated dynamically; set it in server.properties and restart", "="},
		{"log.dirs", "/x", "config: log.dirs: cannot be updated dynamically; set it in server.properties and restart", "="},
		{"listeners", "PLAINTEXT://:1", "config: listeners: cannot be updated dynamically; set it in server.properties and restart", "="},
		{"ssl.keystore.location", "/k", "", "config: ssl.keystore.location: can only be updated per broker, not as a cluster-wide default; name the broker"},
		{"log.retension.ms", "1", `config: unknown property "log.retension.ms" (did you mean log.retention.ms?)`, "="},
		{"zookeeper.connect", "x", "config: zookeeper.connect: ZooKeeper mode is not supported; Sluice runs in KRaft mode only (use process.roles, node.id and controller.quorum.voters)", "="},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			for i, f := range []func(string, string) error{ValidateBrokerDynamic, ValidateBrokerDynamicDefault} {
				want := tt.want
				if i == 1 && tt.wantDefault != "=" {
					want = tt.wantDefault
				}
				err := f(tt.key, tt.value)
				if want == "" {
					if err != nil {
						t.Errorf("%d: unexpected %v", i, err)
					}
					continue
				}
				var cerr *Error
				if !errors.As(err, &cerr) || err.Error() != want {
					t.Errorf("%d: err = %v, want %s", i, err, want)
				}
			}
		})
	}
	if m, ok := BrokerUpdateMode("log.retention.ms"); !ok || m != "cluster-wide" {
		t.Errorf("BrokerUpdateMode = %q, %v", m, ok)
	}
}
