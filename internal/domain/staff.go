package domain

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"cihui/internal/events"
)

// StaffStatus is where a person's account stands.
type StaffStatus string

// Person statuses. A suspended person can neither sign in nor use a token
// until reinstated; a removed person never again.
const (
	PersonActive    StaffStatus = "active"
	PersonSuspended StaffStatus = "suspended"
	PersonRemoved   StaffStatus = "removed"
)

// Reminder frequencies of the digest of duties (issue 14).
const (
	RemindDaily  = "daily"
	RemindWeekly = "weekly"
	RemindOff    = "off"
)

// Scope is one role a person holds, with the school (origin schools) or
// branch (branch staff) it is held in. A request acts in one of them.
type Scope struct {
	Role   events.Role `json:"role"`
	School string      `json:"school"`
	Branch string      `json:"branch"`
}

// Staff is a member of staff with an account: the people behind the
// roles (issue 14). Name and e-mail are personal data of staff: they are
// kept in PostgreSQL only, never in the event log, logs, metrics or error
// messages; events and access records carry the id alone.
type Staff struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Email     string      `json:"email"`
	Roles     []Scope     `json:"roles"`
	Status    StaffStatus `json:"status"`
	Reminders string      `json:"reminders"`
	// Subject is the OpenID Connect claim value the person signs in with.
	Subject   string    `json:"oidc_subject,omitempty"`
	TOTP      bool      `json:"totp_enrolled"`
	Password  bool      `json:"password_set"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Holds reports whether p holds scope s.
func (p Staff) Holds(s Scope) bool {
	for _, r := range p.Roles {
		if r == s {
			return true
		}
	}
	return false
}

// IsAdmin reports whether p holds the admin role.
func (p Staff) IsAdmin() bool {
	for _, r := range p.Roles {
		if r.Role == RoleAdmin {
			return true
		}
	}
	return false
}

// StaffChange is one recorded change of a person: who, when, before and
// after (issue 14).
type StaffChange struct {
	Seq       int64     `json:"seq"`
	PersonID  string    `json:"person_id"`
	At        time.Time `json:"at"`
	ActorRole string    `json:"actor_role"`
	ActorID   string    `json:"actor_id"`
	Before    *Staff    `json:"before"`
	After     Staff     `json:"after"`
}

// Limits of a person's fields, what the people table holds.
const (
	maxPersonName  = 100
	maxPersonEmail = 254
	maxSubject     = 255
	maxScopes      = 8
)

// ValidateStaff checks p's fields for what every store can hold; the
// messages name the field, never the value (staff names are personal
// data too). knownBranch reports whether a branch is configured.
func ValidateStaff(p *Staff, knownBranch func(string) bool) error {
	bad := map[string]string{}
	p.Name = strings.TrimSpace(p.Name)
	p.Email = strings.TrimSpace(p.Email)
	switch {
	case p.Name == "":
		bad["name"] = "is required"
	case !utf8.ValidString(p.Name) || strings.ContainsAny(p.Name, "\x00\r\n\t") || utf8.RuneCountInString(p.Name) > maxPersonName:
		bad["name"] = "must be at most 100 characters of one line of text"
	}
	if p.Email != "" {
		a, err := mail.ParseAddress(p.Email)
		if err != nil || a.Address != p.Email || len(p.Email) > maxPersonEmail {
			bad["email"] = "must be a plain e-mail address such as name@example.edu.tw"
		}
	}
	if len(p.Subject) > maxSubject || !utf8.ValidString(p.Subject) || strings.ContainsAny(p.Subject, "\x00\r\n") {
		bad["oidc_subject"] = "must be at most 255 characters of one line of text"
	}
	switch p.Reminders {
	case "":
		p.Reminders = RemindWeekly
	case RemindDaily, RemindWeekly, RemindOff:
	default:
		bad["reminders"] = "must be daily, weekly or off"
	}
	if len(p.Roles) == 0 {
		bad["roles"] = "a person holds at least one role"
	} else if len(p.Roles) > maxScopes {
		bad["roles"] = "at most 8 roles"
	}
	seen := map[Scope]bool{}
	for i := range p.Roles {
		if msg := validScope(&p.Roles[i], knownBranch); msg != "" {
			bad["roles"] = msg
			break
		}
		if seen[p.Roles[i]] {
			bad["roles"] = "a role is listed twice"
			break
		}
		seen[p.Roles[i]] = true
	}
	if len(bad) > 0 {
		return Invalid(bad)
	}
	return nil
}

// validScope normalises and checks one role: an origin school role needs
// a school code, branch staff a configured branch (the default branch
// when none is given); bureau and admin are held system-wide.
func validScope(s *Scope, knownBranch func(string) bool) string {
	switch s.Role {
	case RoleOriginSchool:
		if !ValidSchoolCode(s.School) {
			return "an origin_school role needs a 6-digit school code"
		}
	case RoleSocialWorker, RoleCommittee:
		s.School = ""
		if s.Branch == "" {
			s.Branch = DefaultBranchCode
		}
	case RoleBureau, RoleAdmin:
	default:
		return "unknown role"
	}
	if s.School != "" && !ValidSchoolCode(s.School) {
		return "a school must be a 6-digit school code"
	}
	if s.Branch != "" && (knownBranch == nil || !knownBranch(s.Branch)) {
		return "no such branch school is configured"
	}
	return ""
}

// ValidSchoolCode reports whether code has the form of a Ministry of
// Education school code: six digits (e.g. 034501).
func ValidSchoolCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
