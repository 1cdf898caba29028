package main

import (
	"context"
	"os"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// Issue 14: `api people` invites, changes, suspends and removes people
// and issues them tokens; each change is recorded with the operator as
// the actor, and a removed person's token is refused.
func TestPeopleCommand(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("CIHUI_DATA_DIR", t.TempDir())
	ctx := context.Background()
	if err := run(ctx, []string{"people", "invite", "--name", "吳委員", "--email", "wu@example.edu.tw",
		"--role", "committee", "--role", "social_worker:" + domain.DefaultBranchCode, "--reminders", "daily"}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"people", "invite", "--name", "x", "--role", "origin_school"}); err == nil {
		t.Error("an origin_school role without a school was accepted")
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	people := postgres.NewPeople(db)
	list, err := people.List(ctx, false)
	if err != nil || len(list) != 1 {
		t.Fatalf("people: %v, %v", list, err)
	}
	p := list[0]
	if len(p.Roles) != 2 || p.Reminders != "daily" {
		t.Fatalf("the invited person: %+v", p)
	}
	for _, args := range [][]string{
		{"people", "set", p.ID, "--reminders", "off"},
		{"people", "token", p.ID, "--role", "committee", "--label", "meeting laptop"},
		{"people", "suspend", p.ID},
		{"people", "reinstate", p.ID},
		{"people", "list"},
		{"people", "show", p.ID},
		{"people", "history", p.ID},
		{"people", "tokens", p.ID},
	} {
		if err := run(ctx, args); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	toks, err := postgres.NewTokens(db).OfPerson(ctx, p.ID)
	if err != nil || len(toks) != 1 || toks[0].Branch != domain.DefaultBranchCode {
		t.Fatalf("tokens: %+v, %v", toks, err)
	}
	// A password from stdin, checked against the policy.
	for _, c := range []struct {
		pw string
		ok bool
	}{{"Password2026!", false}, {"a long enough passphrase", true}} {
		r, w, _ := os.Pipe()
		_, _ = w.WriteString(c.pw + "\n")
		w.Close()
		old := os.Stdin
		os.Stdin = r
		err := run(ctx, []string{"people", "password", p.ID})
		os.Stdin = old
		if (err == nil) != c.ok {
			t.Errorf("password %q: %v", c.pw, err)
		}
	}
	if got, _ := people.Get(ctx, p.ID); !got.Password {
		t.Error("the password was not set")
	}
	if err := run(ctx, []string{"people", "remove", p.ID}); err != nil {
		t.Fatal(err)
	}
	if toks, _ := postgres.NewTokens(db).OfPerson(ctx, p.ID); len(toks) != 0 {
		t.Fatal("a removed person keeps tokens")
	}
	h, err := people.History(ctx, p.ID)
	if err != nil || len(h) != 6 || h[5].After.Status != domain.PersonRemoved || h[5].ActorRole != "admin" || h[5].ActorID == "" {
		t.Fatalf("history: %+v, %v", h, err)
	}
}
