package projections

import (
	"context"
	"slices"
	"time"

	"github.com/lib/pq"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// statCase is one row of the statistics' first query: a case of the
// branch that was ever enrolled, with one of its enrolled seats (none when
// the roster has no seat for it).
type statCase struct {
	ID         string         `db:"id"`
	PersonKey  string         `db:"person_key"`
	Sex        string         `db:"sex"`
	Background string         `db:"family_background"`
	Identity   pq.StringArray `db:"identity"`
	Identified bool           `db:"identified"`
	EnrolledOn *time.Time     `db:"enrolled_on"`
	EndedOn    *time.Time     `db:"ended_on"`
	SeatFrom   *time.Time     `db:"seat_from"`
	SeatLast   *time.Time     `db:"seat_last"`
	Released   bool           `db:"released"`
}

// StatStudents builds what the dropout statistics (R-STAT-1, R-STAT-2)
// know of the students of a branch, from the projected tables in two
// queries: the cases ever enrolled with their dated seats (the roster),
// and their dropout episodes.
//
//   - A student is a person: the cases of one person key are one student.
//   - Enrolment ranges are the roster's enrolled seats, from the day of
//     the enrolment to the seat's last day (the planned graduation while
//     it is held), cut at the case's end day; a case with no enrolled
//     seat (recorded before the roster was dated) counts from the case's
//     enrolment day to its end day, if any.
//   - The categories are the case's, unknown where it recorded none; of a
//     student's cases, the latest one that knows them gives them.
//
// This is the one place the statistics read the read models: adapt it
// when they change.
func (r *Reader) StatStudents(ctx context.Context, branch string) ([]domain.StatStudent, error) {
	var rows []statCase
	if err := r.db.SelectContext(ctx, &rows, `
		SELECT c.id, c.person_key, c.sex, c.family_background, coalesce(c.identity, '{}') AS identity,
		       c.identity IS NOT NULL AS identified, c.enrolled_on, c.ended_on,
		       s.enrolled_on AS seat_from, s.last_on AS seat_last, s.ending IS NOT NULL AS released
		FROM cases c
		LEFT JOIN roster_seats s ON s.branch = c.branch AND s.case_id = c.id AND s.enrolled_on IS NOT NULL
		WHERE c.branch = $1 AND (c.enrolled_on IS NOT NULL OR s.enrolled_on IS NOT NULL)
		ORDER BY c.received_on, c.id, s.seq`, branch); err != nil {
		return nil, err
	}
	var eps []Episode
	if err := r.db.SelectContext(ctx, &eps, `
		SELECT `+episodeColumns+` FROM dropout_episodes
		WHERE case_id IN (SELECT id FROM cases WHERE branch = $1) ORDER BY case_id, episode`, branch); err != nil {
		return nil, err
	}
	return statStudents(rows, eps), nil
}

func statStudents(rows []statCase, eps []Episode) []domain.StatStudent {
	var students []domain.StatStudent
	byKey := map[string]int{}  // person key → index
	byCase := map[string]int{} // case id → index
	seen := map[string]bool{}  // case ids already given their fallback range
	endedOn := map[string]calendar.Date{}
	for _, c := range rows {
		key := c.PersonKey
		if key == "" {
			key = c.ID
		}
		i, ok := byKey[key]
		if !ok {
			i = len(students)
			byKey[key] = i
			students = append(students, domain.StatStudent{Key: key, Sex: c.Sex, Background: domain.CategoryUnknown})
		}
		s := &students[i]
		if _, ok := byCase[c.ID]; !ok {
			byCase[c.ID] = i
			s.CaseIDs = append(s.CaseIDs, c.ID)
			// Rows come in order of receipt: a later case's known
			// categories replace an earlier one's.
			if c.Background != "" && c.Background != domain.CategoryUnknown {
				s.Background = c.Background
			}
			if c.Identified && !slices.Contains(c.Identity, domain.CategoryUnknown) {
				s.Identity, s.IdentityKnown = slices.Clone([]string(c.Identity)), true
			}
		}
		var ended calendar.Date
		if c.EndedOn != nil {
			ended = civilDate(*c.EndedOn)
			endedOn[c.ID] = ended
		}
		switch {
		case c.SeatFrom != nil:
			en := domain.Enrolment{From: civilDate(*c.SeatFrom)}
			if c.SeatLast != nil {
				en.Last = civilDate(*c.SeatLast)
			}
			if !c.Released && !ended.IsZero() && (en.Last.IsZero() || ended.Before(en.Last)) {
				en.Last = ended
			}
			s.Enrolments = append(s.Enrolments, en)
		case c.EnrolledOn != nil && !seen[c.ID]:
			seen[c.ID] = true
			s.Enrolments = append(s.Enrolments, domain.Enrolment{From: civilDate(*c.EnrolledOn), Last: ended})
		}
	}
	for _, e := range eps {
		i, ok := byCase[e.CaseID]
		if !ok {
			continue // a case never enrolled cannot have an episode
		}
		st := domain.StatEpisode{CaseID: e.CaseID, Episode: e.Episode, Start: civilDate(e.FirstDayAbsent),
			Whereabouts: e.Whereabouts, Reason: e.Reason}
		if e.FoundOn != nil {
			st.Found = civilDate(*e.FoundOn)
		}
		if e.ReturnedOn != nil {
			st.Returned = civilDate(*e.ReturnedOn)
		}
		if e.ClosedOn != nil {
			st.Closed = civilDate(*e.ClosedOn)
		}
		students[i].Episodes = append(students[i].Episodes, st)
	}
	for i := range students {
		endWithEnrolment(&students[i], endedOn)
	}
	return students
}

// endWithEnrolment ends an episode still open when its case ended (a
// suspension while out, R-SUS-1 (4)): from the next day the student is
// no longer the branch's, so is not counted out in later periods (B) or
// on later print dates (P). The end is a closing, not a return (C, D). A
// planned graduation does not end it: a student out does not graduate.
func endWithEnrolment(s *domain.StatStudent, endedOn map[string]calendar.Date) {
	for j, e := range s.Episodes {
		if !e.Returned.IsZero() || !e.Closed.IsZero() {
			continue
		}
		if end, ok := endedOn[e.CaseID]; ok && !e.Start.After(end) {
			s.Episodes[j].Closed = end.AddDays(1)
		}
	}
}
