package main

import (
	"flag"
	"fmt"
	"time"

	"cihui/internal/app"
	"cihui/internal/config"
	"cihui/internal/jetstream"
	"cihui/internal/projections"
)

// lapseFlags defines the flag of the lapse job.
func (m *Main) lapseFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.LapseInterval, "lapse-interval", "CIHUI_LAPSE_INTERVAL", "1h", "how often the API closes returned applications not re-submitted by their window's end (R-MID-3); 0: off")
}

// startLapse runs the lapse job in the background until the API stops; it
// acts only once the read models reflect every event.
func (m *Main) startLapse(svc *app.Service, reader *projections.Reader, waiter *projections.Waiter, store *jetstream.Store) error {
	every, err := time.ParseDuration(m.LapseInterval)
	if err != nil || every < 0 {
		return fmt.Errorf("--lapse-interval %q: want a duration such as 1h, or 0", m.LapseInterval)
	}
	if every == 0 {
		m.log.Warn("lapse job off (--lapse-interval 0)")
		return nil
	}
	job := &app.LapseJob{App: svc, Source: reader, Interval: every, Log: m.log,
		CaughtUp: caughtUp("lapse", waiter, store)}
	m.startJob(job.Run)
	return nil
}
