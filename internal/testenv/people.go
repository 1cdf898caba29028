package testenv

import (
	"context"
	"strconv"
	"sync"
	"time"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// Password is the password of the people NewPerson and PersonOfToken
// make: long enough for the policy, in no common list.
const Password = "correct horse battery 慈輝"

// Person is someone who signs in with an e-mail address and a password
// (issue 14), and with a TOTP code when they have a second factor (every
// admin has one).
type Person struct {
	domain.Staff
	Password string
	secret   string
	clock    *Clock
	used     *usedSteps
}

// usedSteps remembers the TOTP steps a person's codes were given for: a
// code is good once.
type usedSteps struct {
	mu   sync.Mutex
	last int64
}

// Code returns a TOTP code for the person's next sign-in at the
// environment's clock, "" when they have no second factor. A code is good
// once, so a second call in the same 30 s of the clock gives the next
// step's code, which the check's one step of skew still takes; a third
// needs the clock moved on.
func (p Person) Code() string {
	if p.secret == "" {
		return ""
	}
	p.used.mu.Lock()
	defer p.used.mu.Unlock()
	at := p.clock.Now()
	if step := at.Unix() / 30; step <= p.used.last {
		at = time.Unix((p.used.last+1)*30, 0)
	}
	p.used.last = at.Unix() / 30
	c, err := auth.TOTPCode(p.secret, at)
	if err != nil {
		panic(err)
	}
	return c
}

var testAdmin = events.Actor{Role: domain.RoleAdmin, UserID: "per_testenv"}

// NewPerson invites a person holding scopes (a social worker's or
// committee member's branch defaults to the environment's), sets their
// Password and, for an admin, enrols a second factor.
func (e *Env) NewPerson(name string, scopes ...domain.Scope) Person {
	e.T.Helper()
	for i, s := range scopes {
		if s.Branch == "" && (s.Role == domain.RoleSocialWorker || s.Role == domain.RoleCommittee) {
			scopes[i].Branch = e.Branch.Code
		}
	}
	p, err := e.People.Invite(context.Background(), testAdmin, domain.Staff{Name: name, Email: newEmail(), Roles: scopes})
	if err != nil {
		e.T.Fatal(err)
	}
	return e.withPassword(p)
}

// PersonOfToken returns the person a token (e.g. from Token or TokenIn)
// is issued to, made able to sign in: an e-mail address, Password and,
// for an admin, a second factor. Called again for the same person it
// returns the same Person.
func (e *Env) PersonOfToken(token string) Person {
	e.T.Helper()
	ctx := context.Background()
	a, err := e.Tokens.Authenticate(ctx, token)
	if err != nil {
		e.T.Fatal(err)
	}
	e.peopleMu.Lock()
	defer e.peopleMu.Unlock()
	if p, ok := e.people[a.UserID]; ok {
		return p
	}
	st, err := e.People.Get(ctx, a.UserID)
	if err != nil {
		e.T.Fatal(err)
	}
	if st.Email == "" {
		email := newEmail()
		if st, err = e.People.Change(ctx, testAdmin, st.ID, postgres.PersonPatch{Email: &email}); err != nil {
			e.T.Fatal(err)
		}
	}
	p := e.withPassword(st)
	if e.people == nil {
		e.people = map[string]Person{}
	}
	e.people[a.UserID] = p
	return p
}

func (e *Env) withPassword(st domain.Staff) Person {
	e.T.Helper()
	ctx := context.Background()
	if err := e.Logins.SetPassword(ctx, testAdmin, st.ID, Password, nil); err != nil {
		e.T.Fatal(err)
	}
	p := Person{Staff: st, Password: Password, clock: e.Clock, used: &usedSteps{}}
	if st.IsAdmin() {
		secret, _, err := e.Logins.BeginTOTP(ctx, st.ID)
		if err != nil {
			e.T.Fatal(err)
		}
		// Enrolled with a code a minute old, so that the clock's current
		// code is still good for signing in.
		then := e.Clock.Now().Add(-time.Minute)
		code, _ := auth.TOTPCode(secret, then)
		if err := e.Logins.ConfirmTOTP(ctx, testAdmin, st.ID, code, then); err != nil {
			e.T.Fatal(err)
		}
		p.secret = secret
	}
	return p
}

var (
	emailMu sync.Mutex
	emailN  int
)

// newEmail returns an address no other person of the process has.
func newEmail() string {
	emailMu.Lock()
	defer emailMu.Unlock()
	emailN++
	return "person-" + strconv.Itoa(emailN) + "@example.edu.tw"
}

var running sync.Map // base URL → *Env

// Running returns the environment whose API serves base (e.HTTP.URL),
// nil if none: for helpers that are given only the URL.
func Running(base string) *Env {
	e, _ := running.Load(base)
	env, _ := e.(*Env)
	return env
}
