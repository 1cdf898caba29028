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
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"cihui/internal/domain"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "api:", err)
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

func run(ctx context.Context, args []string) error {
	m := NewMain()
	cmd := "serve"
	if len(args) > 0 && (args[0] == "migrate" || args[0] == "token" || args[0] == "keys" || args[0] == "serve" || args[0] == "backup" || args[0] == "restore" || args[0] == "branch" || args[0] == "calendar") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "keys" && len(args) > 0 && args[0] == "rotate" {
		// keys rotate takes the usual flags after the subcommand.
		rest, err := m.ParseFlags(args[1:])
		if err != nil {
			return err
		}
		return m.Keys(ctx, append([]string{"rotate"}, rest...))
	}
	rest, err := m.ParseFlags(args)
	if err != nil {
		return err
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
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected arguments %q", rest)
	}
	defer m.Close()
	return m.Run(ctx)
}
