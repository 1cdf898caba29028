package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// Opener opens sealed personal data: an events.Sealer over the key ring,
// through a bounded in-memory cache of unwrapped keys (keycache).
type Opener interface {
	Open(ctx context.Context, s events.Sealed, v any) error
}

// openCase opens, in place, the sealed personal data of a case that the
// caller may see: the student for the roles that see personal data, the
// checklist notes and the home-visit log for social workers (R-DOC-2).
// Whatever the caller may not see stays sealed and is never shown. An
// erased person (the key destroyed) shows as erased: no student, no notes.
func (s *Server) openCase(ctx context.Context, c *projections.Case, a events.Actor) error {
	return s.open(ctx, c, seesPersonal(a), a.Role == domain.RoleSocialWorker)
}

// openEverything opens all the personal data of a case, for the admin's
// export answering a data subject's request.
func (s *Server) openEverything(ctx context.Context, c *projections.Case) error {
	return s.open(ctx, c, true, true)
}

func (s *Server) open(ctx context.Context, c *projections.Case, student, notes bool) error {
	c.Student = nil
	if student {
		var p domain.Person
		ok, err := s.openSealed(ctx, c.Personal, &p)
		if err != nil {
			return err
		}
		if ok {
			if c.Student, err = studentView(p); err != nil {
				return err
			}
		}
	}
	var err error
	c.SpecialReason = nil
	if notes {
		if c.SpecialReason, err = s.openNote(ctx, c.AcceptanceReason); err != nil {
			return err
		}
	}
	for i := range c.Documents {
		// Written only when it changes: a page's checklists without
		// notes are shared with the page cache (readcache.go).
		d := &c.Documents[i]
		var note *string
		if notes && d.SealedNote != nil {
			if note, err = s.openNote(ctx, d.SealedNote); err != nil {
				return err
			}
		}
		if note != d.Note {
			d.Note = note
		}
	}
	for i := range c.Visits {
		v := &c.Visits[i]
		v.Note = nil
		if notes {
			if v.Note, err = s.openNote(ctx, v.SealedNote); err != nil {
				return err
			}
		}
	}
	return s.openSuspensionNotes(ctx, c, notes)
}

func (s *Server) openNote(ctx context.Context, sealed []byte) (*string, error) {
	var note string
	ok, err := s.openSealed(ctx, sealed, &note)
	if !ok || err != nil {
		return nil, err
	}
	return &note, nil
}

// openSealed opens one stored sealed value into v. It reports false for
// none and for an erased person.
func (s *Server) openSealed(ctx context.Context, raw []byte, v any) (bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	if s.opener == nil {
		return false, nil // no key ring: nothing can be opened
	}
	sealed, err := parseSealed(raw) // sealedparse.go
	if err != nil {
		return false, errors.New("httpapi: a stored sealed value is malformed")
	}
	switch err := s.opener.Open(ctx, sealed, v); {
	case errors.Is(err, events.ErrKeyDestroyed):
		return false, nil
	case err != nil:
		// Never the value or the error text of the ring: only that it
		// failed, for the logs.
		return false, fmt.Errorf("httpapi: opening sealed personal data: %w", err)
	}
	return true, nil
}

// studentView is the view of an opened person.
func studentView(p domain.Person) (*projections.Student, error) {
	family, err := json.Marshal(p.Family)
	if err != nil {
		return nil, err
	}
	st := &projections.Student{
		Name: p.StudentName, NationalID: p.NationalID, GuardianName: p.GuardianName, GuardianRelation: p.GuardianRelation,
		Reason: p.Reason, CrisisType: p.CrisisType, ExclusionReason: p.ExclusionReason, Family: family,
	}
	if p.BirthDate != "" {
		st.BirthDate = &p.BirthDate
	}
	return st, nil
}
