package reminders

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mailer sends one message.
type Mailer interface {
	Send(ctx context.Context, from, to string, msg []byte) error
}

// SMTP sends over SMTP (github.com/emersion/go-smtp): STARTTLS required
// unless turned off, PLAIN authentication when a user is configured.
type SMTP struct {
	Host     string
	Port     int
	StartTLS bool
	Username string
	Password string
	// TLS configures STARTTLS (default: verify Host).
	TLS *tls.Config
	// Timeout bounds one send (default 30 s).
	Timeout time.Duration
}

// Send delivers msg to one recipient.
func (s *SMTP) Send(ctx context.Context, from, to string, msg []byte) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)))
	if err != nil {
		return &SendError{Class: "connect", Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	var c *smtp.Client
	if s.StartTLS {
		cfg := s.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
		}
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return &SendError{Class: "starttls", Err: err}
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	if s.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", s.Username, s.Password)); err != nil {
			return &SendError{Class: "auth", Err: err}
		}
	}
	if err := c.SendMail(from, []string{to}, bytes.NewReader(msg)); err != nil {
		return &SendError{Class: "send", Err: err}
	}
	if err := c.Quit(); err != nil {
		return &SendError{Class: "quit", Err: err}
	}
	return nil
}

// SendError is a failed send. Its Error names the step and, for an SMTP
// reply, its code — never an address or the server's text, which may
// repeat the address.
type SendError struct {
	Class string
	Err   error
}

func (e *SendError) Error() string {
	var se *smtp.SMTPError
	if errors.As(e.Err, &se) {
		return "smtp " + e.Class + ": reply " + strconv.Itoa(se.Code)
	}
	if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, context.Canceled) {
		return "smtp " + e.Class + ": timed out"
	}
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() {
		return "smtp " + e.Class + ": timed out"
	}
	return "smtp " + e.Class + ": failed"
}

func (e *SendError) Unwrap() error { return e.Err }
