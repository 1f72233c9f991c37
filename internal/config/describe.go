package config

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeTopic answers DescribeConfigs for one topic. dynamicDefaults are
// the cluster-wide dynamic broker configs (keyed by broker property, e.g.
// log.retention.ms); overrides are the topic's own configs. keys selects the
// configs (nil or empty: all, as Kafka does for a null key list; unknown
// keys are left out); synonyms and docs follow IncludeSynonyms and
// IncludeDocumentation. Entries are sorted by name.
//
// Each entry's value is the effective one, in the topic config's unit
// (retention.ms from log.retention.hours is in milliseconds); its Source is
// where that value came from; its synonyms, when asked for, are every
// candidate in precedence order as Kafka lists them: the topic config, then
// the broker synonyms set dynamically as cluster defaults, then statically,
// then their defaults, each with the value as set. Topic configs are never
// read-only.
func DescribeTopic(broker *Broker, dynamicDefaults, overrides map[string]string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	if broker == nil {
		broker = Default()
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for i := range topicDefs {
		d := &topicDefs[i]
		if len(keys) > 0 && !contains(keys, d.Name) {
			continue
		}
		chain := topicChain(d, broker, dynamicDefaults, overrides)
		value, from := effective(d, chain)
		e := kmsg.NewDescribeConfigsResponseResourceConfig()
		e.Name = d.Name
		e.Source = from.source
		e.IsDefault = from.source == kmsg.ConfigSourceDefaultConfig
		e.ReadOnly = d.ReadOnly
		e.IsSensitive = d.Sensitive
		e.ConfigType = d.Type
		if !d.Sensitive {
			e.Value = kmsg.StringPtr(value)
		}
		if docs {
			e.Documentation = kmsg.StringPtr(d.Doc)
		}
		if synonyms {
			for _, c := range chain {
				if c.pseudo {
					continue
				}
				e.ConfigSynonyms = append(e.ConfigSynonyms, synonym(c, d.Sensitive))
			}
		}
		out = append(out, e)
	}
	return out
}

// DescribeBroker answers DescribeConfigs for a broker resource.
// dynamicBroker holds this broker's dynamic configs, dynamicDefaults the
// cluster-wide ones (both keyed by property). keys, synonyms and docs are as
// for DescribeTopic. Every property Sluice understands is described; a
// property Sluice accepts but ignores is described only when set or asked
// for by name.
//
// As in Kafka (ConfigHelper.createBrokerConfigEntry), each property reports
// its own value and source: log.retention.ms is null (DEFAULT_CONFIG) while
// only log.retention.hours has a value. The synonym list walks the
// property's synonym group (log.retention.ms, .minutes, .hours) across the
// levels dynamic per-broker > dynamic default > static > default, from the
// first entry for the property itself. Sensitive values are null.
func DescribeBroker(broker *Broker, dynamicBroker, dynamicDefaults map[string]string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig {
	if broker == nil {
		broker = Default()
	}
	names := map[string]bool{}
	if len(keys) > 0 {
		for _, k := range keys {
			if _, ok := lookupBrokerDef(k); ok {
				names[k] = true
			}
		}
	} else {
		for _, d := range brokerDefs {
			names[d.name] = true
		}
		for _, m := range []map[string]string{broker.Raw, dynamicBroker, dynamicDefaults} {
			for k := range m {
				if _, ok := lookupBrokerDef(k); ok {
					names[k] = true
				}
			}
		}
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	levels := []struct {
		m   map[string]string
		src kmsg.ConfigSource
	}{
		{dynamicBroker, kmsg.ConfigSourceDynamicBrokerConfig},
		{dynamicDefaults, kmsg.ConfigSourceDynamicDefaultBrokerConfig},
		{broker.Raw, kmsg.ConfigSourceStaticBrokerConfig},
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, name := range sorted {
		d, _ := lookupBrokerDef(name)
		group := brokerSynonymGroups[name]
		if group == nil {
			group = []string{name}
		}
		var chain []sourced
		for _, l := range levels {
			for _, s := range group {
				if v, ok := l.m[s]; ok {
					chain = append(chain, sourced{name: s, value: v, source: l.src})
				}
			}
		}
		for _, s := range group {
			if sd, ok := lookupBrokerDef(s); ok && sd.def != null {
				chain = append(chain, sourced{name: s, value: sd.def, source: kmsg.ConfigSourceDefaultConfig})
			}
		}
		for len(chain) > 0 && chain[0].name != name {
			chain = chain[1:]
		}

		e := kmsg.NewDescribeConfigsResponseResourceConfig()
		e.Name = name
		e.Source = kmsg.ConfigSourceDefaultConfig
		if len(chain) > 0 {
			e.Source = chain[0].source
			if !d.sensitive {
				e.Value = kmsg.StringPtr(chain[0].value)
			}
		}
		e.IsDefault = e.Source == kmsg.ConfigSourceDefaultConfig
		e.ReadOnly = d.mode == readOnly
		e.IsSensitive = d.sensitive
		e.ConfigType = d.typ
		if d.sensitive {
			e.ConfigType = tPassword
		}
		if docs {
			doc := d.doc
			if d.ignored {
				doc = "A Kafka property that Sluice accepts and does not act on."
			}
			e.Documentation = kmsg.StringPtr(doc)
		}
		if synonyms {
			for _, c := range chain {
				e.ConfigSynonyms = append(e.ConfigSynonyms, synonym(c, d.sensitive))
			}
		}
		out = append(out, e)
	}
	return out
}

func synonym(c sourced, sensitive bool) kmsg.DescribeConfigsResponseResourceConfigConfigSynonym {
	s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
	s.Name = c.name
	s.Source = c.source
	if !sensitive {
		s.Value = kmsg.StringPtr(c.value)
	}
	return s
}

// ValidateBrokerDynamic checks that a broker property may be changed at run
// time for one broker (AlterConfigs / IncrementalAlterConfigs on a broker
// resource with a name) and that value is valid for it. Kafka's read-only
// properties (node.id, log.dirs, listeners in Sluice, ...) fail with an
// error saying they cannot be updated dynamically. Cross-property rules are
// checked when the caller applies the result with Broker.With.
func ValidateBrokerDynamic(key, value string) error {
	d, err := dynamicDef(key)
	if err != nil {
		return err
	}
	if d.ignored {
		return nil
	}
	if msg := check(d.typ, d.rule, value); msg != "" {
		return valueError(key, value, msg)
	}
	return nil
}

// ValidateBrokerDynamicDefault is ValidateBrokerDynamic for the cluster-wide
// default (a broker resource with an empty name); per-broker-only
// properties (security settings) fail.
func ValidateBrokerDynamicDefault(key, value string) error {
	d, err := dynamicDef(key)
	if err != nil {
		return err
	}
	if d.mode == perBroker {
		return keyError(key, "can only be updated per broker, not as a cluster-wide default; name the broker")
	}
	return ValidateBrokerDynamic(key, value)
}

// BrokerUpdateMode returns how a broker property can be updated, in
// Kafka's words: "read-only", "per-broker" or "cluster-wide". ok is false for
// unknown properties.
func BrokerUpdateMode(key string) (mode string, ok bool) {
	d, ok := lookupBrokerDef(key)
	if !ok {
		return "", false
	}
	return d.mode.String(), true
}

func dynamicDef(key string) (*brokerDef, error) {
	if err := checkBrokerKey(key); err != nil {
		return nil, err
	}
	d, _ := lookupBrokerDef(key)
	if d.mode == readOnly {
		return nil, keyError(key, "cannot be updated dynamically; set it in server.properties and restart")
	}
	return d, nil
}
