// Package reminders sends each person a digest of the duties they owe
// that are due within N working days or overdue (issue 14): daily or
// weekly as the person chose, or never; over SMTP to the address on file;
// counts, due dates and links only — no names, national IDs or schools of
// students, nor the recipient's name. A scheduled job runs it on an
// injected clock; a digest is claimed before it is sent, so it never goes
// out twice for the same period, and a failed send is retried with
// backoff and shown to admins.
package reminders

import (
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
)

// Item is one duty as the digest needs it: no case, no student, no school.
type Item struct {
	Kind    string
	DueOn   *calendar.Date
	Overdue bool
}

// Line is one kind of duty in a digest.
type Line struct {
	Kind          string
	Count         int
	Overdue       int
	EarliestDueOn calendar.Date
}

// Digest is what one person is told for one period.
type Digest struct {
	Period  calendar.Date
	Lines   []Line
	Count   int
	Overdue int
}

// Build counts the items due by cutoff (inclusive) or overdue, per kind.
// Items without a due date are not reminders: they are never late.
func Build(period, cutoff calendar.Date, items []Item) Digest {
	d := Digest{Period: period}
	byKind := map[string]*Line{}
	for _, it := range items {
		if it.DueOn == nil || (!it.Overdue && it.DueOn.After(cutoff)) {
			continue
		}
		l := byKind[it.Kind]
		if l == nil {
			l = &Line{Kind: it.Kind, EarliestDueOn: *it.DueOn}
			byKind[it.Kind] = l
		}
		l.Count++
		d.Count++
		if it.Overdue {
			l.Overdue++
			d.Overdue++
		}
		if it.DueOn.Before(l.EarliestDueOn) {
			l.EarliestDueOn = *it.DueOn
		}
	}
	for _, l := range byKind {
		d.Lines = append(d.Lines, *l)
	}
	slices.SortFunc(d.Lines, func(a, b Line) int { return strings.Compare(a.Kind, b.Kind) })
	return d
}

// Message renders the digest as an RFC 5322 message from → to. The body
// holds counts, due dates and links to the duties list (baseURL, e.g.
// https://cihui.example.edu.tw) only.
func (d Digest) Message(from, to, baseURL string, now time.Time, msgID string) []byte {
	var b strings.Builder
	subject := fmt.Sprintf("Cihui: %d duties due or overdue (%d overdue)", d.Count, d.Overdue)
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", (&mail.Address{Address: from}).String())
	hdr("To", (&mail.Address{Address: to}).String())
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+msgID+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	hdr("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "Duties due or overdue as of %s: %d (%d overdue).\r\n\r\n", d.Period, d.Count, d.Overdue)
	base := strings.TrimRight(baseURL, "/")
	for _, l := range d.Lines {
		fmt.Fprintf(&b, "%s: %d (%d overdue), earliest due %s\r\n  %s/duties?kind=%s\r\n", l.Kind, l.Count, l.Overdue, l.EarliestDueOn,
			base, url.QueryEscape(l.Kind))
	}
	fmt.Fprintf(&b, "\r\nAll duties: %s/duties\r\nReminders (daily, weekly or off): %s/me\r\n", base, base)
	return []byte(b.String())
}
