package reminders_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/reminders"
	"cihui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mailbox is an in-process SMTP server (github.com/emersion/go-smtp) that
// requires STARTTLS and PLAIN authentication and keeps what it receives;
// it refuses the next Refuse messages with 451.
type mailbox struct {
	mu     sync.Mutex
	msgs   []received
	Refuse int
	Port   int
	tls    *tls.Config // the client's: trusts the server's certificate
}

type received struct {
	To   string
	Body string
}

func (m *mailbox) byRecipient(to string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.msgs {
		if r.To == to {
			out = append(out, r.Body)
		}
	}
	return out
}

func (m *mailbox) count() int { m.mu.Lock(); defer m.mu.Unlock(); return len(m.msgs) }

type mailSession struct {
	m      *mailbox
	authed bool
	to     string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "cihui" || pass != "mail-secret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.Refuse > 0 {
		s.m.Refuse--
		return &smtp.SMTPError{Code: 451, Message: "try again later for " + s.to}
	}
	s.m.msgs = append(s.m.msgs, received{To: s.to, Body: string(b)})
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	m := &mailbox{tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.Port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return m
}

type fixture struct {
	e    *testenv.Env
	mail *mailbox
	job  *reminders.Job
	now  time.Time
	cal  *calendar.Calendar
}

func (f *fixture) at(t time.Time) { f.now = t }

func newFixture(t *testing.T) *fixture {
	e := testenv.New(t, testenv.Options{})
	f := &fixture{e: e, mail: newMailbox(t)}
	cal, err := e.App.Calendar(context.Background(), domain.DefaultBranchCode)
	if err != nil {
		t.Fatal(err)
	}
	f.cal = cal
	f.job = &reminders.Job{DB: e.DB, People: e.People,
		Source:   reminders.ReaderSource{Reader: e.Reader, Calendar: e.App.Calendar},
		Calendar: e.App.Calendar,
		Mailer:   &reminders.SMTP{Host: "127.0.0.1", Port: f.mail.Port, StartTLS: true, Username: "cihui", Password: "mail-secret", TLS: f.mail.tls},
		From:     "cihui@example.edu.tw", BaseURL: "https://cihui.example.edu.tw", WorkingDays: 3,
		Now: func() time.Time { return f.now }, Backoff: 10 * time.Minute, MaxAttempts: 3}
	return f
}

func (f *fixture) invite(t *testing.T, name, email, reminders string, roles ...domain.Scope) domain.Staff {
	t.Helper()
	p, err := f.e.People.Invite(context.Background(), events.Actor{Role: domain.RoleAdmin, UserID: "per_test"},
		domain.Staff{Name: name, Email: email, Reminders: reminders, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) run(t *testing.T) reminders.Stats {
	t.Helper()
	st, err := f.job.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func addWorkdays(t *testing.T, cal *calendar.Calendar, d calendar.Date, n int) calendar.Date {
	t.Helper()
	out, err := cal.AddWorkdays(d, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func noon(d calendar.Date) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, domain.Taipei)
}

// Issue 14 acceptance: with an injected clock, the job sends exactly one
// digest per person per period (daily: each working day; weekly: each
// week), with the right counts, over STARTTLS with authentication, to
// active people with an address and reminders on — and no name, national
// ID or school of a student, nor the recipient's name, in the message.
func TestReminders_OneDigestPerPersonPerPeriodWithRightCountsAndNoPersonalData(t *testing.T) {
	f := newFixture(t)
	e := f.e
	ctx := context.Background()
	// A real referral: its open home visit is a duty of the branch.
	nid := testenv.NewNationalID()
	school := e.Token(domain.RoleOriginSchool, "034501")
	r := e.Do("POST", "/v1/referrals", school, testenv.ValidReferral(nid))
	if r.Status != 201 {
		t.Fatalf("referral: %d %s", r.Status, r.Body)
	}
	caseID := r.JSON(t)["id"].(string)
	received := calendar.DateOf(e.Clock.Now(), domain.Taipei)
	visitDue, err := domain.DueDate(f.cal, received)
	if err != nil {
		t.Fatal(err)
	}
	today := visitDue // the visit is due today: reminded, not yet overdue
	// Duties of school 034501 (origin-school rows, as the projector keeps
	// them): one overdue, one due within 3 working days, one later, one
	// without a deadline.
	for i, due := range []*calendar.Date{new(today.AddDays(-1)), new(addWorkdays(t, f.cal, today, 2)), new(addWorkdays(t, f.cal, today, 10)), nil} {
		kind := domain.DutyAccompaniment
		if due == nil {
			kind = domain.DutyNetworkNotice
		}
		var dueS any
		if due != nil {
			dueS = due.String()
		}
		if _, err := e.DB.Exec(`INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, due_on, position) VALUES ($1,'034501',$2,$3,'',$4,$5,1)`,
			domain.DefaultBranchCode, fmt.Sprintf("rcase%d", i), kind, received.String(), dueS); err != nil {
			t.Fatal(err)
		}
	}
	waitDuty(t, f, caseID, today)

	schoolPerson := f.invite(t, "王校方", "wang.school@example.edu.tw", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	worker := f.invite(t, "李社工", "li.sw@example.edu.tw", domain.RemindWeekly, domain.Scope{Role: domain.RoleSocialWorker})
	f.invite(t, "關閉者", "off@example.edu.tw", domain.RemindOff, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	f.invite(t, "無信箱", "", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	gone := f.invite(t, "停權者", "gone@example.edu.tw", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	if _, err := e.People.SetStatus(ctx, events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}, gone.ID, domain.PersonSuspended); err != nil {
		t.Fatal(err)
	}

	f.at(noon(today))
	if st := f.run(t); st.Sent != 2 {
		t.Fatalf("first run: %+v, want 2 sent", st)
	}
	f.at(noon(today).Add(3 * time.Hour))
	if st := f.run(t); st.Sent != 0 || f.mail.count() != 2 {
		t.Fatalf("a second run the same day sent again: %+v, %d messages", st, f.mail.count())
	}
	sm := f.mail.byRecipient(schoolPerson.Email)
	sw := f.mail.byRecipient(worker.Email)
	if len(sm) != 1 || len(sw) != 1 {
		t.Fatalf("messages: school %d, social worker %d", len(sm), len(sw))
	}
	// The school: 2 accompaniments (1 overdue); the later one and the one
	// without a deadline are not reminders.
	want := []string{"Duties due or overdue as of " + today.String() + ": 2 (1 overdue)",
		"accompaniment: 2 (1 overdue), earliest due " + today.AddDays(-1).String(), "https://cihui.example.edu.tw/duties?kind=accompaniment"}
	// The social worker: the branch's home visit, due today (the school's
	// accompaniments are the school's to do).
	wantSW := []string{": 1 (0 overdue)", "home_visit: 1 (0 overdue), earliest due " + today.String()}
	for _, c := range []struct {
		body string
		want []string
		name string
	}{{sm[0], want, "王校方"}, {sw[0], wantSW, "李社工"}} {
		for _, w := range c.want {
			if !strings.Contains(c.body, w) {
				t.Errorf("the digest lacks %q:\n%s", w, c.body)
			}
		}
		if strings.Contains(c.body, "network_notice") || (c.name == "李社工") == strings.Contains(c.body, "accompaniment") ||
			(c.name == "王校方") == strings.Contains(c.body, "home_visit") {
			t.Errorf("a duty without a deadline, or another party's, is in the digest:\n%s", c.body)
		}
		for _, secret := range []string{"測試學生", "測試家長", nid, "034501", caseID, "rcase", c.name} {
			if strings.Contains(c.body, secret) {
				t.Errorf("the digest holds %q:\n%s", secret, c.body)
			}
		}
	}

	// The next working day: the daily digest again, the weekly one only
	// if a new week has begun.
	next := addWorkdays(t, f.cal, today, 1)
	f.at(noon(next))
	f.run(t)
	newWeek := monday(next) != monday(today)
	if got := len(f.mail.byRecipient(schoolPerson.Email)); got != 2 {
		t.Errorf("daily digests after two working days: %d, want 2", got)
	}
	if got, want := len(f.mail.byRecipient(worker.Email)), map[bool]int{false: 1, true: 2}[newWeek]; got != want {
		t.Errorf("weekly digests: %d, want %d (new week: %v)", got, want, newWeek)
	}
	f.run(t)
	if f.mail.count() != 3+map[bool]int{false: 0, true: 1}[newWeek] {
		t.Errorf("a repeated run sent more: %d messages", f.mail.count())
	}
}

func monday(d calendar.Date) calendar.Date {
	return d.AddDays(-((int(d.Time().Weekday()) + 6) % 7))
}

// waitDuty waits until the projector shows the case's home visit.
func waitDuty(t *testing.T, f *fixture, caseID string, asOf calendar.Date) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		items, err := reminders.ReaderSource{Reader: f.e.Reader, Calendar: f.e.App.Calendar}.DutiesOf(context.Background(),
			domain.Staff{Roles: []domain.Scope{{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode}}}, asOf)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Kind == domain.DutyHomeVisit {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the home visit of %s never showed as a duty", caseID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 14: a failed send is retried with backoff, shown to admins (the
// person's id and the SMTP reply code, never the address), and sent once
// when it goes through; a digest failing MaxAttempts times is given up.
// The job's log names the person by id: neither the server's reply, which
// repeats the address, nor an unreachable server's error holds it.
func TestReminders_FailedSendRetriedWithBackoffAndShownToAdmins(t *testing.T) {
	f := newFixture(t)
	e := f.e
	var logBuf bytes.Buffer
	f.job.Log = slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	today := calendar.DateOf(e.Clock.Now(), domain.Taipei)
	if _, err := e.DB.Exec(`INSERT INTO duties (branch, origin_school, case_id, kind, period, opened_on, due_on, position) VALUES ($1,'034501','rx','accompaniment','',$2,$2,1)`,
		domain.DefaultBranchCode, today.String()); err != nil {
		t.Fatal(err)
	}
	p := f.invite(t, "趙校方", "chao@example.edu.tw", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	f.mail.Refuse = 2
	start := noon(today)
	f.at(start)
	if st := f.run(t); st.Failed != 1 || st.Sent != 0 {
		t.Fatalf("first attempt: %+v", st)
	}
	admin := e.Token(domain.RoleAdmin, "")
	r := e.Do("GET", "/v1/reminders/failures", admin, nil)
	if r.Status != 200 {
		t.Fatalf("failures: %d %s", r.Status, r.Body)
	}
	items := r.JSON(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("failures: %s", r.Body)
	}
	fl := items[0].(map[string]any)
	if fl["person_id"] != p.ID || fl["status"] != "failed" || fl["attempts"] != float64(1) || fl["last_error"] != "smtp send: reply 451" ||
		strings.Contains(string(r.Body), "chao") {
		t.Fatalf("the failure shown: %s", r.Body)
	}
	if r := e.Do("GET", "/v1/reminders/failures", e.Token(domain.RoleSocialWorker, ""), nil); r.Status != 403 {
		t.Fatalf("a social worker sees the failures: %d", r.Status)
	}
	f.at(start.Add(5 * time.Minute)) // before the backoff: not retried
	if st := f.run(t); st.Failed+st.Sent != 0 {
		t.Fatalf("retried before the backoff: %+v", st)
	}
	f.at(start.Add(11 * time.Minute)) // after 10 min: the second attempt, refused
	if st := f.run(t); st.Failed != 1 {
		t.Fatalf("second attempt: %+v", st)
	}
	f.at(start.Add(25 * time.Minute)) // the backoff doubled to 20 min: not yet
	if st := f.run(t); st.Failed+st.Sent != 0 {
		t.Fatalf("retried before the doubled backoff: %+v", st)
	}
	f.at(start.Add(32 * time.Minute))
	if st := f.run(t); st.Sent != 1 {
		t.Fatalf("third attempt: %+v", st)
	}
	f.at(start.Add(2 * time.Hour))
	f.run(t)
	if n := len(f.mail.byRecipient(p.Email)); n != 1 {
		t.Fatalf("%d digests delivered, want 1", n)
	}
	if items := mustItems(t, e, admin); len(items) != 0 {
		t.Fatalf("a delivered digest is still shown as failing: %v", items)
	}

	// Given up after MaxAttempts.
	q := f.invite(t, "錢校方", "chien@example.edu.tw", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	f.mail.Refuse = 100
	for i, at := range []time.Duration{3 * time.Hour, 4 * time.Hour, 5 * time.Hour, 6 * time.Hour} {
		f.at(start.Add(at))
		st := f.run(t)
		if want := map[bool]int{true: 1, false: 0}[i < 3]; st.Failed != want {
			t.Fatalf("attempt %d: %+v", i+1, st)
		}
	}
	items = mustItems(t, e, admin)
	if len(items) != 1 || items[0].(map[string]any)["person_id"] != q.ID || items[0].(map[string]any)["status"] != "gave_up" {
		t.Fatalf("given up: %v", items)
	}

	// A server that cannot be reached.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	f.job.Mailer = &reminders.SMTP{Host: "127.0.0.1", Port: closed, StartTLS: true, Timeout: 2 * time.Second}
	u := f.invite(t, "孫校方", "sun.unreachable@example.edu.tw", domain.RemindDaily, domain.Scope{Role: domain.RoleOriginSchool, School: "034501"})
	f.at(start.Add(7 * time.Hour))
	if st := f.run(t); st.Failed != 1 {
		t.Fatalf("unreachable server: %+v", st)
	}
	var shown bool
	for _, it := range mustItems(t, e, admin) {
		if m := it.(map[string]any); m["person_id"] == u.ID {
			shown = m["last_error"] == "smtp connect: failed"
		}
	}
	if !shown {
		t.Fatalf("the unreachable server's failure: %v", mustItems(t, e, admin))
	}
	logText := logBuf.String()
	for _, secret := range []string{"chao", "chien", "sun.unreachable", "example.edu.tw", "趙校方", "錢校方", "孫校方"} {
		if strings.Contains(logText, secret) {
			t.Errorf("the job's log holds %q:\n%s", secret, logText)
		}
	}
	for _, id := range []string{p.ID, q.ID, u.ID} {
		if !strings.Contains(logText, `"person":"`+id+`"`) {
			t.Errorf("the job's log does not name %s:\n%s", id, logText)
		}
	}
}

func mustItems(t *testing.T, e *testenv.Env, admin string) []any {
	t.Helper()
	r := e.Do("GET", "/v1/reminders/failures", admin, nil)
	if r.Status != 200 {
		t.Fatalf("failures: %d", r.Status)
	}
	return r.JSON(t)["items"].([]any)
}
