package postgres_test

import (
	"context"
	"testing"

	"cihui/internal/domain"
	"cihui/internal/pgtest"
	"cihui/internal/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Issue 7, finding 6: `token create` accepted a branch that does not
// exist. A token is refused for a branch that is not configured and for a
// school code that is not six digits (the system has no registry of
// schools, so the form is what can be checked); valid ones are issued and
// authenticate.
func TestTokenCreateRefusesUnknownBranchAndMalformedSchool(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db, nil); err != nil {
		t.Fatal(err)
	}
	if err := postgres.NewBranches(db).EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	tokens := postgres.NewTokens(db)

	refused := []struct {
		name  string
		info  postgres.TokenInfo
		field string
	}{
		{"unknown branch", postgres.TokenInfo{Role: domain.RoleSocialWorker, Branch: "nosuchbranch"}, "branch"},
		{"unknown branch, committee", postgres.TokenInfo{Role: domain.RoleCommittee, Branch: "Xiucai"}, "branch"},
		{"five digits", postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "34501"}, "school"},
		{"seven digits", postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "0345011"}, "school"},
		{"a letter", postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "03450A"}, "school"},
		{"full-width digits", postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "０３４５０１"}, "school"},
		{"a name", postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "秀才國中"}, "school"},
		{"no school", postgres.TokenInfo{Role: domain.RoleOriginSchool}, "school"},
		{"unknown role", postgres.TokenInfo{Role: "janitor"}, "role"},
	}
	for _, c := range refused {
		_, _, err := tokens.Create(ctx, c.info)
		de, ok := err.(*domain.Error)
		if !ok || de.Code != domain.EInvalid || de.Fields[c.field] == "" {
			t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
		}
	}
	if list, err := tokens.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("refused tokens were stored: %v %v", list, err)
	}

	for _, info := range []postgres.TokenInfo{
		{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode},
		{Role: domain.RoleOriginSchool, School: "034501"},
		{Role: domain.RoleBureau},
	} {
		tok, _, err := tokens.Create(ctx, info)
		if err != nil {
			t.Fatalf("%+v: %v", info, err)
		}
		a, err := tokens.Authenticate(ctx, tok)
		if err != nil || a.Role != info.Role || a.School != info.School || a.Branch != info.Branch {
			t.Fatalf("%+v authenticates as %+v, %v", info, a, err)
		}
	}
}
