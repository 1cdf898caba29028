package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
)

// retentionJob is the job of Config.Retention, or one over the server's
// own service and read models.
func (s *Server) retentionJob(cfg Config) *app.RetentionJob {
	if cfg.Retention != nil || cfg.App == nil || cfg.Reader == nil {
		return cfg.Retention
	}
	return &app.RetentionJob{App: cfg.App, Source: cfg.Reader, Clock: cfg.App.Clock, Log: cfg.Log, CaughtUp: s.caughtUp}
}

// caughtUp fails unless the read models reflect every event recorded so
// far (waiting a while): a run must see a legal hold just placed.
func (s *Server) caughtUp(ctx context.Context) error {
	last, err := s.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if got := s.waiter.Wait(wctx, last); got < last {
		return domain.Errorf(domain.EUnavailable, "the read models are at %d of %d; retry shortly", got, last)
	}
	return nil
}

// runRetention serves POST /v1/retention/runs to admins: the retention job
// runs once now (idempotent: people erased leave it) and answers what it
// did, in counts. While a run is in progress it is 409.
func (s *Server) runRetention(c echo.Context) error {
	if s.retention == nil {
		return domain.Errorf(domain.EUnavailable, "the retention job is not configured")
	}
	if err := noBody(c); err != nil {
		return err
	}
	rep, err := s.retention.RunNow(c.Request().Context())
	if err != nil && rep.Failed == 0 {
		return err
	}
	// Some erasures failed (logged, tried again by the next run): the
	// answer says how many.
	return c.JSON(http.StatusOK, rep)
}
