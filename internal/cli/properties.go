package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sluicehq/sluice/internal/config"
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

// parseProperties reads the java.util.Properties format into a map, the
// last setting of a key winning (config.ParseProperties does the parsing).
func parseProperties(r io.Reader) (map[string]string, error) {
	props, err := config.ParseProperties(r)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[p.Key] = p.Value
	}
	return m, nil
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
