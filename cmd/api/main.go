// Command api runs the Cihui referrals HTTP API. With no DATABASE_URL it
// initialises and starts a local PostgreSQL cluster under the data
// directory; with no NATS_URL it runs an embedded NATS server with
// JetStream file storage there. It also administers tokens and migrations:
//
//	api [flags]                      serve
//	api migrate [up|down|status]     apply or inspect migrations
//	api token create --role R [--school S] [--branch B] [--label L]
//	api token list | api token revoke ID
//	api keys rotate --new-master-key-file F
//	api branch list | show CODE | history CODE | add CODE … | set CODE …
//	api backup DIR | api restore DIR
//	api people list | show | history | invite | set | suspend | reinstate | remove | token | tokens
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"cihui/internal/domain"
	"cihui/internal/logsafe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "api:", logsafe.Err(err))
		var de *domain.Error
		if errors.As(err, &de) {
			for field, msg := range de.Fields {
				fmt.Fprintf(os.Stderr, "  %s: %s\n", field, msg)
			}
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// subcommands are the first words run dispatches on; anything else serves.
var subcommands = map[string]bool{"serve": true, "migrate": true, "token": true, "keys": true, "backup": true, "restore": true, "branch": true, "calendar": true, "people": true}

// run dispatches. The API's flags may stand before or after the
// subcommand (`api --data-dir D token list` = `api token list --data-dir
// D`); the subcommand parses what is left: its words and its own flags.
func run(ctx context.Context, args []string) error {
	m := NewMain()
	rest, err := m.ParseFlags(args)
	if err != nil {
		return err
	}
	cmd := "serve"
	if len(rest) > 0 && subcommands[rest[0]] {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "migrate":
		return m.Migrate(ctx, rest)
	case "token":
		return m.Token(ctx, rest)
	case "keys":
		return m.Keys(ctx, rest)
	case "branch":
		return m.Branch(ctx, rest)
	case "backup", "restore":
		return m.BackupOrRestore(ctx, cmd, rest)
	case "calendar":
		return m.Calendar(ctx, rest)
	case "people":
		return m.People(ctx, rest)
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q (see --help)", rest)
	}
	defer m.Close()
	return m.Run(ctx)
}
