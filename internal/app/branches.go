package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
)

// BranchStore keeps branch settings and the record of their changes.
type BranchStore interface {
	All(ctx context.Context) (map[string]domain.Branch, error)
	Get(ctx context.Context, code string) (domain.Branch, bool, error)
	Save(ctx context.Context, mode domain.BranchSaveMode, actorRole, actorID string, base *domain.Branch, b domain.Branch) (domain.BranchChange, error)
	History(ctx context.Context, code string) ([]domain.BranchChange, error)
}

// BranchCache serves current branch settings to commands without a
// restart: a read-through copy of the store reloaded when older than TTL
// and at once after a change made through this process. Another instance
// sees a change within TTL, so several API instances stay consistent.
type BranchCache struct {
	Store BranchStore
	TTL   time.Duration

	mu     sync.Mutex
	loaded time.Time
	byCode map[string]domain.Branch
}

// DefaultBranchTTL is how long another instance may serve old settings.
const DefaultBranchTTL = 2 * time.Second

// NewBranchCache returns a cache over store.
func NewBranchCache(store BranchStore, ttl time.Duration) *BranchCache {
	if ttl <= 0 {
		ttl = DefaultBranchTTL
	}
	return &BranchCache{Store: store, TTL: ttl}
}

// Get returns a branch's current settings. When the store cannot be read
// it serves the last settings it had.
func (c *BranchCache) Get(code string) (domain.Branch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byCode == nil || time.Since(c.loaded) > c.TTL {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		all, err := c.Store.All(ctx)
		cancel()
		if err == nil {
			c.byCode, c.loaded = all, time.Now()
		}
	}
	b, ok := c.byCode[code]
	return b, ok
}

// Invalidate makes the next Get reload.
func (c *BranchCache) Invalidate() {
	c.mu.Lock()
	c.byCode = nil
	c.mu.Unlock()
}

// branchAdmin returns the store, or an error when the service has none.
func (s *Service) branchAdmin() (BranchStore, error) {
	if s.BranchCache == nil {
		return nil, domain.Errorf(domain.EUnavailable, "branch settings are not available")
	}
	return s.BranchCache.Store, nil
}

// canReadBranch: an admin reads every branch; branch staff (social
// worker, committee) read their own branch's settings.
func canReadBranch(a events.Actor, code string) bool {
	if a.Role == domain.RoleAdmin {
		return true
	}
	return (a.Role == domain.RoleSocialWorker || a.Role == domain.RoleCommittee) && a.Branch == code
}

// ListBranches returns every branch (admin).
func (s *Service) ListBranches(ctx context.Context, a events.Actor) ([]domain.Branch, error) {
	if a.Role != domain.RoleAdmin {
		return nil, domain.Errorf(domain.EForbidden, "branches are listed by an admin")
	}
	st, err := s.branchAdmin()
	if err != nil {
		return nil, err
	}
	all, err := st.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Branch, 0, len(all))
	for _, b := range all {
		out = append(out, b)
	}
	sortBranches(out)
	return out, nil
}

// GetBranch returns one branch's settings (admin, or its own staff).
func (s *Service) GetBranch(ctx context.Context, a events.Actor, code string) (domain.Branch, error) {
	if !canReadBranch(a, code) {
		return domain.Branch{}, domain.Errorf(domain.ENotFound, "no such branch")
	}
	st, err := s.branchAdmin()
	if err != nil {
		return domain.Branch{}, err
	}
	b, ok, err := st.Get(ctx, code)
	if err == nil && !ok {
		err = domain.Errorf(domain.ENotFound, "no such branch")
	}
	return b, err
}

// BranchHistory returns the recorded changes of a branch (admin).
func (s *Service) BranchHistory(ctx context.Context, a events.Actor, code string) ([]domain.BranchChange, error) {
	if _, err := s.GetBranch(ctx, a, code); err != nil {
		return nil, err
	}
	if a.Role != domain.RoleAdmin {
		return nil, domain.Errorf(domain.EForbidden, "the history is read by an admin")
	}
	st, _ := s.branchAdmin()
	return st.History(ctx, code)
}

// ConfigureBranch validates and stores a branch's settings (admin) and
// records who changed what. The cap may not fall below the seats the
// roster holds now (R-CAP-1; seats are dated with issue 10, then every
// date is checked); class norms stay within R-CAP-2. Commands see the
// change at once in this process and within the cache TTL elsewhere.
// base, when set, is the configuration b was made from: a change stored
// since is a conflict (409), not overwritten.
func (s *Service) ConfigureBranch(ctx context.Context, a events.Actor, mode domain.BranchSaveMode, base *domain.Branch, b domain.Branch) (domain.BranchChange, error) {
	if a.Role != domain.RoleAdmin {
		return domain.BranchChange{}, domain.Errorf(domain.EForbidden, "branches are configured by an admin")
	}
	st, err := s.branchAdmin()
	if err != nil {
		return domain.BranchChange{}, err
	}
	if err := domain.ValidateBranch(b); err != nil {
		return domain.BranchChange{}, err
	}
	roster, _, err := s.loadRoster(ctx, b.Code)
	if err != nil {
		return domain.BranchChange{}, err
	}
	if err := domain.CheckCapHeld(b.Cap, roster.Taken()); err != nil {
		return domain.BranchChange{}, err
	}
	ch, err := st.Save(ctx, mode, string(a.Role), a.UserID, base, b)
	s.BranchCache.Invalidate()
	return ch, err
}

func sortBranches(bs []domain.Branch) {
	slices.SortFunc(bs, func(a, b domain.Branch) int { return strings.Compare(a.Code, b.Code) })
}
