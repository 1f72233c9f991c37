// Package broker answers Kafka requests: one file per API key, numbered like
// the protocol (00_produce.go, 01_fetch.go, ...), each opening with its
// contract. Handlers read the current metadata image, act on partitions
// through the replica manager, and delegate groups to the group coordinator
// and admin changes to the controller.
//
// Protocol outcomes are Kafka error codes in responses; a Go error from a
// handler closes the connection.
package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/group"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/netconn"
	"github.com/sluicehq/sluice/internal/replica"
	"github.com/sluicehq/sluice/internal/wire"
)

// Groups is the group coordinator, as the broker sees it.
type Groups interface {
	Handle(ctx context.Context, req kmsg.Request) (kmsg.Response, error)
}

// Config is what handlers need of the broker's configuration.
type Config struct {
	NodeID                 int32
	AutoCreateTopics       bool
	MessageMaxBytes        int
	OffsetsTopicPartitions int32
	// Advertised is this broker's advertised endpoint.
	Advertised metadata.Endpoint
	// LogDir is the log directory (for DescribeLogDirs).
	LogDir string
}

// Broker handles requests.
type Broker struct {
	cfg      Config
	logger   *slog.Logger
	meta     *metadata.Log
	ctrl     *controller.Controller
	replicas *replica.Manager
	groups   Groups
	sessions *fetchSessions
	configs  ConfigView
	pids     *producerIDs
}

// ConfigView resolves and describes configs (the config package).
type ConfigView interface {
	DescribeTopic(im *metadata.Image, topic string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig
	DescribeBroker(im *metadata.Image, name string, keys []string, synonyms, docs bool) []kmsg.DescribeConfigsResponseResourceConfig
	// CheckTopic validates a topic's full override map.
	CheckTopic(result map[string]string) error
	// CheckBroker validates a broker's (name "" = cluster default) dynamic
	// config map.
	CheckBroker(name string, result map[string]string) error
}

// New assembles a broker.
func New(cfg Config, logger *slog.Logger, meta *metadata.Log, ctrl *controller.Controller, replicas *replica.Manager, groups Groups, configs ConfigView) *Broker {
	return &Broker{
		cfg: cfg, logger: logger, meta: meta, ctrl: ctrl, replicas: replicas, groups: groups, configs: configs,
		sessions: newFetchSessions(1000),
		pids:     newProducerIDs(),
	}
}

// Serve handles one request frame.
func (b *Broker) Serve(ctx context.Context, c *netconn.Conn, frame []byte) (wire.Frame, bool, error) {
	h, body, err := wire.ParseHeader(frame)
	if err != nil {
		return wire.Frame{}, false, err
	}
	if !wire.Supported(h.Key, h.Version) {
		if h.Key == 18 { // KIP-511: answer in v0 with what we support
			resp := wire.ApiVersionsResponse(0, kerr.UnsupportedVersion.Code)
			return wire.EncodeResponse(netconn.GetBuf(), 18, 0, h.CorrelationID, resp), true, nil
		}
		return wire.Frame{}, false, fmt.Errorf("unsupported request %s v%d (key %d)", kmsg.NameForKey(h.Key), h.Version, h.Key)
	}
	req := kmsg.RequestForKey(h.Key)
	req.SetVersion(h.Version)
	if req.IsFlexible() {
		if body, err = wire.SkipHeaderTags(body); err != nil {
			return wire.Frame{}, false, err
		}
	}
	if h.Key == 0 { // Produce: no copies of the records
		err = req.(kmsg.UnsafeReadFrom).UnsafeReadFrom(body)
	} else {
		err = req.ReadFrom(body)
	}
	if err != nil {
		if h.Key == 18 {
			// An ApiVersions we cannot parse (a newer client): answer v0.
			resp := wire.ApiVersionsResponse(0, kerr.UnsupportedVersion.Code)
			return wire.EncodeResponse(netconn.GetBuf(), 18, 0, h.CorrelationID, resp), true, nil
		}
		return wire.Frame{}, false, fmt.Errorf("%w: %s v%d: %v", wire.ErrMalformed, kmsg.NameForKey(h.Key), h.Version, err)
	}
	switch r := req.(type) {
	case *kmsg.ProduceRequest:
		resp := b.handleProduce(ctx, r)
		if resp == nil {
			return wire.Frame{}, false, nil
		}
		return wire.EncodeResponse(netconn.GetBuf(), h.Key, h.Version, h.CorrelationID, resp), true, nil
	case *kmsg.FetchRequest:
		f := wire.BeginResponse(netconn.GetBuf(), h.Key, h.Version, h.CorrelationID)
		b.handleFetch(ctx, r, &f)
		f.Finish()
		return f, true, nil
	case *kmsg.ApiVersionsRequest:
		if r.Version >= 3 {
			c.ClientSoftwareName, c.ClientSoftwareVersion = r.ClientSoftwareName, r.ClientSoftwareVersion
		}
	}
	resp, err := b.handle(ctx, c, h.ClientID, req)
	if err != nil {
		return wire.Frame{}, false, err
	}
	resp.SetVersion(h.Version)
	return wire.EncodeResponse(netconn.GetBuf(), h.Key, h.Version, h.CorrelationID, resp), true, nil
}

func (b *Broker) handle(ctx context.Context, c *netconn.Conn, clientID string, req kmsg.Request) (kmsg.Response, error) {
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		return wire.ApiVersionsResponse(r.Version, 0), nil
	case *kmsg.MetadataRequest:
		return b.handleMetadata(ctx, r), nil
	case *kmsg.ListOffsetsRequest:
		return b.handleListOffsets(r), nil
	case *kmsg.FindCoordinatorRequest:
		return b.handleFindCoordinator(ctx, r), nil
	case *kmsg.CreateTopicsRequest:
		return b.handleCreateTopics(r)
	case *kmsg.DeleteTopicsRequest:
		return b.handleDeleteTopics(r)
	case *kmsg.CreatePartitionsRequest:
		return b.handleCreatePartitions(r)
	case *kmsg.DeleteRecordsRequest:
		return b.handleDeleteRecords(r), nil
	case *kmsg.InitProducerIDRequest:
		return b.handleInitProducerID(r), nil
	case *kmsg.OffsetForLeaderEpochRequest:
		return b.handleOffsetForLeaderEpoch(r), nil
	case *kmsg.DescribeConfigsRequest:
		return b.handleDescribeConfigs(r), nil
	case *kmsg.AlterConfigsRequest:
		return b.handleAlterConfigs(r)
	case *kmsg.IncrementalAlterConfigsRequest:
		return b.handleIncrementalAlterConfigs(r)
	case *kmsg.DescribeLogDirsRequest:
		return b.handleDescribeLogDirs(r), nil
	case *kmsg.DescribeClusterRequest:
		return b.handleDescribeCluster(r), nil
	case *kmsg.DescribeTopicPartitionsRequest:
		return b.handleDescribeTopicPartitions(r), nil
	case *kmsg.GetTelemetrySubscriptionsRequest:
		resp := kmsg.NewPtrGetTelemetrySubscriptionsResponse()
		resp.ClientInstanceID = r.ClientInstanceID
		if resp.ClientInstanceID == [16]byte{} {
			resp.ClientInstanceID = uuid.New()
		}
		resp.PushIntervalMillis = 300000
		return resp, nil
	case *kmsg.OffsetCommitRequest, *kmsg.OffsetFetchRequest, *kmsg.JoinGroupRequest, *kmsg.HeartbeatRequest,
		*kmsg.LeaveGroupRequest, *kmsg.SyncGroupRequest, *kmsg.DescribeGroupsRequest, *kmsg.ListGroupsRequest,
		*kmsg.DeleteGroupsRequest, *kmsg.OffsetDeleteRequest, *kmsg.ConsumerGroupHeartbeatRequest, *kmsg.ConsumerGroupDescribeRequest:
		if b.groups == nil {
			return nil, fmt.Errorf("%s: no group coordinator", kmsg.NameForKey(req.Key()))
		}
		if err := b.ensureOffsetsTopic(); err != nil {
			return nil, err
		}
		host := ""
		if ta, ok := c.Remote.(*net.TCPAddr); ok {
			host = "/" + ta.IP.String()
		}
		ctx = group.WithRequestInfo(ctx, group.RequestInfo{ClientID: clientID, ClientHost: host})
		return b.groups.Handle(ctx, req)
	}
	return nil, fmt.Errorf("no handler for %s", kmsg.NameForKey(req.Key()))
}

// image returns the current metadata image.
func (b *Broker) image() *metadata.Image { return b.meta.Image() }

// errMsg returns a pointer to msg for a response's ErrorMessage, or nil.
func errMsg(msg string) *string {
	if msg == "" {
		return nil
	}
	return &msg
}

// codeOf maps an error to a Kafka error code and message.
func codeOf(err error) (int16, string) {
	if err == nil {
		return 0, ""
	}
	if ce, ok := err.(*controller.Error); ok {
		return ce.Err.Code, ce.Msg
	}
	if ke, ok := err.(*kerr.Error); ok {
		return ke.Code, ke.Message
	}
	return kerr.UnknownServerError.Code, err.Error()
}

func deadline(ms int32) time.Duration {
	if ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
