package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/config"
)

// ExitConfigError is the exit code for an invalid configuration.
const ExitConfigError = 2

// ExitError carries a process exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit code.
func (e *ExitError) ExitCode() int { return e.Code }

// NewCommand returns `sluice server`.
func NewCommand() *cobra.Command {
	var (
		configPath string
		overrides  []string
		dataDir    string
		listen     string
		logLevel   string
	)
	cmd := &cobra.Command{
		Use:   "server [--config server.properties] [--override key=value ...]",
		Short: "Run a broker (with no flags: a single node on 127.0.0.1:9092, data in ./data)",
		Example: `  sluice server
  sluice server --data-dir /var/lib/sluice --listen 0.0.0.0:9092
  sluice server --config server.properties --override log.retention.hours=24`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir != "" {
				overrides = append(overrides, "log.dirs="+dataDir)
			}
			if listen != "" {
				overrides = append(overrides, "listeners=PLAINTEXT://"+listen)
			}
			cfg, err := config.Load(configPath, overrides)
			if err != nil {
				return &ExitError{Code: ExitConfigError, Err: err}
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return &ExitError{Code: ExitConfigError, Err: fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			s, err := Start(ctx, cfg, logger)
			if err != nil {
				return err
			}
			<-ctx.Done()
			logger.Info("shutting down")
			if err := s.Close(); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "", "server.properties file with Kafka property names")
	f.StringArrayVar(&overrides, "override", nil, "set a property, key=value (repeatable), as kafka-server-start --override")
	f.StringVar(&dataDir, "data-dir", "", "shorthand for --override log.dirs=DIR")
	f.StringVar(&listen, "listen", "", "shorthand for --override listeners=PLAINTEXT://HOST:PORT")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
