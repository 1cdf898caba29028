package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"

	"cihui/internal/app"
	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/jetstream"
	"cihui/internal/postgres"
)

const branchUsage = "branch list | show CODE | history CODE | add CODE --name N --committee C [--cap N] [--file F] | set CODE [--cap N] [--name N] [--committee C] [--file F]"

// Branch runs `api branch list|show|history|add|set`. add and set take
// the settings as PUT /v1/branches/{code} does (--file: its JSON body,
// "-" for stdin; the flags override it), are validated the same way, and
// are recorded with the operator as the actor. A running API sees the
// change within its branch cache's TTL; no restart.
func (m *Main) Branch(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) == 0 {
		return errors.New(branchUsage)
	}
	sub, args := args[0], args[1:]
	var code string
	if sub != "list" {
		if len(args) == 0 {
			return errors.New(branchUsage)
		}
		code, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("branch "+sub, flag.ContinueOnError)
	file := fs.String("file", "", "a JSON file of settings as PUT /v1/branches/{code} takes ('-': stdin)")
	name := fs.String("name", "", "the branch school's name")
	committee := fs.String("committee", "", "the committee that reviews its referrals")
	capacity := fs.Int("cap", 0, "the most students enrolled at once (R-CAP-1)")
	pos, err := config.ParseAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("branch %s: unexpected arguments %q", sub, pos)
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	store := postgres.NewBranches(m.db)
	if err := store.EnsureDefault(ctx); err != nil {
		return err
	}
	svc := &app.Service{BranchCache: app.NewBranchCache(store, 0)}
	admin := events.Actor{Role: domain.RoleAdmin, UserID: operator()}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	switch sub {
	case "list":
		bs, err := svc.ListBranches(ctx, admin)
		if err != nil {
			return err
		}
		for _, b := range bs {
			fmt.Printf("%s\t%s\tcap %d\t%s\n", b.Code, b.Name, b.Cap, b.Committee)
		}
		return nil
	case "show":
		b, err := svc.GetBranch(ctx, admin, code)
		if err != nil {
			return err
		}
		return out.Encode(b)
	case "history":
		h, err := svc.BranchHistory(ctx, admin, code)
		if err != nil {
			return err
		}
		return out.Encode(h)
	case "add", "set":
	default:
		return fmt.Errorf("branch: unknown subcommand %q", sub)
	}

	var req httpapi.BranchRequest
	if *file != "" {
		if err := readBranchFile(*file, &req); err != nil {
			return err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			req.Name = name
		case "committee":
			req.Committee = committee
		case "cap":
			req.Cap = capacity
		}
	})
	mode := domain.BranchSet
	cur, err := svc.GetBranch(ctx, admin, code)
	if sub == "add" {
		mode = domain.BranchAdd
		if err == nil {
			return domain.Errorf(domain.EConflict, "branch %s exists: use branch set", code)
		}
		cur = domain.DefaultBranch()
		cur.Code, cur.Name, cur.Committee, cur.Overrides = code, "", "", nil
	} else if err != nil {
		return err
	}
	next, err := req.Apply(cur)
	if err != nil {
		return err
	}
	// The cap is checked against the seats the roster holds: read it
	// from the event store.
	if _, err := m.openNATS(); err != nil {
		return err
	}
	if svc.Store, err = jetstream.Open(ctx, m.nc, events.NewCodec(events.DefaultRegistry()), jetstream.Config{Replicas: m.Replicas}); err != nil {
		return err
	}
	var base *domain.Branch
	if mode == domain.BranchSet {
		base = &cur
	}
	ch, err := svc.ConfigureBranch(ctx, admin, mode, base, next)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "branch %s %s (change %d)\n", code, map[bool]string{true: "added", false: "changed"}[ch.Before == nil], ch.Seq)
	return out.Encode(ch.After)
}

func readBranchFile(path string, req *httpapi.BranchRequest) error {
	f := os.Stdin
	if path != "-" {
		var err error
		if f, err = os.Open(path); err != nil {
			return err
		}
		defer f.Close()
	}
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return domain.Invalid(map[string]string{"file": "must be a JSON object of branch settings: " + err.Error()})
	}
	return nil
}

// operator names who ran the command, for the record of changes.
func operator() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}
