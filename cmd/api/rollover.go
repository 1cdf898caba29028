package main

import (
	"flag"
	"fmt"
	"time"

	"cihui/internal/app"
	"cihui/internal/config"
)

// rolloverFlags defines the flag of the academic year's roll-over job.
func (m *Main) rolloverFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.RolloverInterval, "rollover-interval", "CIHUI_ROLLOVER_INTERVAL", "1h", "how often the job checks that every branch is rolled over into the current academic year (on Aug 1: grades advance, grade 9 graduates, waiting lists lapse); 0: off")
}

// startRollover runs the roll-over job in the background until the API
// stops.
func (m *Main) startRollover(svc *app.Service) error {
	every, err := time.ParseDuration(m.RolloverInterval)
	if err != nil || every < 0 {
		return fmt.Errorf("--rollover-interval %q: want a duration such as 1h, or 0", m.RolloverInterval)
	}
	if every == 0 {
		m.log.Warn("academic-year roll-over job off (--rollover-interval 0)")
		return nil
	}
	job := &app.RolloverJob{App: svc, Branches: svc.BranchCodes, Clock: svc.Clock, Interval: every, Log: m.log}
	m.startJob(job.Run)
	return nil
}
