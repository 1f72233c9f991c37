//go:build nogroups

package server

import (
	"context"
	"log/slog"

	"github.com/sluicehq/sluice/internal/config"
	"github.com/sluicehq/sluice/internal/controller"
	"github.com/sluicehq/sluice/internal/metadata"
	"github.com/sluicehq/sluice/internal/replica"
)

func startGroups(ctx context.Context, cfg *config.Broker, meta *metadata.Log, replicas *replica.Manager, ctrl *controller.Controller, logger *slog.Logger) (groupCoordinator, error) {
	return nil, nil
}
