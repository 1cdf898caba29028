package projections

import (
	"context"
)

// LetterItem is a letter with the case it is about.
type LetterItem struct {
	CaseID string `db:"case_id" json:"case_id"`
	Letter
}

// Letters returns the letters of the cases in scope, newest first, those
// before position before when it is not 0: a school's are the letters to
// it about its own students, a branch's those of its cases. Letters name
// students by alias only.
func (r *Reader) Letters(ctx context.Context, sc Scope, before uint64, limit int) ([]LetterItem, error) {
	out := []LetterItem{}
	err := r.db.SelectContext(ctx, &out, `
		SELECT l.case_id, l.position, l.to_school, l.student_alias, l.subject, l.outcome, l.next_step, l.meeting,
		       to_char(l.issued_on, 'YYYY-MM-DD') AS issued_on
		FROM letters l JOIN cases c ON c.id = l.case_id
		WHERE ($1 = '' OR (l.to_school = $1 AND c.origin_school = $1))
		  AND ($2 = '' OR c.branch = $2)
		  AND ($3::bigint = 0 OR l.position < $3)
		ORDER BY l.position DESC
		LIMIT $4`, sc.School, sc.Branch, int64(before), limit)
	return out, err
}
