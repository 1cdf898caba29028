package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/domain/twid"
	"cihui/internal/postgres"
)

// atRestPerson is a made-up student whose every personal value is
// distinctive, so that a byte scan of the data directory finds it.
type atRestPerson struct {
	tag                                     string
	name, guardian, nationalID, address     string
	reason, checklistNote, visitNote        string
	caseID                                  string
	kids                                    map[string]bool // key ids of the person's sealed values
	plaintexts                              []string
	sealedFound, sealedOpened, keyLocations int
}

func newAtRestPerson(t *testing.T, tag, surname, idPrefix string) *atRestPerson {
	p := &atRestPerson{
		tag:           tag,
		name:          surname + "霽棠",
		guardian:      surname + "霽川",
		nationalID:    validNationalID(t, idPrefix),
		address:       "臺中市霧峰區" + surname + "家巷" + tag + "號",
		reason:        "ATREST-" + tag + "-申請原因：長期夜間照顧弟妹",
		checklistNote: "ATREST-" + tag + "-檢核備註：母親夜班",
		visitNote:     "ATREST-" + tag + "-家訪紀錄：租屋處漏水",
		kids:          map[string]bool{},
	}
	p.plaintexts = []string{p.name, p.guardian, p.nationalID, p.address, p.reason, p.checklistNote, p.visitNote}
	return p
}

// validNationalID completes prefix (9 characters) with its check digit.
func validNationalID(t *testing.T, prefix string) string {
	for d := range 10 {
		if id := fmt.Sprintf("%s%d", prefix, d); twid.Validate(id) == nil {
			return id
		}
	}
	t.Fatalf("no check digit completes %s", prefix)
	return ""
}

// Issue 8, acceptance: over a real `make run`-style data directory (the
// API's Main with its local PostgreSQL cluster, fsync on, and embedded
// NATS with file storage; the projector binary), a student is filed with
// notes, visited and erased; PostgreSQL is checkpointed and everything
// stopped; then every file under the data directory is scanned for the
// plaintext, and every sealed value found in it is tried against the
// master key with whatever key material the files hold. A student never
// erased is scanned the same way: no plaintext either, but their sealed
// values do open (the scanner works).
//
// The two sources are reported apart: plaintext (read models, logs, any
// file) and key material (the erased person's data key recoverable from
// the files).
func TestAtRestErasedStudentLeavesNothingReadable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system on a data directory and builds the projector")
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	t.Setenv("CIHUI_MASTER_KEY", base64.StdEncoding.EncodeToString(master))
	dir := atRestDataDir(t)

	erased := newAtRestPerson(t, "A", "龔", "K20073184")
	kept := newAtRestPerson(t, "B", "闕", "K10582736")
	sys := startAtRestSystem(t, dir)

	for _, p := range []*atRestPerson{erased, kept} {
		sys.fileAndVisit(t, p)
	}
	keyRing := sys.erase(t, erased)
	sys.checkpointAndStop(t)

	files := readDataDir(t, dir)
	t.Logf("scanned %d files, %d bytes, under the data directory", len(files), totalSize(files))

	t.Run("no plaintext at rest", func(t *testing.T) {
		// The scanner works: the origin school's code, kept in the clear,
		// is found in the PostgreSQL heap and in the NATS store.
		seen := map[string]bool{}
		for _, h := range plaintextHits(files, []string{"034501"}) {
			seen[area(h.file)] = true
		}
		if !seen["PostgreSQL heap"] || !seen["NATS store"] {
			t.Fatalf("scanner sanity: the school code was found only in %v", seen)
		}
		for _, p := range []*atRestPerson{erased, kept} {
			hits := plaintextHits(files, p.plaintexts)
			for _, h := range hits {
				t.Errorf("student %s: plaintext value #%d (%s) found in %s (%s)", p.tag, h.value, h.form, h.file, area(h.file))
			}
			t.Logf("student %s: %d plaintext hits", p.tag, len(hits))
		}
	})

	t.Run("no sealed value of the erased student opens", func(t *testing.T) {
		blobs := findSealed(files)
		keys := recoverDataKeys(files, master, blobs)
		for _, b := range blobs {
			for _, p := range []*atRestPerson{erased, kept} {
				if !p.kids[b.kid] {
					continue
				}
				p.sealedFound++
				if k, ok := keys[b.kid]; ok && b.opens(k.key) {
					p.sealedOpened++
				}
			}
		}
		for _, p := range []*atRestPerson{erased, kept} {
			for _, k := range keys {
				if p.kids[k.kid] {
					p.keyLocations = len(k.files)
				}
			}
			t.Logf("student %s: %d sealed values found in the files, %d open with the master key; data key recoverable from %d files",
				p.tag, p.sealedFound, p.sealedOpened, p.keyLocations)
		}
		// The scanner works: it finds both students' sealed values, and
		// the living student's open.
		if erased.sealedFound < 3 || kept.sealedFound < 3 || kept.sealedOpened != kept.sealedFound {
			t.Fatalf("scanner sanity: found %d sealed values of A and %d of B, %d of B open; want ≥3 each and all of B's open "+
				"(if the key ring's wrapping changed, update unwrapCandidates)", erased.sealedFound, kept.sealedFound, kept.sealedOpened)
		}
		if erased.sealedOpened > 0 {
			var where []string
			for _, k := range keys {
				if erased.kids[k.kid] {
					where = k.files
				}
			}
			missing := "the key ring must keep keys where destruction overwrites the bytes"
			if keyRing.pgRows > 0 {
				missing = fmt.Sprintf("this build keeps the key ring in PostgreSQL (data_keys holds %d rows), whose heap and WAL keep the "+
					"destroyed key's wrapped bytes: the JetStream key ring with secure delete (CIHUI_KEYS, branch h/keys) is missing", keyRing.pgRows)
			}
			t.Errorf("key material: %d of the erased student's %d sealed values open with the master key; the wrapped data key was "+
				"recovered from %v; %s", erased.sealedOpened, erased.sealedFound, where, missing)
		}
	})
}

// atRestSystem is the API's Main (in this process, with a fixed clock)
// and the projector binary over one data directory.
type atRestSystem struct {
	dir       string
	api       string
	tokens    map[string]string
	db        *sqlx.DB
	stopAPI   func()
	projector *exec.Cmd
}

func atRestDataDir(t *testing.T) string {
	// Not t.TempDir: it is 0700, closed to the postgres user when root.
	dir, err := os.MkdirTemp("", "cihui-atrest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startAtRestSystem(t *testing.T, dir string) *atRestSystem {
	bin := filepath.Join(t.TempDir(), "projector")
	if out, err := exec.Command("go", "build", "-o", bin, "cihui/cmd/projector").CombinedOutput(); err != nil {
		t.Fatalf("building the projector: %v\n%s", err, out)
	}
	m := NewMain()
	if _, err := m.ParseFlags([]string{"--data-dir", dir, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1", "--dev", "--log-level", "error"}); err != nil {
		t.Fatal(err)
	}
	m.Clock = domain.ClockFunc(func() time.Time { return time.Date(2026, 2, 11, 9, 0, 0, 0, domain.Taipei) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	sys := &atRestSystem{dir: dir}
	sys.stopAPI = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("API: %v", err)
			}
			m.Close()
		})
	}
	t.Cleanup(sys.stopAPI)

	// The projector as `make run` starts it: it finds the services in
	// <data-dir>/endpoints.json, and it is given no master key.
	sys.projector = exec.Command(bin, "--data-dir", dir, "--metrics-addr", "", "--log-level", "error")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CIHUI_MASTER_KEY=") {
			sys.projector.Env = append(sys.projector.Env, kv)
		}
	}
	sys.projector.Stderr = os.Stderr
	if err := sys.projector.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.projector.Process.Kill(); _ = sys.projector.Wait() })

	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	ep, err := config.WaitEndpoints(wctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sys.api = ep.APIURL
	if sys.db, err = postgres.Open(wctx, ep.DatabaseURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.db.Close() })
	for sys.tokens == nil {
		if b, err := os.ReadFile(filepath.Join(dir, "dev-tokens.json")); err == nil {
			_ = json.Unmarshal(b, &sys.tokens)
		}
		if wctx.Err() != nil {
			t.Fatal("no dev tokens")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		if r, err := http.Get(sys.api + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		if wctx.Err() != nil {
			t.Fatal("the API did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sys
}

func (s *atRestSystem) do(t *testing.T, method, path, role string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.tokens[role])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *atRestSystem) must(t *testing.T, want int, method, path, role string, body any) map[string]any {
	t.Helper()
	status, out := s.do(t, method, path, role, body)
	if status != want {
		t.Fatalf("%s %s as %s = %d, want %d: %v", method, path, role, status, want, out["detail"])
	}
	return out
}

// fileAndVisit files p's referral with an application reason, checks a
// checklist item with a note, logs the home visit with a note, and reads
// it all back through the API (which opens the sealed values).
func (s *atRestSystem) fileAndVisit(t *testing.T, p *atRestPerson) {
	t.Helper()
	res := s.must(t, http.StatusCreated, "POST", "/v1/referrals", "origin_school", map[string]any{
		"route": "mid_year", "channel": "direct", "grade": 8,
		"student":  map[string]any{"name": p.name, "sex": "F", "birth_date": "2012-05-01", "national_id": p.nationalID},
		"guardian": map[string]any{"name": p.guardian, "relationship": "母"},
		"family": map[string]any{"current_address": p.address, "housing": "租賃", "economy": "清寒",
			"living_types": []string{"離異依母"}, "vulnerable_or_child_protection": true},
		"grounds": []string{"family_dysfunction"}, "crisis_type": "single_parent",
		"guardian_consent": true, "student_willing": true, "reason": p.reason,
	})
	p.caseID = res["id"].(string)
	ref := "/v1/referrals/" + p.caseID
	s.must(t, http.StatusOK, "PUT", ref+"/documents/1", "origin_school", map[string]any{"pages": 2})
	s.must(t, http.StatusOK, "PUT", ref+"/documents/1", "social_worker", map[string]any{"conforms": true, "note": p.checklistNote})
	res = s.must(t, http.StatusOK, "POST", ref+"/home-visits", "social_worker", map[string]any{"kind": "visit", "on": "2026-02-11", "note": p.visitNote})
	got := s.must(t, http.StatusOK, "GET", fmt.Sprintf("%s?min_position=%.0f", ref, res["position"]), "social_worker", nil)
	st, _ := got["student"].(map[string]any)
	doc := got["documents"].([]any)[0].(map[string]any)
	visits, _ := got["visit"].(map[string]any)["log"].([]any)
	if st == nil || st["name"] != p.name || st["national_id"] != p.nationalID || st["reason"] != p.reason ||
		doc["note"] != p.checklistNote || len(visits) != 1 || visits[0].(map[string]any)["note"] != p.visitNote {
		t.Fatalf("student %s does not read back opened: student %v, item 1 %v, visits %v", p.tag, st, doc, visits)
	}
	// The key ids of the student's sealed values, as the read models hold
	// them (test bookkeeping, to attribute what the scan finds); a build
	// whose read models hold plaintext has only the case's person key.
	var raws []string
	err := s.db.Select(&raws, `
		SELECT personal::text FROM case_personal WHERE case_id = $1
		UNION ALL SELECT note::text FROM case_documents WHERE case_id = $1 AND note IS NOT NULL
		UNION ALL SELECT note::text FROM case_visits WHERE case_id = $1 AND note IS NOT NULL`, p.caseID)
	if err != nil {
		t.Logf("the read models hold no sealed values (%v): attributing by the case's person key", err)
		var key string
		if err := s.db.Get(&key, `SELECT person_key FROM cases WHERE id = $1`, p.caseID); err != nil {
			t.Fatal(err)
		}
		p.kids[key] = true
		return
	}
	for _, raw := range raws {
		var v struct {
			Kid string `json:"kid"`
		}
		if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Kid == "" {
			t.Fatalf("student %s: the read model holds something that is not a sealed value", p.tag)
		}
		p.kids[v.Kid] = true
	}
	if len(raws) != 3 {
		t.Fatalf("student %s: %d sealed values in the read models, want 3", p.tag, len(raws))
	}
}

type keyRingState struct{ pgRows int }

// erase erases p as an admin and waits until the read models show it.
func (s *atRestSystem) erase(t *testing.T, p *atRestPerson) keyRingState {
	t.Helper()
	ref := "/v1/referrals/" + p.caseID
	res := s.must(t, http.StatusOK, "POST", ref+"/erasure", "admin", map[string]any{"reason": "data_subject_request"})
	got := s.must(t, http.StatusOK, "GET", fmt.Sprintf("%s?min_position=%.0f", ref, res["position"]), "social_worker", nil)
	if got["student"] != nil || got["documents"].([]any)[0].(map[string]any)["note"] != nil {
		t.Fatalf("student %s still shows after the erasure", p.tag)
	}
	var st keyRingState
	var exists bool
	if err := s.db.Get(&exists, `SELECT to_regclass('data_keys') IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if exists {
		if err := s.db.Get(&st.pgRows, `SELECT count(*) FROM data_keys`); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// checkpointAndStop forces a PostgreSQL checkpoint, then stops the
// projector and the API (which stops NATS and PostgreSQL).
func (s *atRestSystem) checkpointAndStop(t *testing.T) {
	t.Helper()
	if _, err := s.db.Exec(`CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	s.db.Close()
	_ = s.projector.Process.Signal(syscall.SIGTERM)
	_ = s.projector.Wait()
	s.stopAPI()
}

type dataFile struct {
	path string // relative to the data directory
	data []byte
}

func readDataDir(t *testing.T, dir string) []dataFile {
	var files []dataFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, dataFile{path: rel, data: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func totalSize(files []dataFile) int {
	n := 0
	for _, f := range files {
		n += len(f.data)
	}
	return n
}

// area names where in the data directory a file is.
func area(rel string) string {
	switch {
	case strings.Contains(rel, "pg_wal"):
		return "PostgreSQL WAL"
	case strings.HasPrefix(rel, filepath.Join("pg", "data", "base")):
		return "PostgreSQL heap"
	case strings.HasPrefix(rel, "pg"):
		return "PostgreSQL, other"
	case strings.HasPrefix(rel, "nats"):
		return "NATS store"
	}
	return "other"
}

type plaintextHit struct {
	value int // index into the person's values (the value itself is never printed)
	form  string
	file  string
}

// plaintextHits finds each value in every file as UTF-8 and in the JSON
// escaped forms (\uXXXX, either case).
func plaintextHits(files []dataFile, values []string) []plaintextHit {
	var hits []plaintextHit
	for i, v := range values {
		forms := map[string][]byte{"UTF-8": []byte(v)}
		if esc := jsonEscape(v, "%04x"); esc != v {
			forms["JSON \\u escaped"] = []byte(esc)
			forms["JSON \\u escaped (upper)"] = []byte(jsonEscape(v, "%04X"))
		}
		for _, f := range files {
			for form, b := range forms {
				if bytes.Contains(f.data, b) {
					hits = append(hits, plaintextHit{value: i, form: form, file: f.path})
				}
			}
		}
	}
	return hits
}

func jsonEscape(s, hex string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		b.WriteString(`\u` + fmt.Sprintf(hex, r)) // the scanned strings are all in the BMP
	}
	return b.String()
}

// sealedBlob is a sealed value found in a file: events.Sealed as JSON.
type sealedBlob struct {
	kid       string
	nonce, ct []byte
	file      string
}

func (b sealedBlob) opens(key []byte) bool {
	aead, err := gcm(key)
	if err != nil || len(b.nonce) != aead.NonceSize() {
		return false
	}
	_, err = aead.Open(nil, b.nonce, b.ct, []byte(b.kid))
	return err == nil
}

var sealedRE = regexp.MustCompile(`\{"kid":"([A-Za-z0-9_.:-]{1,200})","nonce":"([A-Za-z0-9+/=]{1,100})","ct":"([A-Za-z0-9+/=]+)"\}`)

func findSealed(files []dataFile) []sealedBlob {
	var out []sealedBlob
	for _, f := range files {
		for _, m := range sealedRE.FindAllSubmatch(f.data, -1) {
			nonce, err1 := base64.StdEncoding.DecodeString(string(m[2]))
			ct, err2 := base64.StdEncoding.DecodeString(string(m[3]))
			if err1 == nil && err2 == nil {
				out = append(out, sealedBlob{kid: string(m[1]), nonce: nonce, ct: ct, file: f.path})
			}
		}
	}
	return out
}

type recoveredKey struct {
	kid   string
	key   []byte
	files []string
}

// recoverDataKeys plays an attacker holding the data directory and the
// master key: for each key id of a sealed value, it looks at the bytes
// around every occurrence of the id in every file for a wrapped data key
// that the master key unwraps.
func recoverDataKeys(files []dataFile, master []byte, blobs []sealedBlob) map[string]*recoveredKey {
	kids := map[string]bool{}
	for _, b := range blobs {
		kids[b.kid] = true
	}
	keks := unwrapCandidates(master)
	out := map[string]*recoveredKey{}
	for kid := range kids {
		for _, f := range files {
			if k := unwrapNear(f.data, []byte(kid), keks); k != nil {
				r := out[kid]
				if r == nil {
					r = &recoveredKey{kid: kid, key: k}
					out[kid] = r
				}
				r.files = append(r.files, f.path)
			}
		}
	}
	for _, r := range out {
		sort.Strings(r.files)
	}
	return out
}

// unwrapCandidates are the key-encryption keys a wrapped data key may be
// under: those the key rings derive from the master key (HMAC-SHA256 of
// it, "cihui/kek" in PostgreSQL, "cihui/keyring/kek" in JetStream) and the
// master key itself. A key ring that wraps differently must be added here.
func unwrapCandidates(master []byte) []cipher.AEAD {
	keys := [][]byte{master}
	for _, label := range []string{"cihui/kek", "cihui/keyring/kek"} {
		m := hmac.New(sha256.New, master)
		m.Write([]byte(label))
		keys = append(keys, m.Sum(nil))
	}
	var out []cipher.AEAD
	for _, k := range keys {
		if a, err := gcm(k); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// unwrapNear tries every window of nonce‖AES-GCM(32-byte key) within 512
// bytes of each occurrence of kid, with kid or nothing as associated data.
func unwrapNear(data, kid []byte, keks []cipher.AEAD) []byte {
	const wrappedLen = 12 + 32 + 16
	for off := 0; ; {
		i := bytes.Index(data[off:], kid)
		if i < 0 {
			return nil
		}
		at := off + i
		for s := max(0, at-512); s <= min(len(data)-wrappedLen, at+len(kid)+512); s++ {
			w := data[s : s+wrappedLen]
			for _, kek := range keks {
				for _, ad := range [][]byte{kid, nil} {
					if k, err := kek.Open(nil, w[:12], w[12:], ad); err == nil && len(k) == 32 {
						return k
					}
				}
			}
		}
		off = at + len(kid)
	}
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
