package jetstream

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// The users of the embedded NATS server. Each has an nkey whose seed is
// kept in <auth-dir>/<user>.nk (mode 0600); the server holds only the
// public keys. No anonymous client may connect.
const (
	// UserAPI writes the event log, the data-key ring and the access log.
	UserAPI = "api"
	// UserProjector only reads the event log and the access log.
	UserProjector = "projector"
)

// Users lists the embedded server's users.
var Users = []string{UserAPI, UserProjector}

// The streams the permissions name (the cross-team contract).
const (
	StreamEvents = "CIHUI"
	StreamKeys   = "CIHUI_KEYS"
	StreamAccess = "CIHUI_ACCESS"
)

// denied to every user: the log is forever. The streams also deny deletes
// and purges themselves; this keeps the requests from reaching them.
var deniedToAll = []string{
	"$JS.API.STREAM.DELETE.>",
	"$JS.API.STREAM.PURGE.>",
	"$JS.API.STREAM.MSG.DELETE." + StreamEvents,
	"$JS.API.STREAM.MSG.DELETE." + StreamAccess,
}

// readAPI is the JetStream API a reader of stream needs: its info, direct
// gets (batched, and last by subject) and ordered consumers (create, next,
// info, delete).
func readAPI(stream string) []string {
	return []string{
		"$JS.API.STREAM.INFO." + stream,
		"$JS.API.DIRECT.GET." + stream,
		"$JS.API.DIRECT.GET." + stream + ".>",
		"$JS.API.CONSUMER.CREATE." + stream + ".>",
		"$JS.API.CONSUMER.INFO." + stream + ".*",
		"$JS.API.CONSUMER.DELETE." + stream + ".*",
		"$JS.API.CONSUMER.MSG.NEXT." + stream + ".*",
	}
}

// backupAPI is what `api backup` and `api restore` need (they connect as
// the API): a snapshot of each stream (the request, and the flow-control
// acks of its chunks) and the restore of one (the request, and the chunks
// sent to the server). A restore only creates a stream that does not exist.
func backupAPI() []string {
	var out []string
	for _, s := range []string{StreamEvents, StreamKeys, StreamAccess} {
		out = append(out,
			"$JS.API.STREAM.SNAPSHOT."+s, "$JS.SNAPSHOT.ACK."+s+".>",
			"$JS.API.STREAM.RESTORE."+s, "$JS.SNAPSHOT.RESTORE."+s+".>",
		)
	}
	return out
}

// Permissions returns what user may do. The API publishes events, data
// keys and access records (an atomic batch is ordinary publishes with
// batch headers), ensures its three streams, reads them, snapshots and
// restores them (backup), and deletes single messages only from the
// data-key ring (erasure destroys a key).
// The projector only reads the event log and the access log. Nobody may
// delete or purge a stream or delete an event. Replies come on _INBOX.>.
// It returns nil for an unknown user.
func Permissions(user string) *server.Permissions {
	inbox := &server.SubjectPermission{Allow: []string{"_INBOX.>"}}
	switch user {
	case UserAPI:
		allow := []string{"cihui.>", "cihui_keys.>", "cihui_access.>"}
		for _, s := range []string{StreamEvents, StreamKeys, StreamAccess} {
			allow = append(allow,
				"$JS.API.STREAM.CREATE."+s,
				"$JS.API.STREAM.UPDATE."+s,
				"$JS.API.STREAM.MSG.GET."+s,
			)
			allow = append(allow, readAPI(s)...)
		}
		allow = append(allow, "$JS.API.STREAM.MSG.DELETE."+StreamKeys)
		allow = append(allow, backupAPI()...)
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: allow, Deny: deniedToAll},
			Subscribe: inbox,
		}
	case UserProjector:
		var allow []string
		for _, s := range []string{StreamEvents, StreamAccess} {
			allow = append(allow, readAPI(s)...)
		}
		// No key ring: the read models hold personal data sealed and the
		// projector never opens it.
		deny := append([]string{"cihui.>", "cihui_keys.>", "cihui_access.>"}, deniedToAll...)
		return &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: allow, Deny: deny},
			Subscribe: inbox,
		}
	}
	return nil
}

// SeedFile is where user's nkey seed is kept under authDir.
func SeedFile(authDir, user string) string { return filepath.Join(authDir, user+".nk") }

// Credentials returns the connect option that authenticates as user with
// the seed kept under authDir.
func Credentials(authDir, user string) (nats.Option, error) {
	opt, err := nats.NkeyOptionFromSeed(SeedFile(authDir, user))
	if err != nil {
		return nil, fmt.Errorf("jetstream: credentials of %s: %w", user, err)
	}
	return opt, nil
}

// ensureUsers creates a seed per user under authDir on first start (mode
// 0600, in a 0700 directory) and reuses them afterwards; it returns the
// server's nkey users with their permissions.
func ensureUsers(authDir string) ([]*server.NkeyUser, error) {
	if err := os.MkdirAll(authDir, 0o700); err != nil {
		return nil, err
	}
	var out []*server.NkeyUser
	for _, u := range Users {
		pub, err := ensureSeed(SeedFile(authDir, u))
		if err != nil {
			return nil, err
		}
		out = append(out, &server.NkeyUser{Nkey: pub, Permissions: Permissions(u)})
	}
	return out, nil
}

// ensureSeed returns the public key of the seed in path, creating it if
// missing. A seed readable by others is refused rather than used: it may
// have leaked.
func ensureSeed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return "", err
		}
		seed, err := kp.Seed()
		if err != nil {
			return "", err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, append(seed, '\n'), 0o600); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", err
		}
		return kp.PublicKey()
	}
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("jetstream: %s is accessible to others (mode %v): remove it to create a new one, or chmod 600", path, fi.Mode().Perm())
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return "", fmt.Errorf("jetstream: %s: not an nkey seed", path)
	}
	return kp.PublicKey()
}
