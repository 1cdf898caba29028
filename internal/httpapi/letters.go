package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/projections"
)

// LetterList is a page of letters, newest first.
type LetterList struct {
	Items        []projections.LetterItem `json:"items"`
	NextCursor   string                   `json:"next_cursor,omitempty"`
	ReadPosition uint64                   `json:"read_position"`
}

// letters lists the letters a school received about its students, or a
// branch's letters, in one query (the letters page of a school with many
// cases read each case before).
func (s *Server) letters(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	limit := q.intIn("limit", 1, 500, 50)
	if err := q.err(); err != nil {
		return err
	}
	var before uint64
	if v := c.QueryParam("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 63)
		if err != nil || n == 0 {
			return domain.Invalid(map[string]string{"cursor": domain.MsgInvalidCursor})
		}
		before = n
	}
	items, err := s.reader.Letters(c.Request().Context(), scope(actorOf(c)), before, limit)
	if err != nil {
		return err
	}
	out := LetterList{Items: items, ReadPosition: s.waiter.Position()}
	if len(items) == limit {
		out.NextCursor = strconv.FormatUint(items[len(items)-1].Position, 10)
	}
	// Aliases only, no personal data: not in the access log, like the
	// duties and the home-visit queue.
	return c.JSON(http.StatusOK, out)
}
