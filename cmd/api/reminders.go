package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"cihui/internal/app"
	"cihui/internal/config"
	"cihui/internal/postgres"
	"cihui/internal/projections"
	"cihui/internal/reminders"
)

// reminderFlags defines the flags of the reminder digests (issue 14).
func (m *Main) reminderFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.SMTP.Host, "smtp-host", "CIHUI_SMTP_HOST", "", "SMTP server for the reminder digests; empty: no reminders")
	fs.IntVar(&m.SMTP.Port, "smtp-port", atoi(config.Env("CIHUI_SMTP_PORT", "587"), 587), "SMTP port (env CIHUI_SMTP_PORT)")
	config.BoolFlag(fs, &m.SMTPPlain, "smtp-no-starttls", "CIHUI_SMTP_NO_STARTTLS", false, "send without STARTTLS (only to a relay on the same host)")
	config.StringFlag(fs, &m.SMTP.Username, "smtp-user", "CIHUI_SMTP_USER", "", "SMTP user; its password from CIHUI_SMTP_PASSWORD or --smtp-password-file")
	config.StringFlag(fs, &m.SMTPPasswordFile, "smtp-password-file", "CIHUI_SMTP_PASSWORD_FILE", "", "file holding the SMTP password")
	config.StringFlag(fs, &m.ReminderFrom, "reminder-from", "CIHUI_REMINDER_FROM", "", "sender address of the digests")
	config.StringFlag(fs, &m.ReminderBaseURL, "reminder-base-url", "CIHUI_REMINDER_BASE_URL", "", "the web pages' address, for the digests' links (https://…)")
	fs.IntVar(&m.ReminderDays, "reminder-working-days", atoi(config.Env("CIHUI_REMINDER_WORKING_DAYS", "3"), 3), "a digest lists duties due within this many working days, and overdue ones (env CIHUI_REMINDER_WORKING_DAYS)")
	config.StringFlag(fs, &m.ReminderInterval, "reminder-interval", "CIHUI_REMINDER_INTERVAL", "15m", "how often the reminder job looks for digests to send")
}

// startReminders runs the reminder job in the background until the API
// stops, when an SMTP server is configured.
func (m *Main) startReminders(svc *app.Service, reader *projections.Reader) error {
	if m.SMTP.Host == "" {
		m.log.Info("reminder digests off (no --smtp-host)")
		return nil
	}
	every, err := time.ParseDuration(m.ReminderInterval)
	if err != nil || every <= 0 {
		return fmt.Errorf("--reminder-interval %q: want a positive duration such as 15m", m.ReminderInterval)
	}
	if m.ReminderFrom == "" || !strings.HasPrefix(m.ReminderBaseURL, "http") || m.ReminderDays < 1 || m.ReminderDays > 30 {
		return fmt.Errorf("reminders need --reminder-from, --reminder-base-url (http… or https…) and --reminder-working-days 1–30")
	}
	m.SMTP.StartTLS = !m.SMTPPlain
	if m.SMTP.Password = os.Getenv("CIHUI_SMTP_PASSWORD"); m.SMTP.Password == "" && m.SMTPPasswordFile != "" {
		b, err := os.ReadFile(m.SMTPPasswordFile)
		if err != nil {
			return fmt.Errorf("--smtp-password-file: %w", err)
		}
		m.SMTP.Password = strings.TrimSpace(string(b))
	}
	smtp := m.SMTP
	job := &reminders.Job{DB: m.db, People: postgres.NewPeople(m.db),
		Source:   reminders.ReaderSource{Reader: reader, Calendar: svc.Calendar},
		Calendar: svc.Calendar, Mailer: &smtp, From: m.ReminderFrom, BaseURL: m.ReminderBaseURL,
		WorkingDays: m.ReminderDays, Interval: every, Log: m.log}
	m.startJob(job.Run)
	return nil
}
