package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

// Issue 12, branch administration through the command: add and set are
// validated as the API validates them (R-CAP-2 with its rule id, a window
// closing before it opens per field), add refuses an existing code, set
// an unknown one, and every change is recorded with the operator.
func TestBranchCommand(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("CIHUI_DATA_DIR", t.TempDir())
	t.Setenv("NATS_URL", "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("CIHUI_NATS_LISTEN", addr)
	ctx := context.Background()

	if err := run(ctx, []string{"branch", "add", "nanshan", "--name", "南山分校", "--committee", "某市小組", "--cap", "40"}); err != nil {
		t.Fatalf("branch add: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"class_norms":{"classes":8,"min_classes_per_grade":2,"max_classes_per_grade":3,"min_per_class":8,"max_per_class":20}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	window := filepath.Join(t.TempDir(), "window.json")
	if err := os.WriteFile(window, []byte(`{"overrides":{"115":{"start_of_year":{"opens":"2026-05-14","closes":"2026-04-12"}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		code  domain.Code
		field string
	}{
		{[]string{"branch", "set", "nanshan", "--file", bad}, domain.ERule, ""},
		{[]string{"branch", "set", "nanshan", "--file", window}, domain.EInvalid, "overrides.115.start_of_year"},
		{[]string{"branch", "add", "nanshan", "--name", "x", "--committee", "y"}, domain.EConflict, ""},
		{[]string{"branch", "set", "nosuch", "--cap", "30"}, domain.ENotFound, ""},
		{[]string{"branch", "add", "other"}, domain.EInvalid, "name"},
	} {
		err := run(ctx, c.args)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != c.code || (c.field != "" && de.Fields[c.field] == "") || (c.code == domain.ERule && de.Rule != "R-CAP-2") {
			t.Errorf("%v: %v, want %s %s", c.args, err, c.code, c.field)
		}
	}
	if err := run(ctx, []string{"branch", "set", "nanshan", "--cap", "45"}); err != nil {
		t.Fatalf("branch set: %v", err)
	}
	for _, args := range [][]string{{"branch", "list"}, {"branch", "show", "nanshan"}, {"branch", "history", "nanshan"}} {
		if err := run(ctx, args); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}

	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := postgres.NewBranches(db)
	b, ok, err := store.Get(ctx, "nanshan")
	if err != nil || !ok || b.Cap != 45 || b.Name != "南山分校" || b.ClassNorms != domain.DefaultClassNorms() {
		t.Fatalf("stored branch: %+v %v %v", b, ok, err)
	}
	h, err := store.History(ctx, "nanshan")
	if err != nil || len(h) != 2 || h[0].Before != nil || h[1].Before.Cap != 40 || h[1].After.Cap != 45 || h[1].ActorRole != "admin" || h[1].ActorID == "" {
		t.Fatalf("recorded changes: %+v %v", h, err)
	}
}
