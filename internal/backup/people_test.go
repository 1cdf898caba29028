package backup_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"

	"cihui/internal/backup"
	"cihui/internal/domain"
	"cihui/internal/testenv"
)

// Issue 14: a backup taken before people (migration 00019) restores: its
// tokens without a person get one each, named after the label, and keep
// working with the person's id as their actor.
func TestRestoreOfABackupBeforePeopleGivesTokensPeople(t *testing.T) {
	ctx := context.Background()
	src := testenv.New(t, testenv.Options{NoProjector: true})
	tok, tokID := src.TokenWithID(domain.RoleSocialWorker, "")
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := backup.Backup(ctx, src.NC, src.DB, dir); err != nil {
		t.Fatal(err)
	}
	// Make it look as the code before people wrote it: no people tables,
	// tokens without person_id and expires_at.
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var tables []any
	for _, tb := range m["tables"].([]any) {
		name := tb.(map[string]any)["name"].(string)
		if name == "people" || name == "people_changes" {
			file := tb.(map[string]any)["file"].(string)
			delete(m["sha256"].(map[string]any), file)
			if err := os.Remove(filepath.Join(dir, file)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		tables = append(tables, tb)
	}
	m["tables"] = tables
	tokFile := filepath.Join(dir, "api_tokens.jsonl")
	f, err := os.Open(tokFile)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		delete(row, "person_id")
		delete(row, "expires_at")
		b, _ := json.Marshal(row)
		lines = append(lines, string(b))
	}
	f.Close()
	body := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(tokFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	m["sha256"].(map[string]any)["api_tokens.jsonl"] = hex.EncodeToString(sum[:])
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}

	dst := testenv.New(t, testenv.Options{Master: src.Master, NoProjector: true,
		Restore: func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error {
			_, err := backup.Restore(ctx, nc, db, dir)
			return err
		}})
	pid, err := dst.Tokens.PersonOf(ctx, tokID)
	if err != nil || !strings.HasPrefix(pid, "per_") {
		t.Fatalf("the restored token's person: %q, %v", pid, err)
	}
	a, err := dst.Tokens.Authenticate(ctx, tok)
	if err != nil || a.UserID != pid {
		t.Fatalf("the restored token: %+v, %v", a, err)
	}
	var names []string
	if err := dst.DB.Select(&names, `SELECT name FROM people`); err != nil || !slices.Contains(names, tokID) {
		t.Fatalf("people after the restore: %v, %v", names, err)
	}
}
