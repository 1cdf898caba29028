package jetstream_test

import (
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"cihui/internal/jetstream"
)

// docker-compose's NATS (deploy/nats/nats.conf, and cluster.conf that
// includes it) has the same users with the same permissions as the
// embedded server, its passwords from the environment, JetStream synced
// on every write, and no anonymous access.
func TestDeployNATSConfMatchesEmbeddedPermissions(t *testing.T) {
	t.Setenv("CIHUI_NATS_API_PASSWORD", "api-secret")
	t.Setenv("CIHUI_NATS_PROJECTOR_PASSWORD", "projector-secret")
	t.Setenv("NATS_SERVER_NAME", "nats-1")
	for _, file := range []string{"../../deploy/nats/nats.conf", "../../deploy/nats/cluster.conf"} {
		opts, err := server.ProcessConfigFile(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !opts.JetStream || !opts.SyncAlways {
			t.Errorf("%s: JetStream %v, sync always %v", file, opts.JetStream, opts.SyncAlways)
		}
		if opts.NoAuthUser != "" || len(opts.Nkeys) != 0 || opts.Authorization != "" {
			t.Errorf("%s: other ways in than the two users", file)
		}
		if len(opts.Users) != len(jetstream.Users) {
			t.Fatalf("%s: %d users, want %v", file, len(opts.Users), jetstream.Users)
		}
		passwords := map[string]string{jetstream.UserAPI: "api-secret", jetstream.UserProjector: "projector-secret"}
		for _, u := range opts.Users {
			want := jetstream.Permissions(u.Username)
			if want == nil {
				t.Errorf("%s: unknown user %q", file, u.Username)
				continue
			}
			if u.Password != passwords[u.Username] {
				t.Errorf("%s: %s's password does not come from the environment", file, u.Username)
			}
			samePerm(t, file+" "+u.Username+" publish", u.Permissions.Publish, want.Publish)
			samePerm(t, file+" "+u.Username+" subscribe", u.Permissions.Subscribe, want.Subscribe)
			if u.Permissions.Response != nil {
				t.Errorf("%s: %s may answer requests", file, u.Username)
			}
		}
	}
}

func samePerm(t *testing.T, what string, got, want *server.SubjectPermission) {
	t.Helper()
	if got == nil || want == nil {
		if got != want {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
		return
	}
	for _, p := range [][2][]string{{got.Allow, want.Allow}, {got.Deny, want.Deny}} {
		g, w := slices.Clone(p[0]), slices.Clone(p[1])
		slices.Sort(g)
		slices.Sort(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: %q, want %q", what, g, w)
		}
	}
}
