// Package backup takes and restores a consistent backup of what the
// system cannot rebuild: the event log (stream CIHUI), the access log
// (CIHUI_ACCESS) and the data-key ring (CIHUI_KEYS) as JetStream
// snapshots, and the PostgreSQL tables that are source data (tokens and
// branches) as JSON lines. Calendar imports and office closures are
// events, so they come with the event log. The read models are not backed
// up: the projector rebuilds them from the log.
//
// The key ring holds data keys wrapped under the master key; the master
// key itself is never in a backup, and a backup opens nothing without it.
package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nats-io/nats.go"

	"cihui/internal/postgres"
)

// Format is the version of the backup layout.
const Format = 1

// Streams are the streams a backup holds, in the order they are
// snapshotted: the key ring last, so that every key an event of the
// backup names was written before its snapshot.
var Streams = []string{"CIHUI", "CIHUI_ACCESS", "CIHUI_KEYS"}

// Tables are the PostgreSQL tables that are source data. Every other
// table is a read model (or the projector's checkpoints and quarantine)
// and is rebuilt from the streams.
var Tables = []string{"branches", "branch_changes", "people", "people_changes", "api_tokens"}

// Manifest describes a backup. It is written last, as manifest.json.
type Manifest struct {
	Format        int               `json:"format"`
	CreatedAt     time.Time         `json:"created_at"`
	Program       string            `json:"program"`
	NATSServer    string            `json:"nats_server"`
	SchemaVersion int64             `json:"schema_version"`
	Streams       []StreamEntry     `json:"streams"`
	Tables        []TableEntry      `json:"tables"`
	Files         map[string]string `json:"sha256"`
	MasterKey     string            `json:"master_key"`
}

// StreamEntry is one stream's snapshot.
type StreamEntry struct {
	Name     string          `json:"name"`
	File     string          `json:"file"`
	Messages uint64          `json:"messages"`
	FirstSeq uint64          `json:"first_seq"`
	LastSeq  uint64          `json:"last_seq"`
	Config   json.RawMessage `json:"config"`
	State    json.RawMessage `json:"state"`
}

// TableEntry is one table's rows.
type TableEntry struct {
	Name string `json:"name"`
	File string `json:"file"`
	Rows int    `json:"rows"`
}

// Size is the total size of the backup's files in bytes.
func (m Manifest) Size(dir string) int64 {
	var n int64
	for f := range m.Files {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil {
			n += fi.Size()
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		n += fi.Size()
	}
	return n
}

// Events is the number of events in the backup's event log.
func (m Manifest) Events() uint64 {
	for _, s := range m.Streams {
		if s.Name == "CIHUI" {
			return s.Messages
		}
	}
	return 0
}

const masterKeyNote = "not included: the data keys in CIHUI_KEYS are wrapped under the master key, kept apart; without it this backup opens no personal data"

// Backup writes a backup into dir, which must not exist: into dir.tmp
// first, renamed to dir when complete, so that dir is a whole backup or
// absent. It runs beside a live system: each stream snapshot is
// consistent in itself, the tables are read in one repeatable-read
// transaction.
func Backup(ctx context.Context, nc *nats.Conn, db *sqlx.DB, dir string) (Manifest, error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); err == nil {
		return Manifest{}, fmt.Errorf("backup: %s exists; a backup never overwrites one", dir)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil { // a failed earlier run
		return Manifest{}, err
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return Manifest{}, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	m := Manifest{
		Format: Format, CreatedAt: time.Now().UTC(), Program: program(), NATSServer: nc.ConnectedServerVersion(),
		Files: map[string]string{}, MasterKey: masterKeyNote,
	}
	for _, s := range Streams {
		name := s + ".snapshot"
		var resp snapshotResponse
		sum, err := writeFile(filepath.Join(tmp, name), func(w io.Writer) error {
			var err error
			resp, err = snapshot(ctx, nc, s, w)
			return err
		})
		if err != nil {
			return Manifest{}, err
		}
		var st streamState
		if err := json.Unmarshal(resp.State, &st); err != nil {
			return Manifest{}, fmt.Errorf("backup: state of %s: %w", s, err)
		}
		m.Files[name] = sum
		m.Streams = append(m.Streams, StreamEntry{Name: s, File: name, Messages: st.Messages, FirstSeq: st.FirstSeq, LastSeq: st.LastSeq, Config: resp.Config, State: resp.State})
	}
	v, _, err := postgres.MigrationStatus(ctx, db)
	if err != nil {
		return Manifest{}, err
	}
	m.SchemaVersion = v
	tx, err := db.BeginTxx(ctx, &sqlTxReadOnly)
	if err != nil {
		return Manifest{}, err
	}
	defer func() { _ = tx.Rollback() }()
	for _, t := range Tables {
		name := t + ".jsonl"
		rows := 0
		sum, err := writeFile(filepath.Join(tmp, name), func(w io.Writer) error {
			var err error
			rows, err = dumpTable(ctx, tx, t, w)
			return err
		})
		if err != nil {
			return Manifest{}, fmt.Errorf("backup: table %s: %w", t, err)
		}
		m.Files[name] = sum
		m.Tables = append(m.Tables, TableEntry{Name: t, File: name, Rows: rows})
	}
	_ = tx.Rollback()
	b, _ := json.MarshalIndent(m, "", "  ")
	if _, err := writeFile(filepath.Join(tmp, "manifest.json"), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return Manifest{}, err
	}
	if err := syncDir(tmp); err != nil {
		return Manifest{}, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Manifest{}, err
	}
	ok = true
	return m, syncDir(filepath.Dir(dir))
}

// program names the build that took the backup.
func program() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "cihui"
	}
	s := bi.Main.Path + " " + bi.Main.Version + " " + bi.GoVersion
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.revision" {
			s += " " + kv.Value
		}
	}
	return s
}

// writeFile writes path through fill, syncs it and returns its sha256.
func writeFile(path string, fill func(io.Writer) error) (string, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 256*1024)
	if err := fill(bw); err != nil {
		return "", err
	}
	if err := bw.Flush(); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// fileSum returns the sha256 of a file.
func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ReadManifest reads dir's manifest and checks every file against its
// checksum; a file missing, changed or not named by the manifest is an
// error.
func ReadManifest(dir string) (Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return Manifest{}, fmt.Errorf("restore: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, fmt.Errorf("restore: manifest.json: %w", err)
	}
	if m.Format != Format {
		return Manifest{}, fmt.Errorf("restore: backup format %d, this program reads %d", m.Format, Format)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Manifest{}, err
	}
	var extra []string
	for _, e := range entries {
		if _, ok := m.Files[e.Name()]; !ok && e.Name() != "manifest.json" {
			extra = append(extra, e.Name())
		}
	}
	if len(extra) > 0 {
		return Manifest{}, fmt.Errorf("restore: files not in the manifest: %v", extra)
	}
	names := make([]string, 0, len(m.Files))
	for f := range m.Files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if filepath.Base(f) != f {
			return Manifest{}, fmt.Errorf("restore: bad file name %q in the manifest", f)
		}
		sum, err := fileSum(filepath.Join(dir, f))
		if err != nil {
			return Manifest{}, fmt.Errorf("restore: %w", err)
		}
		if sum != m.Files[f] {
			return Manifest{}, fmt.Errorf("restore: %s does not match its checksum: the backup is damaged", f)
		}
	}
	for _, s := range m.Streams {
		if _, ok := m.Files[s.File]; !ok {
			return Manifest{}, fmt.Errorf("restore: stream %s: file %s has no checksum", s.Name, s.File)
		}
	}
	for _, t := range m.Tables {
		if _, ok := m.Files[t.File]; !ok {
			return Manifest{}, fmt.Errorf("restore: table %s: file %s has no checksum", t.Name, t.File)
		}
	}
	return m, nil
}

var errNotEmpty = errors.New("restore: the target is not empty")
