package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultBootstrap is where the friendly commands look for a broker when
// neither -b nor SLUICE_BOOTSTRAP says otherwise.
const DefaultBootstrap = "127.0.0.1:9092"

// defaultConnectTimeout bounds how long a tool waits for any bootstrap broker
// to accept a connection; SLUICE_CONNECT_TIMEOUT (a Go duration) overrides it.
const defaultConnectTimeout = 10 * time.Second

// conn is the connection part every tool shares: where the brokers are and
// the Kafka client properties (from --command-config and friends).
type conn struct {
	bootstrap string            // --bootstrap-server (comma-separated host:port list)
	props     map[string]string // Kafka client properties, bootstrap.servers included if set
	required  bool              // Kafka tools: --bootstrap-server (or bootstrap.servers) is mandatory
}

// brokers returns the bootstrap list: the flag, else bootstrap.servers from
// the properties, else (friendly commands only) SLUICE_BOOTSTRAP or the default.
func (c *conn) brokers() ([]string, error) {
	s := c.bootstrap
	if s == "" {
		s = c.props["bootstrap.servers"]
	}
	if s == "" && !c.required {
		s = os.Getenv("SLUICE_BOOTSTRAP")
		if s == "" {
			s = DefaultBootstrap
		}
	}
	if s == "" {
		return nil, usageErrorf("missing required option --bootstrap-server")
	}
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(b); err != nil {
			return nil, usageErrorf("invalid bootstrap server %q: expected host:port", b)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, usageErrorf("missing required option --bootstrap-server")
	}
	return out, nil
}

func connectTimeout() time.Duration {
	if s := os.Getenv("SLUICE_CONNECT_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	return defaultConnectTimeout
}

// checkReachable succeeds as soon as one broker accepts a TCP connection.
// It exists so that a wrong address fails fast with a clear message and exit
// code 3 instead of the client retrying for minutes.
func checkReachable(ctx context.Context, brokers []string) error {
	timeout := connectTimeout()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lastErr error
	refusedUntil := time.Now().Add(min(timeout, 2*time.Second))
	for {
		for _, b := range brokers {
			d := net.Dialer{Timeout: timeout}
			c, err := d.DialContext(ctx, "tcp", b)
			if err == nil {
				c.Close()
				return nil
			}
			lastErr = err
		}
		// A refused connection is a definite answer: nothing listens there.
		// Retry briefly (a broker may be starting), not for the whole timeout.
		giveUp := errors.Is(lastErr, syscall.ECONNREFUSED) && time.Now().After(refusedUntil)
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return ctx.Err()
			}
			giveUp = true
		default:
		}
		if giveUp {
			return withCode(ExitUnreachable, fmt.Errorf("cannot reach broker at %s: %v (gave up after %s)",
				strings.Join(brokers, ","), unwrapDialErr(lastErr), time.Since(start).Round(100*time.Millisecond)))
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func unwrapDialErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// client checks that a broker is reachable and returns a franz-go client
// configured from the properties plus extra.
func (c *conn) client(ctx context.Context, role clientRole, extra ...kgo.Opt) (*kgo.Client, error) {
	brokers, err := c.brokers()
	if err != nil {
		return nil, err
	}
	if err := checkReachable(ctx, brokers); err != nil {
		return nil, err
	}
	opts, err := clientOpts(c.props, role)
	if err != nil {
		return nil, err
	}
	opts = append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DialTimeout(connectTimeout())}, opts...)
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return cl, nil
}

// admin returns an admin client and the client underneath (close the latter).
func (c *conn) admin(ctx context.Context) (*kadm.Client, *kgo.Client, error) {
	cl, err := c.client(ctx, roleAdmin)
	if err != nil {
		return nil, nil, err
	}
	adm := kadm.NewClient(cl)
	if ms, ok := c.props["default.api.timeout.ms"]; ok {
		if n, err := strconv.Atoi(ms); err == nil {
			adm.SetTimeoutMillis(int32(n))
		}
	}
	return adm, cl, nil
}

// withAdmin opens an admin client on c for cmd, runs fn with it and the
// command's context, and closes the client once fn returns.
func withAdmin(cmd *cobra.Command, c *conn, fn func(ctx context.Context, adm *kadm.Client) error) error {
	ctx := cmd.Context()
	adm, cl, err := c.admin(ctx)
	if err != nil {
		return err
	}
	defer cl.Close()
	return fn(ctx, adm)
}

// adminWithConfigFile loads the property file at path (if any) into c.props
// and returns an admin client and the client underneath (close the latter).
func (c *conn) adminWithConfigFile(ctx context.Context, path string) (*kadm.Client, *kgo.Client, error) {
	props, err := loadConfigFile(path)
	if err != nil {
		return nil, nil, err
	}
	c.props = props
	return c.admin(ctx)
}

type clientRole int

const (
	roleAdmin clientRole = iota
	roleProducer
	roleConsumer
)

// clientOpts maps Kafka client properties to franz-go options. Properties
// franz-go has no equivalent for are accepted and ignored, as the Java client
// ignores unknown ones (with a warning in its log).
func clientOpts(props map[string]string, role clientRole) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	num := func(k string) (int64, bool, error) {
		v, ok := props[k]
		if !ok || strings.TrimSpace(v) == "" {
			return 0, false, nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, false, usageErrorf("invalid value %q for property %s: expected a number", v, k)
		}
		return n, true, nil
	}
	ms := func(k string, fn func(time.Duration) kgo.Opt) error {
		n, ok, err := num(k)
		if ok {
			opts = append(opts, fn(time.Duration(n)*time.Millisecond))
		}
		return err
	}
	if v := props["client.id"]; v != "" {
		opts = append(opts, kgo.ClientID(v))
	}
	if err := ms("request.timeout.ms", kgo.RequestTimeoutOverhead); err != nil {
		return nil, err
	}
	if err := ms("metadata.max.age.ms", kgo.MetadataMaxAge); err != nil {
		return nil, err
	}
	if err := ms("retry.backoff.ms", func(d time.Duration) kgo.Opt {
		return kgo.RetryBackoffFn(func(int) time.Duration { return d })
	}); err != nil {
		return nil, err
	}
	switch role {
	case roleProducer:
		idem := propBool(props, "enable.idempotence", true)
		switch acks := strings.ToLower(strings.TrimSpace(propString(props, "acks", "all"))); acks {
		case "all", "-1":
			opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		case "1":
			opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
			idem = false
		case "0":
			opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
			idem = false
		default:
			return nil, usageErrorf("invalid value %q for acks: expected all, -1, 0 or 1", acks)
		}
		if !idem {
			opts = append(opts, kgo.DisableIdempotentWrite())
		}
		if err := ms("linger.ms", optOf(kgo.ProducerLinger)); err != nil {
			return nil, err
		}
		if n, ok, err := num("batch.size"); err != nil {
			return nil, err
		} else if ok && n > 0 {
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(n)))
		}
		if n, ok, err := num("buffer.memory"); err != nil {
			return nil, err
		} else if ok && n > 0 {
			opts = append(opts, kgo.MaxBufferedBytes(int(n)))
		}
		if n, ok, err := num("retries"); err != nil {
			return nil, err
		} else if ok {
			opts = append(opts, kgo.RecordRetries(int(n)))
		}
		if err := ms("delivery.timeout.ms", optOf(kgo.RecordDeliveryTimeout)); err != nil {
			return nil, err
		}
		if n, ok, err := num("max.in.flight.requests.per.connection"); err != nil {
			return nil, err
		} else if ok && n > 0 && !idem {
			opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(int(n)))
		}
		// The Java producer's default is no compression (franz-go's is
		// snappy); Kafka's tools and runbooks assume Java's.
		c, err := compressionCodec(props["compression.type"])
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.ProducerBatchCompression(c))
		if v := props["transactional.id"]; v != "" {
			opts = append(opts, kgo.TransactionalID(v))
		}
		opts = append(opts, kgo.AllowAutoTopicCreation())
	case roleConsumer:
		if n, ok, err := num("fetch.max.bytes"); err != nil {
			return nil, err
		} else if ok {
			opts = append(opts, kgo.FetchMaxBytes(int32(n)))
		}
		if n, ok, err := num("max.partition.fetch.bytes"); err != nil {
			return nil, err
		} else if ok {
			opts = append(opts, kgo.FetchMaxPartitionBytes(int32(n)))
		}
		if n, ok, err := num("fetch.min.bytes"); err != nil {
			return nil, err
		} else if ok {
			opts = append(opts, kgo.FetchMinBytes(int32(n)))
		}
		if err := ms("fetch.max.wait.ms", optOf(kgo.FetchMaxWait)); err != nil {
			return nil, err
		}
		if err := ms("session.timeout.ms", optOf(kgo.SessionTimeout)); err != nil {
			return nil, err
		}
		if err := ms("heartbeat.interval.ms", optOf(kgo.HeartbeatInterval)); err != nil {
			return nil, err
		}
		if err := ms("auto.commit.interval.ms", optOf(kgo.AutoCommitInterval)); err != nil {
			return nil, err
		}
		if !propBool(props, "enable.auto.commit", true) {
			opts = append(opts, kgo.DisableAutoCommit())
		}
		if v := strings.TrimSpace(props["isolation.level"]); v != "" {
			iso, err := isolationLevel(v)
			if err != nil {
				return nil, err
			}
			opts = append(opts, iso)
		}
		if v := props["group.instance.id"]; v != "" {
			opts = append(opts, kgo.InstanceID(v))
		}
	}
	return opts, nil
}

func isolationLevel(v string) (kgo.Opt, error) {
	switch strings.ToLower(v) {
	case "read_uncommitted":
		return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
	case "read_committed":
		return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
	}
	return nil, usageErrorf("invalid isolation level %q: expected read_committed or read_uncommitted", v)
}

// autoOffsetReset maps auto.offset.reset to where a consumer without a
// committed offset starts.
func autoOffsetReset(v string) (kgo.Offset, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "latest":
		return kgo.NewOffset().AtEnd(), nil
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "none":
		return kgo.NewOffset().AtEnd(), nil
	}
	return kgo.Offset{}, usageErrorf("invalid value %q for auto.offset.reset: expected earliest, latest or none", v)
}

func compressionCodec(v string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "none", "uncompressed":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, usageErrorf("invalid compression codec %q: expected none, gzip, snappy, lz4 or zstd", v)
}

// addKafkaConnFlags adds --bootstrap-server and the named properties-file
// flag (--command-config, --producer.config, ...) to a Kafka tool.
func addKafkaConnFlags(cmd *cobra.Command, c *conn, configFile *string, configFlag string) {
	c.required = true
	cmd.Flags().StringVar(&c.bootstrap, "bootstrap-server", "", "REQUIRED: the server(s) to connect to, host:port[,host:port...]")
	if configFlag != "" {
		cmd.Flags().StringVar(configFile, configFlag, "", "property file containing client configs")
	}
}

// loadConfigFile loads path into c.props (below any later layers).
func loadConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	return loadPropertiesFile(path)
}

// optOf adapts a typed franz-go option constructor to func(d) kgo.Opt.
func optOf[T kgo.Opt](fn func(time.Duration) T) func(time.Duration) kgo.Opt {
	return func(d time.Duration) kgo.Opt { return fn(d) }
}
