package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

const peopleUsage = "people list [--removed] | show ID | history ID | invite --name N --email E --role R[:SCOPE]… [--reminders daily|weekly|off] [--oidc-subject S] | set ID [--name N] [--email E] [--role R[:SCOPE]…] [--reminders F] [--oidc-subject S] | suspend ID | reinstate ID | remove ID | token ID --role R[:SCOPE] [--label L] [--expires YYYY-MM-DD] | tokens ID | password ID (reads the password from stdin) | totp ID [--code C] | totp ID --reset"

// roleFlags collects --role values: ROLE, ROLE:SCHOOL (origin_school) or
// ROLE:BRANCH (branch staff).
type roleFlags []domain.Scope

func (r *roleFlags) String() string { return fmt.Sprint(*r) }

func (r *roleFlags) Set(v string) error {
	role, scope, _ := strings.Cut(v, ":")
	s := domain.Scope{Role: events.Role(role)}
	switch s.Role {
	case domain.RoleOriginSchool:
		s.School = scope
	default:
		s.Branch = scope
	}
	*r = append(*r, s)
	return nil
}

// People runs `api people …`: invite, list, change, suspend, reinstate
// and remove people, and issue them tokens. Every change is recorded with
// the operator as the actor, as through /v1/people. It uses the running
// API's database when there is one. Names and e-mail addresses are
// printed by list and show only, to the operator's terminal.
func (m *Main) People(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) == 0 {
		return errors.New(peopleUsage)
	}
	sub, args := args[0], args[1:]
	var id string
	if sub != "list" && sub != "invite" {
		if len(args) == 0 {
			return errors.New(peopleUsage)
		}
		id, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("people "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "the person's name")
	email := fs.String("email", "", "the person's e-mail address (reminders go there)")
	reminders := fs.String("reminders", "", "reminder digest: daily, weekly or off")
	subject := fs.String("oidc-subject", "", "the OpenID Connect claim value the person signs in with")
	label := fs.String("label", "", "a label to recognise a token by")
	expires := fs.String("expires", "", "the day a token expires (YYYY-MM-DD, Asia/Taipei)")
	removed := fs.Bool("removed", false, "list removed people too")
	code := fs.String("code", "", "totp: the authenticator's current code, to confirm the enrolment")
	reset := fs.Bool("reset", false, "totp: clear the person's second factor (and end their sessions)")
	var rs roleFlags
	fs.Var(&rs, "role", "a role: ROLE, origin_school:SCHOOL or social_worker:BRANCH (repeatable)")
	pos, err := config.ParseAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("people %s: unexpected arguments %q", sub, pos)
	}
	if _, err := m.useRunning(); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	if err := postgres.NewBranches(m.db).EnsureDefault(ctx); err != nil {
		return err
	}
	store := postgres.NewPeople(m.db)
	admin := events.Actor{Role: domain.RoleAdmin, UserID: operator()}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	var p domain.Staff
	switch sub {
	case "list":
		list, err := store.List(ctx, *removed)
		if err != nil {
			return err
		}
		for _, p := range list {
			fmt.Printf("%s\t%s\t%s\t%s\t%s\n", p.ID, p.Status, scopes(p.Roles), p.Name, p.Email)
		}
		return nil
	case "show":
		p, err = store.Get(ctx, id)
	case "history":
		h, err := store.History(ctx, id)
		if err != nil {
			return err
		}
		return out.Encode(h)
	case "invite":
		p, err = store.Invite(ctx, admin, domain.Staff{Name: *name, Email: *email, Roles: rs, Reminders: *reminders, Subject: *subject})
	case "set":
		var patch postgres.PersonPatch
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				patch.Name = name
			case "email":
				patch.Email = email
			case "reminders":
				patch.Reminders = reminders
			case "oidc-subject":
				patch.Subject = subject
			case "role":
				r := []domain.Scope(rs)
				patch.Roles = &r
			}
		})
		p, err = store.Change(ctx, admin, id, patch)
	case "suspend":
		p, err = store.SetStatus(ctx, admin, id, domain.PersonSuspended)
	case "reinstate":
		p, err = store.SetStatus(ctx, admin, id, domain.PersonActive)
	case "remove":
		p, err = store.SetStatus(ctx, admin, id, domain.PersonRemoved)
	case "token":
		return m.personToken(ctx, id, rs, *label, *expires)
	case "password":
		pw, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && pw == "" {
			return errors.New("people password: write the password to stdin")
		}
		if err := postgres.NewLogins(m.db, postgres.LoginPolicy{}).ResetPassword(ctx, admin, id, strings.TrimRight(pw, "\r\n")); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "password set; the person's sessions are ended")
		return nil
	case "totp":
		logins := postgres.NewLogins(m.db, postgres.LoginPolicy{})
		if *reset {
			if err := logins.ResetTOTP(ctx, admin, id); err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "second factor cleared; the person's sessions are ended")
			return nil
		}
		if *code != "" {
			if err := logins.ConfirmTOTP(ctx, admin, id, *code, time.Now()); err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "second factor enrolled")
			return nil
		}
		_, url, err := logins.BeginTOTP(ctx, id)
		if err != nil {
			return err
		}
		fmt.Printf("%s\n(add it to the authenticator app, then: people totp %s --code CODE)\n", url, id)
		return nil
	case "tokens":
		list, err := postgres.NewTokens(m.db).OfPerson(ctx, id)
		if err != nil {
			return err
		}
		for _, t := range list {
			fmt.Printf("%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.School, t.Branch, t.Label)
		}
		return nil
	default:
		return fmt.Errorf("people: unknown subcommand %q", sub)
	}
	if err != nil {
		return err
	}
	return out.Encode(p)
}

// personToken issues a token to a person for one of their roles.
func (m *Main) personToken(ctx context.Context, id string, rs roleFlags, label, expires string) error {
	if len(rs) != 1 {
		return errors.New("people token ID --role R[:SCOPE]: exactly one role")
	}
	info := postgres.TokenInfo{PersonID: id, Role: rs[0].Role, School: rs[0].School, Branch: rs[0].Branch, Label: label}
	if info.Branch == "" && (info.Role == domain.RoleSocialWorker || info.Role == domain.RoleCommittee) {
		info.Branch = domain.DefaultBranchCode
	}
	if expires != "" {
		d, err := time.ParseInLocation("2006-01-02", expires, domain.Taipei)
		if err != nil {
			return domain.Invalid(map[string]string{"expires": "must be a date YYYY-MM-DD"})
		}
		info.ExpiresAt = &d
	}
	t, tid, err := postgres.NewTokens(m.db).Create(ctx, info)
	if err != nil {
		return err
	}
	fmt.Printf("id: %s\ntoken: %s\n(the token is shown once; store it safely)\n", tid, t)
	return nil
}

func scopes(rs []domain.Scope) string {
	var out []string
	for _, r := range rs {
		s := string(r.Role)
		if r.School != "" {
			s += ":" + r.School
		} else if r.Branch != "" {
			s += ":" + r.Branch
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}
