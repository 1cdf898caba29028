package main

import (
	"context"
	"errors"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Issue 7, finding 6, through the command itself: `api token create`
// refuses a branch that is not configured and a malformed school code,
// and issues a token for the default branch of a fresh system.
func TestTokenCreateCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", pgtest.NewDatabase(t))
	t.Setenv("CIHUI_DATA_DIR", t.TempDir())
	ctx := context.Background()
	for _, c := range []struct {
		args  []string
		field string
	}{
		{[]string{"token", "create", "--role", "social_worker", "--branch", "nosuchbranch"}, "branch"},
		{[]string{"token", "create", "--role", "origin_school", "--school", "34501"}, "school"},
		{[]string{"token", "create", "--role", "origin_school", "--school", "school-a"}, "school"},
	} {
		err := run(ctx, c.args)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EInvalid || de.Fields[c.field] == "" {
			t.Errorf("%v: %v, want invalid %s", c.args, err, c.field)
		}
	}
	for _, args := range [][]string{
		{"token", "create", "--role", "social_worker"}, // the default branch
		{"token", "create", "--role", "origin_school", "--school", "034501"},
	} {
		if err := run(ctx, args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}
