package config

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Listener is one entry of listeners or advertised.listeners:
// NAME://host:port.
type Listener struct {
	// Name is the listener name, upper-cased (PLAINTEXT, CONTROLLER, ...).
	Name string
	// Host is the host or IP address without brackets; "" binds all
	// interfaces.
	Host string
	// Port is the TCP port; 0 in listeners asks for a free port.
	Port int
	// SecurityProtocol is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, from
	// listener.security.protocol.map (or the name itself).
	SecurityProtocol string
}

// Addr returns host:port, with brackets around an IPv6 host.
func (l Listener) Addr() string { return net.JoinHostPort(l.Host, strconv.Itoa(l.Port)) }

// String returns the listener as it is written in configuration.
func (l Listener) String() string { return l.Name + "://" + l.Addr() }

// Voter is one entry of controller.quorum.voters: id@host:port.
type Voter struct {
	ID   int32
	Host string
	Port int
}

// securityProtocols are Kafka's SecurityProtocol names.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// listenerRE is Kafka's listener syntax (EndPoint.scala): NAME://host:port,
// with an optional bracketed IPv6 host.
var listenerRE = regexp.MustCompile(`^([A-Za-z0-9_\-]+)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

// ParseListener parses NAME://host:port. The error completes a sentence
// that begins with the quoted input.
func ParseListener(s string) (Listener, error) {
	m := listenerRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Listener{}, fmt.Errorf("is not NAME://host:port (e.g. PLAINTEXT://127.0.0.1:9092)")
	}
	port, err := strconv.Atoi(m[3])
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("has port %s; ports are 0 to 65535", m[3])
	}
	return Listener{Name: strings.ToUpper(m[1]), Host: m[2], Port: port}, nil
}

// parseListeners parses a listeners value, rejecting duplicate names.
func parseListeners(v string) ([]Listener, string) {
	var out []Listener
	seen := map[string]bool{}
	items := splitList(v)
	for _, item := range items {
		l, err := ParseListener(item)
		if err != nil {
			if len(items) == 1 {
				return nil, err.Error()
			}
			return nil, fmt.Sprintf("has entry %q, which %s", item, err)
		}
		if seen[l.Name] {
			return nil, fmt.Sprintf("names listener %s more than once; each listener needs its own name", l.Name)
		}
		seen[l.Name] = true
		out = append(out, l)
	}
	return out, ""
}

func checkListeners(v string) string {
	_, msg := parseListeners(v)
	return msg
}

// parseProtocolMap parses NAME:PROTOCOL,... into upper-cased names.
func parseProtocolMap(v string) (map[string]string, string) {
	m := map[string]string{}
	for _, item := range splitList(v) {
		name, proto, ok := strings.Cut(item, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || name == "" {
			return nil, fmt.Sprintf("contains %q; entries are NAME:PROTOCOL", item)
		}
		if !contains(securityProtocols, proto) {
			return nil, fmt.Sprintf("maps %s to %q; protocols are %s", name, proto, joinQuoted(securityProtocols))
		}
		m[name] = proto
	}
	return m, ""
}

func checkProtocolMap(v string) string {
	_, msg := parseProtocolMap(v)
	return msg
}

// parseVoters parses controller.quorum.voters: id@host:port,...
func parseVoters(v string) ([]Voter, string) {
	var out []Voter
	seen := map[int32]bool{}
	for _, item := range splitList(v) {
		idStr, hp, ok := strings.Cut(item, "@")
		host, portStr, err := net.SplitHostPort(hp)
		id, err1 := strconv.ParseInt(idStr, 10, 32)
		port, err2 := strconv.Atoi(portStr)
		if !ok || err != nil || err1 != nil || err2 != nil || id < 0 || port <= 0 || port > 65535 || host == "" {
			return nil, fmt.Sprintf("contains %q; entries are id@host:port", item)
		}
		if seen[int32(id)] {
			return nil, fmt.Sprintf("names voter %d more than once", id)
		}
		seen[int32(id)] = true
		out = append(out, Voter{ID: int32(id), Host: host, Port: port})
	}
	return out, ""
}

func checkVoters(v string) string {
	_, msg := parseVoters(v)
	return msg
}
