package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"

	"cihui/internal/backup"
	"cihui/internal/domain"
	"cihui/internal/domain/twid"
	"cihui/internal/events"
	"cihui/internal/pgtest"
	"cihui/internal/projections"
	"cihui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// nationalID returns a made-up national ID with a valid checksum.
func nationalID(t *testing.T, prefix string) string {
	t.Helper()
	for d := 0; d < 10; d++ {
		if id := fmt.Sprintf("%s%d", prefix, d); twid.Validate(id) == nil {
			return id
		}
	}
	t.Fatalf("no valid national ID starts %s", prefix)
	return ""
}

func must(t *testing.T, r testenv.Response, status int) testenv.Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// streamLast returns the last sequence of stream.
func streamLast(t *testing.T, nc *nats.Conn, stream string) uint64 {
	t.Helper()
	msg, err := nc.Request("$JS.API.STREAM.INFO."+stream, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		State struct {
			LastSeq uint64 `json:"last_seq"`
		} `json:"state"`
	}
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// caughtUp waits until the read models and the access log have applied
// the streams up to the given sequences.
func caughtUp(t *testing.T, db *sqlx.DB, events, access uint64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ev, ac uint64
		_ = db.Get(&ev, `SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)`, projections.Name)
		_ = db.Get(&ac, `SELECT coalesce((SELECT position FROM projection_checkpoints WHERE name = $1), 0)`, projections.AccessName)
		if ev >= events && ac >= access {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("read models at %d/%d, want %d/%d", ev, ac, events, access)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wrappedKey returns the stored (wrapped) data key of keyID.
func wrappedKey(t *testing.T, nc *nats.Conn, keyID string) []byte {
	t.Helper()
	m, err := nc.Request("$JS.API.DIRECT.GET.CIHUI_KEYS.cihui_keys.key."+keyID, nil, 5*time.Second)
	if err != nil || len(m.Data) < 32 {
		t.Fatalf("the wrapped key of %s: %v (%d bytes)", keyID, err, len(m.Data))
	}
	return m.Data
}

// snapshotContent returns a backup file's content, a snapshot
// decompressed (S2, the server's snapshot format), other files as they are.
func snapshotContent(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".snapshot") {
		r = s2.NewReader(f)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// The columns left out of the comparison: when the projector wrote a row,
// not what it wrote.
var whenWritten = map[string][]string{
	"projection_checkpoints": {"updated_at"},
	"projection_quarantine":  {"quarantined_at", "retried_at"},
	"projection_held":        {"held_at"},
}

// dumpAll returns every row of every table (goose's own aside) as JSON,
// table by table, in a stable order.
func dumpAll(t *testing.T, db *sqlx.DB) map[string][]string {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, tb := range tables {
		expr := "to_jsonb(t)"
		for _, c := range whenWritten[tb] {
			expr += " - '" + c + "'"
		}
		var rows []string
		if err := db.Select(&rows, fmt.Sprintf(`SELECT (%s)::text FROM %s t ORDER BY 1`, expr, tb)); err != nil {
			t.Fatal(err)
		}
		out[tb] = rows
	}
	return out
}

// Issue 12: a realistic history — referrals through intake, documents,
// home visit and first review, a meeting with resolutions and its close,
// an erasure, a calendar import, tokens of every role (one revoked), reads
// of personal data in the access log — is backed up beside the live
// system, the system is wiped (a new NATS server and data directory, a new
// database) and restored, and the projector rebuilds the read models from
// zero. Every table is identical, every token still works (the revoked
// one still does not), and the erased student's key is not in the
// restored key ring while a living student's is.
func TestBackupRestoreRebuildsIdenticalSystem(t *testing.T) {
	ctx := context.Background()
	src := testenv.New(t, testenv.Options{})
	type tok struct{ token, id string }
	tokens := map[events.Role]tok{}
	for _, r := range []events.Role{domain.RoleOriginSchool, domain.RoleSocialWorker, domain.RoleCommittee, domain.RoleBureau, domain.RoleAdmin} {
		school := ""
		if r == domain.RoleOriginSchool {
			school = "034501"
		}
		tk, id := src.TokenWithID(r, school)
		tokens[r] = tok{tk, id}
	}
	revoked, revokedID := src.TokenWithID(domain.RoleBureau, "")
	if err := src.Tokens.Revoke(ctx, revokedID); err != nil {
		t.Fatal(err)
	}
	admin, committee, sw := tokens[domain.RoleAdmin].token, tokens[domain.RoleCommittee].token, tokens[domain.RoleSocialWorker].token

	var ids []string
	for i, p := range []string{"A12345678", "B12345678", "C22345678", "D12345678", "E22345678"} {
		ids = append(ids, src.ReviewedCase("03450"+fmt.Sprint(1+i%2), domain.OutcomeRecommend, nationalID(t, p)))
	}
	caughtUp(t, src.DB, streamLast(t, src.NC, "CIHUI"), 0)
	r := must(t, src.Do("POST", "/v1/meetings", committee, map[string]any{"academic_year": 114, "kind": "march", "date": "2026-03-23"}), 201)
	meeting := r.JSON(t)["id"].(string)
	must(t, src.Do("POST", "/v1/meetings/"+meeting+"/open", committee, nil), 200)
	for _, id := range ids[:3] {
		must(t, src.Do("POST", "/v1/meetings/"+meeting+"/resolutions", committee, map[string]any{"case_id": id, "resolution": "admit"}), 200)
	}
	must(t, src.Do("POST", "/v1/meetings/"+meeting+"/resolutions", committee, map[string]any{"case_id": ids[3], "resolution": "reject", "reason": "未符資格"}), 200)
	must(t, src.Do("POST", "/v1/meetings/"+meeting+"/close", committee, map[string]any{"mid_year_reporting_date": "2026-04-07"}), 200)
	erased := ids[4]
	var erasedKey, livingKey string
	if err := src.DB.Get(&erasedKey, `SELECT person_key FROM case_retention WHERE case_id = $1`, erased); err != nil {
		t.Fatal(err)
	}
	if err := src.DB.Get(&livingKey, `SELECT person_key FROM case_retention WHERE case_id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	// The wrapped keys as stored, to look for them in the backup.
	erasedWrapped, livingWrapped := wrappedKey(t, src.NC, erasedKey), wrappedKey(t, src.NC, livingKey)
	must(t, src.Do("POST", "/v1/referrals/"+erased+"/erasure", admin, map[string]any{"reason": "data_subject_request"}), 200)
	// A recorded change of branch settings (branch_changes is source data).
	must(t, src.Do("PUT", "/v1/branches/"+domain.DefaultBranchCode, admin, map[string]any{"cap": 134}), 200)
	if csv, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "data", "tw-office-calendar", "114.csv")); err == nil {
		must(t, src.Do("PUT", "/v1/calendar/2025", admin, csv, "Content-Type", "text/csv"), 200)
	} else {
		t.Logf("no calendar file to import (%v): the history has no calendar import", err)
	}
	// CIHUI_BACKUP_TEST_EXTRA_CASES=N adds N more cases through the first
	// review, for figures at a larger volume.
	if n, _ := strconv.Atoi(os.Getenv("CIHUI_BACKUP_TEST_EXTRA_CASES")); n > 0 {
		for i := 0; i < n; i++ {
			extra := src.ReviewedCase("034501", domain.OutcomeRecommend, nationalID(t, fmt.Sprintf("F%d%07d", 1+i%2, i)))
			ids = append(ids, extra)
		}
	}
	for _, id := range ids[:2] { // reads of personal data: the access log
		must(t, src.Do("GET", "/v1/referrals/"+id, sw, nil), 200)
	}
	caughtUp(t, src.DB, streamLast(t, src.NC, "CIHUI"), streamLast(t, src.NC, "CIHUI_ACCESS"))
	if _, err := src.Keys.DataKey(ctx, erasedKey, false); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Fatalf("before the backup the erased key gives %v", err)
	}

	dir := filepath.Join(t.TempDir(), "backup")
	t0 := time.Now()
	m, err := backup.Backup(ctx, src.NC, src.DB, dir)
	if err != nil {
		t.Fatal(err)
	}
	backupSeconds := time.Since(t0).Seconds()
	if _, err := os.Stat(dir + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the temporary directory is left: %v", err)
	}
	// The erased student's wrapped key is in no file of the backup (the
	// snapshot of the key ring holds the securely deleted message
	// overwritten); the scan finds a living student's.
	snap := snapshotContent(t, filepath.Join(dir, "CIHUI_KEYS.snapshot"))
	if !bytes.Contains(snap, livingWrapped) {
		t.Fatal("scanner sanity: a living student's wrapped key is not found in the key-ring snapshot")
	}
	for _, f := range []string{"CIHUI.snapshot", "CIHUI_ACCESS.snapshot", "CIHUI_KEYS.snapshot", "api_tokens.jsonl", "branches.jsonl", "manifest.json"} {
		if bytes.Contains(snapshotContent(t, filepath.Join(dir, f)), erasedWrapped) {
			t.Errorf("the erased student's wrapped key is in the backup's %s", f)
		}
	}
	if _, err := backup.Backup(ctx, src.NC, src.DB, dir); err == nil {
		t.Fatal("a second backup into the same directory overwrote it")
	}
	want := dumpAll(t, src.DB)
	if m.Events() != streamLast(t, src.NC, "CIHUI") || m.Events() == 0 {
		t.Fatalf("manifest has %d events, the log %d", m.Events(), streamLast(t, src.NC, "CIHUI"))
	}
	if len(want["api_tokens"]) != 6 || len(want["cases"]) != len(ids) || len(want["meeting_resolutions"]) != 4 || len(want["access_log"]) == 0 || len(want["branch_changes"]) != 1 {
		t.Fatalf("the history is not what the test filed: %d tokens, %d cases, %d resolutions, %d access records",
			len(want["api_tokens"]), len(want["cases"]), len(want["meeting_resolutions"]), len(want["access_log"]))
	}

	// Wipe: a new server with its own data directory, a new database.
	t1 := time.Now()
	var restored backup.Manifest
	dst := testenv.New(t, testenv.Options{Master: src.Master, NoProjector: true,
		Restore: func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error {
			var err error
			restored, err = backup.Restore(ctx, nc, db, dir)
			return err
		}})
	dst.StartProjector()
	caughtUp(t, dst.DB, m.Streams[0].LastSeq, m.Streams[1].LastSeq)
	restoreSeconds := time.Since(t1).Seconds()
	if restored.Events() != m.Events() {
		t.Fatalf("restored %d events, backed up %d", restored.Events(), m.Events())
	}
	got := dumpAll(t, dst.DB)
	for tb, rows := range want {
		if strings.Join(got[tb], "\n") != strings.Join(rows, "\n") {
			t.Errorf("table %s differs after restore and rebuild:\n got %d rows %.600s\nwant %d rows %.600s", tb, len(got[tb]), strings.Join(got[tb], "\n"), len(rows), strings.Join(rows, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d tables after restore, %d before", len(got), len(want))
	}

	// Every token works against the restored API; the revoked one does not.
	for role, tk := range tokens {
		if r := dst.Do("GET", "/v1/referrals", tk.token, nil); r.Status == 401 || r.Status >= 500 {
			t.Errorf("%s's token after restore: %d %s", role, r.Status, r.Body)
		}
	}
	if r := dst.Do("GET", "/v1/referrals", revoked, nil); r.Status != 401 {
		t.Errorf("the revoked token after restore: %d", r.Status)
	}
	// The erased student stays erased; a living one opens.
	if _, err := dst.Keys.DataKey(ctx, erasedKey, false); !errors.Is(err, events.ErrKeyDestroyed) {
		t.Errorf("the erased student's key after restore: %v, want destroyed", err)
	}
	if k, err := dst.Keys.DataKey(ctx, livingKey, false); err != nil || len(k) == 0 {
		t.Errorf("a living student's key after restore: %v", err)
	}
	r = must(t, dst.Do("GET", "/v1/referrals/"+ids[0], sw, nil), 200)
	if p, _ := r.JSON(t)["student"].(map[string]any); p == nil {
		t.Errorf("a living student's record does not open after restore: %s", r.Body)
	}

	// Never over live data: a second restore into the restored system is
	// refused and changes nothing.
	if _, err := backup.Restore(ctx, dst.NC, dst.DB, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a restore over the restored system: %v, want a refusal", err)
	}
	if again := dumpAll(t, dst.DB); strings.Join(again["api_tokens"], "\n") != strings.Join(want["api_tokens"], "\n") {
		t.Error("the refused restore changed the tokens")
	}

	figures, _ := json.Marshal(map[string]any{
		"backup_bytes": m.Size(dir), "backup_seconds": backupSeconds, "restore_and_rebuild_seconds": restoreSeconds,
		"events_restored": restored.Events(), "access_records_restored": m.Streams[1].Messages, "key_ring_messages": m.Streams[2].Messages,
	})
	t.Logf("figures %s", figures)
}

// A backup whose file was changed, or that gained a file, is refused
// before anything is restored.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	ctx := context.Background()
	src := testenv.New(t, testenv.Options{NoProjector: true})
	src.Token(domain.RoleAdmin, "")
	dir := filepath.Join(t.TempDir(), "backup")
	m, err := backup.Backup(ctx, src.NC, src.DB, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backup.ReadManifest(dir); err != nil {
		t.Fatalf("the intact backup: %v", err)
	}
	for _, damage := range []struct {
		name string
		do   func(dir string) error
	}{
		{"a changed byte", func(dir string) error {
			p := filepath.Join(dir, m.Streams[0].File)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o600)
		}},
		{"a changed token row", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "api_tokens.jsonl"), []byte("{}\n"), 0o600)
		}},
		{"a file not in the manifest", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "extra.jsonl"), nil, 0o600)
		}},
		{"a missing file", func(dir string) error { return os.Remove(filepath.Join(dir, "branches.jsonl")) }},
	} {
		t.Run(damage.name, func(t *testing.T) {
			copyDir := filepath.Join(t.TempDir(), "b")
			if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
				t.Fatal(err)
			}
			if err := damage.do(copyDir); err != nil {
				t.Fatal(err)
			}
			if _, err := backup.ReadManifest(copyDir); err == nil {
				t.Fatal("the damaged backup was accepted")
			}
			dst := testenv.New(t, testenv.Options{NoProjector: true, Master: src.Master,
				Restore: func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error {
					if _, err := backup.Restore(ctx, nc, db, copyDir); err == nil {
						t.Error("the damaged backup was restored")
					}
					return nil
				}})
			var n int
			if err := dst.DB.Get(&n, `SELECT count(*) FROM api_tokens`); err != nil || n != 0 {
				t.Errorf("after the refused restore: %d tokens (%v)", n, err)
			}
		})
	}
}

// A backup of a three-replica cluster restores on a single server when
// the target's replica count is given (the stream configs are otherwise
// restored as they were); without it the server refuses.
func TestRestoreSetsTheTargetsReplicas(t *testing.T) {
	ctx := context.Background()
	src := testenv.New(t, testenv.Options{NoProjector: true})
	src.ReviewedCase("034501", domain.OutcomeRecommend, "A123456789")
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := backup.Backup(ctx, src.NC, src.DB, dir); err != nil {
		t.Fatal(err)
	}
	// As if taken on the cluster: the manifest's configs say 3 replicas
	// (the manifest is not among the checksummed files).
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m["streams"].([]any) {
		s.(map[string]any)["config"].(map[string]any)["num_replicas"] = 3
	}
	b, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.New(t, testenv.Options{NoProjector: true, Master: src.Master,
		Restore: func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error {
			if _, err := backup.Restore(ctx, nc, db, dir); err == nil {
				t.Error("a three-replica stream was restored on a single server")
			}
			return nil
		}})
	dst := testenv.New(t, testenv.Options{NoProjector: true, Master: src.Master,
		Restore: func(ctx context.Context, nc *nats.Conn, db *sqlx.DB) error {
			_, err := backup.RestoreWith(ctx, nc, db, dir, backup.Options{Replicas: 1})
			return err
		}})
	if got, want := streamLast(t, dst.NC, "CIHUI"), streamLast(t, src.NC, "CIHUI"); got != want || got == 0 {
		t.Fatalf("restored log ends at %d, want %d", got, want)
	}
}
