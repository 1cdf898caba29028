package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"cihui/internal/accesslog"
	"cihui/internal/app"
	"cihui/internal/config"
	"cihui/internal/jetstream"
	"cihui/internal/projections"
)

// accessRetentionFlags defines the flags of the access log and the
// retention job.
func (m *Main) accessRetentionFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.AccessMaxAge, "access-max-age", "CIHUI_ACCESS_MAX_AGE", "87600h", "how long the access log (stream CIHUI_ACCESS) keeps records")
	config.StringFlag(fs, &m.RetentionInterval, "retention-interval", "CIHUI_RETENTION_INTERVAL", "24h", "how often the retention job erases cases past their ten-year retention; 0: off")
}

// openAccessLog ensures the access-log stream and returns its writer.
func (m *Main) openAccessLog(ctx context.Context, nc *nats.Conn) (*accesslog.Log, error) {
	age, err := time.ParseDuration(m.AccessMaxAge)
	if err != nil || age <= 0 {
		return nil, fmt.Errorf("--access-max-age %q: want a positive duration such as 87600h", m.AccessMaxAge)
	}
	return accesslog.Open(ctx, nc, accesslog.Config{Replicas: m.Replicas, MaxAge: age})
}

// retentionJob returns the retention job: scheduled every
// --retention-interval (startRetention) and run on demand by an admin
// (POST /v1/retention/runs); it acts only once the read models reflect
// every event.
func (m *Main) retentionJob(svc *app.Service, reader *projections.Reader, waiter *projections.Waiter, store *jetstream.Store) (*app.RetentionJob, error) {
	every, err := time.ParseDuration(m.RetentionInterval)
	if err != nil || every < 0 {
		return nil, fmt.Errorf("--retention-interval %q: want a duration such as 24h, or 0", m.RetentionInterval)
	}
	return &app.RetentionJob{App: svc, Source: reader, Clock: svc.Clock, Interval: every, Log: m.log,
		CaughtUp: caughtUp("retention", waiter, store)}, nil
}

// startRetention runs the retention job in the background until the API
// stops, unless --retention-interval is 0 (an admin still runs it on
// demand).
func (m *Main) startRetention(job *app.RetentionJob) {
	if job.Interval == 0 {
		m.log.Warn("retention job off (--retention-interval 0); admins run it on demand")
		return
	}
	m.startJob(job.Run)
}
