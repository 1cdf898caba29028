package httpapi

import (
	"context"
	"slices"
	"sync"

	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// calendarCache keeps each branch's office calendar with the read-model
// position it was loaded at (issue 13): loading it is a round trip to
// JetStream, which every read that shows a due date made. An entry
// serves while the read models stay at that position: a calendar event
// appended before a read's min_position is projected by the time the read
// runs, so the read loads it again and sees it (read-your-writes), and
// this instance's own calendar commands drop the entries at once. One
// entry per branch.
type calendarCache struct {
	mu      sync.Mutex
	entries map[string]calendarEntry
	gen     uint64 // moves on every forget: a load under way is not kept
}

type calendarEntry struct {
	cal  *calendar.Calendar
	mark projections.Mark
}

// calendarFor returns the office calendar of the actor's branch.
func (s *Server) calendarFor(ctx context.Context, a events.Actor) (*calendar.Calendar, error) {
	branch := branchOf(a)
	mark := s.waiter.Mark()
	cc := &s.calendars
	cc.mu.Lock()
	e, ok := cc.entries[branch]
	gen := cc.gen
	cc.mu.Unlock()
	if ok && e.mark == mark {
		return e.cal, nil
	}
	cal, err := s.app.Calendar(ctx, branch)
	if err != nil {
		return nil, err
	}
	cc.mu.Lock()
	if cc.entries == nil {
		cc.entries = map[string]calendarEntry{}
	}
	if cc.gen == gen {
		cc.entries[branch] = calendarEntry{cal: cal, mark: mark}
	}
	cc.mu.Unlock()
	return cal, nil
}

// forgetCalendars drops every cached calendar: this instance changed one.
func (s *Server) forgetCalendars() {
	s.calendars.mu.Lock()
	s.calendars.gen++
	clear(s.calendars.entries)
	s.calendars.mu.Unlock()
}

// rankCache keeps each branch's waiting list as ranks by case, with the
// read-model position it was folded at, on the same terms as the
// calendars: folding the roster stream for every read of a waiting case
// was half the API's CPU under load (pprof). The rank then agrees with
// the case's stage, read from the read models at that position.
type rankCache struct {
	mu      sync.Mutex
	entries map[string]rankEntry
}

type rankEntry struct {
	ranks map[string]int
	mark  projections.Mark
}

// waitingRank returns a waiting case's place in its branch's waiting list
// (R-SOY-5), from the projected roster at the read position, or false.
func (s *Server) waitingRank(ctx context.Context, branch, caseID string) (int, bool, error) {
	mark := s.waiter.Mark()
	rc := &s.ranks
	rc.mu.Lock()
	e, ok := rc.entries[branch]
	rc.mu.Unlock()
	if !ok || e.mark != mark {
		// The projected waiting list, as the capacity answer reads it: not
		// the roster stream loaded and folded, whose every event the
		// aggregate cache then kept (110 MB of a 144 MB heap at 100,000
		// cases).
		ids, err := s.reader.WaitingOrder(ctx, branch)
		if err != nil {
			return 0, false, err
		}
		e = rankEntry{ranks: make(map[string]int, len(ids)), mark: mark}
		for i, id := range ids {
			e.ranks[id] = i + 1
		}
		rc.mu.Lock()
		if rc.entries == nil {
			rc.entries = map[string]rankEntry{}
		}
		rc.entries[branch] = e
		rc.mu.Unlock()
	}
	rank, ok := e.ranks[caseID]
	return rank, ok, nil
}

// maxCachedPages bounds the list cache.
const maxCachedPages = 32

// pageCache keeps case-list pages as read from the read models, sealed
// values still sealed, for the read-model position they were read at (on
// the same terms as the calendars): under load most list reads ask for
// the same first pages, and reading a 50-case page cost PostgreSQL some
// milliseconds each time. Each read still opens what its caller may see
// and writes its own access record. At most maxCachedPages pages; all are
// dropped when the read models move.
type pageCache struct {
	mu    sync.Mutex
	mark  projections.Mark
	pages map[projections.CaseFilter][]projections.Case
}

// listCases returns a page of cases, from the cache when the read models
// have not moved since it was read. The caller must not change the cases
// it shares with the cache: ownCopy copies what opening changes.
func (s *Server) listCases(ctx context.Context, f projections.CaseFilter) ([]projections.Case, error) {
	mark := s.waiter.Mark()
	pc := &s.pages
	pc.mu.Lock()
	if pc.mark == mark {
		if cases, ok := pc.pages[f]; ok {
			pc.mu.Unlock()
			return cases, nil
		}
	}
	pc.mu.Unlock()
	cases, err := s.reader.Cases(ctx, f)
	if err != nil {
		return nil, err
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.mark != mark || pc.pages == nil {
		pc.mark, pc.pages = mark, map[projections.CaseFilter][]projections.Case{}
	}
	if len(pc.pages) >= maxCachedPages {
		clear(pc.pages)
	}
	pc.pages[f] = cases
	return cases, nil
}

// ownCopy returns c with its own copies of what opening a case changes in
// place (the notes of the checklist, the visits, the procedure's log and
// meetings), so that a cached page is never changed. A checklist without
// notes is shared: opening writes nothing into it (personal.go).
func ownCopy(c projections.Case) projections.Case {
	if slices.ContainsFunc(c.Documents, func(d projections.Document) bool { return d.SealedNote != nil || d.Note != nil }) {
		c.Documents = slices.Clone(c.Documents)
	}
	c.Visits = slices.Clone(c.Visits)
	c.SuspensionLog = slices.Clone(c.SuspensionLog)
	c.AdaptationMeetings = slices.Clone(c.AdaptationMeetings)
	return c
}
