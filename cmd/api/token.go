package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// Token runs `api token create|list|revoke`. create refuses a branch that
// is not configured and a school code that is not six digits (the form of
// a Ministry of Education code; the system has no registry of schools).
// Its flags may stand anywhere after `token`. It uses the running API's
// database when there is one (see useRunning).
func (m *Main) Token(ctx context.Context, args []string) error {
	defer m.Close()
	if len(args) == 0 {
		return errors.New("token: create, list or revoke")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	var info postgres.TokenInfo
	var role string
	fs.StringVar(&role, "role", "", "origin_school, social_worker, committee, bureau or admin")
	fs.StringVar(&info.School, "school", "", "6-digit school code (origin_school)")
	fs.StringVar(&info.Branch, "branch", "", "branch school code (branch staff; default: the default branch)")
	fs.StringVar(&info.Label, "label", "", "a label to recognise the token by")
	pos, err := config.ParseAnywhere(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if args[0] != "revoke" && len(pos) > 0 {
		return fmt.Errorf("token %s: unexpected arguments %q", args[0], pos)
	}
	if _, err := m.useRunning(); err != nil {
		return err
	}
	if err := m.openDB(ctx); err != nil {
		return err
	}
	tokens := postgres.NewTokens(m.db)
	switch args[0] {
	case "create":
		// A fresh system runs the default branch, as serve would set up;
		// any other branch must be configured before its tokens are made.
		if err := postgres.NewBranches(m.db).EnsureDefault(ctx); err != nil {
			return err
		}
		info.Role = events.Role(role)
		if info.Branch == "" && (info.Role == domain.RoleSocialWorker || info.Role == domain.RoleCommittee) {
			info.Branch = domain.DefaultBranchCode
		}
		t, id, err := tokens.Create(ctx, info)
		if err != nil {
			return err
		}
		fmt.Printf("id: %s\ntoken: %s\n(the token is shown once; store it safely)\n", id, t)
	case "list":
		list, err := tokens.List(ctx)
		if err != nil {
			return err
		}
		for _, t := range list {
			fmt.Printf("%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.School, t.Branch, t.Label)
		}
	case "revoke":
		if len(pos) != 1 {
			return errors.New("token revoke ID")
		}
		if err := tokens.Revoke(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Println("revoked", pos[0])
	default:
		return fmt.Errorf("token: unknown subcommand %q", args[0])
	}
	return nil
}
