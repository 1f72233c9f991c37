// Package server assembles a broker from its parts (metadata log,
// controller, replica manager, group coordinator, listeners) and owns its
// lifecycle: Start opens everything in dependency order, Close shuts it down
// in reverse and waits for every goroutine.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/internal/broker"
	"github.com/sluicehq/sluice/internal/commitlog"
	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/netconn"
	"github.com/sluicehq/sluice/internal/replica"
)

// Server is a running broker.
type Server struct {
	cfg      *config.Broker
	logger   *slog.Logger
	meta     *metadata.Log
	replicas *replica.Manager
	groups   groupCoordinator
	net      []*netconn.Server
	addrs    []net.Addr
}

// groupCoordinator is what the server needs of the group coordinator
// beyond request handling.
type groupCoordinator interface {
	broker.Groups
	Close()
}

// Start opens the data directory and starts serving.
func Start(ctx context.Context, cfg *config.Broker, logger *slog.Logger) (_ *Server, err error) {
	if len(cfg.LogDirs) == 0 {
		return nil, errors.New("no log.dirs configured")
	}
	dir := cfg.LogDirs[0]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("log.dirs %s: %w", dir, err)
	}
	clusterID, err := ensureMetaProperties(dir, cfg.NodeID, cfg.ClusterID)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.meta, err = metadata.OpenLog(filepath.Join(dir, "__cluster_metadata-0"), clusterID, logger.With("component", "metadata"))
	if err != nil {
		return nil, err
	}
	views := &configViews{static: cfg}
	ctrl := controller.New(s.meta, views.CheckTopic, cfg.NumPartitions, cfg.DefaultReplicationFactor)

	s.replicas, err = replica.NewManager(replica.ManagerConfig{
		Dir:                    dir,
		NodeID:                 cfg.NodeID,
		LogConfig:              views.compactedLogConfig, // cleaner.go
		RetentionCheckInterval: time.Duration(cfg.LogRetentionCheckIntervalMs) * time.Millisecond,
		FlushCheckInterval:     flushInterval(cfg),
		Cleaner:                cleanerConfig(cfg, views, s.meta), // cleaner.go
	}, logger.With("component", "replicas"))
	if err != nil {
		return nil, err
	}
	// Listeners bind before the broker registers, so port 0 can be
	// advertised as the port bound.
	lns := cfg.Listeners
	if len(lns) == 0 {
		return nil, errors.New("no listeners configured")
	}
	var bound []net.Listener
	for _, l := range lns {
		if strings.EqualFold(l.Name, "CONTROLLER") && len(lns) > 1 {
			continue
		}
		ln, err := net.Listen("tcp", l.Addr())
		if err != nil {
			for _, b := range bound {
				b.Close()
			}
			return nil, fmt.Errorf("listener %s: %w", l, err)
		}
		bound = append(bound, ln)
	}
	adv := cfg.Advertised()
	var endpoints []metadata.Endpoint
	for i, l := range adv {
		port := l.Port
		if port == 0 && i < len(bound) {
			port = bound[i].Addr().(*net.TCPAddr).Port
		}
		endpoints = append(endpoints, metadata.Endpoint{Name: l.Name, Host: l.Host, Port: int32(port)})
	}
	if err := ctrl.RegisterBroker(metadata.Broker{ID: cfg.NodeID, Rack: cfg.BrokerRack, Endpoints: endpoints}); err != nil {
		return nil, err
	}
	s.meta.OnChange(func(_, cur *metadata.Image) {
		if err := s.replicas.Apply(cur); err != nil {
			logger.Error("applying metadata", "err", err)
		}
		// A dynamic log.cleaner.io.max.bytes.per.second applies at once.
		if c := s.replicas.Cleaner(); c != nil {
			c.SetIOMaxBytesPerSecond(cleanerRate(cfg, views, cur))
		}
	})
	if err := s.replicas.Apply(s.meta.Image()); err != nil {
		return nil, err
	}
	s.replicas.RemoveStrays(s.meta.Image())
	s.replicas.Start()

	bcfg := broker.Config{
		NodeID:                 cfg.NodeID,
		AutoCreateTopics:       cfg.AutoCreateTopicsEnable,
		MessageMaxBytes:        int(cfg.MessageMaxBytes),
		OffsetsTopicPartitions: cfg.OffsetsTopicNumPartitions,
		Advertised:             endpoints[0],
		LogDir:                 dir,
	}
	s.groups, err = startGroups(ctx, cfg, s.meta, s.replicas, ctrl, logger)
	if err != nil {
		return nil, err
	}
	var groups broker.Groups
	if s.groups != nil {
		groups = s.groups
	}
	h := broker.New(bcfg, logger.With("component", "broker"), s.meta, ctrl, s.replicas, groups, views)
	for i, ln := range bound {
		ns := netconn.Serve(ln, netconn.Config{
			MaxRequestSize: cfg.SocketRequestMaxBytes,
			IdleTimeout:    time.Duration(cfg.ConnectionsMaxIdleMs) * time.Millisecond,
			ListenerName:   lns[i].Name,
		}, h, logger.With("component", "net"))
		s.net = append(s.net, ns)
		s.addrs = append(s.addrs, ln.Addr())
	}
	logger.Info("sluice started", "cluster.id", clusterID, "node.id", cfg.NodeID, "listeners", s.addrs, "log.dir", dir)
	return s, nil
}

// Addrs returns the bound listener addresses.
func (s *Server) Addrs() []net.Addr { return s.addrs }

// Close stops the listeners, the coordinator and the logs, in that order.
func (s *Server) Close() error {
	for _, n := range s.net {
		n.Close()
	}
	if s.groups != nil {
		s.groups.Close()
	}
	var err error
	if s.replicas != nil {
		err = s.replicas.Close(context.Background())
	}
	if s.meta != nil {
		if e := s.meta.Close(); err == nil {
			err = e
		}
	}
	return err
}

func flushInterval(cfg *config.Broker) time.Duration {
	ms := cfg.LogFlushSchedulerIntervalMs
	if ms <= 0 || ms > int64(time.Hour/time.Millisecond) {
		// Kafka's default (Long.MAX) never checks; flush.ms may still be set
		// per topic, so check once a second.
		ms = 1000
	}
	return time.Duration(ms) * time.Millisecond
}

// ensureMetaProperties reads or writes Kafka's meta.properties: the cluster
// id and node id of the data directory. A first start creates them, so a
// single node needs no separate format step.
func ensureMetaProperties(dir string, nodeID int32, clusterID string) (string, error) {
	path := filepath.Join(dir, "meta.properties")
	b, err := os.ReadFile(path)
	if err == nil {
		props := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
				props[k] = v
			}
		}
		if id := props["node.id"]; id != "" && id != strconv.Itoa(int(nodeID)) {
			return "", fmt.Errorf("%s: node.id %s does not match the configured node.id %d", path, id, nodeID)
		}
		if clusterID != "" && props["cluster.id"] != clusterID {
			return "", fmt.Errorf("%s: cluster.id %s does not match the configured cluster.id %s", path, props["cluster.id"], clusterID)
		}
		if props["cluster.id"] == "" {
			return "", fmt.Errorf("%s: no cluster.id", path)
		}
		return props["cluster.id"], nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if clusterID == "" {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		clusterID = base64.RawURLEncoding.EncodeToString(raw[:])
	}
	var dirID [16]byte
	_, _ = rand.Read(dirID[:])
	content := fmt.Sprintf("#\n#%s\ncluster.id=%s\ndirectory.id=%s\nnode.id=%d\nversion=1\n",
		time.Now().UTC().Format(time.UnixDate), clusterID, base64.RawURLEncoding.EncodeToString(dirID[:]), nodeID)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return clusterID, nil
}

var _ = commitlog.DefaultConfig
