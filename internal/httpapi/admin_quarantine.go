package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/projections"
)

// RetryRequested is the answer of a retry request: how many quarantined
// events are marked for the projector to retry.
type RetryRequested struct {
	Marked int `json:"marked"`
}

// listQuarantine serves GET /v1/projections/quarantine to admins: each
// quarantined event's position, stream, type, error code and class,
// attempts and times; never a value of the event.
func (s *Server) listQuarantine(c echo.Context) error {
	items, err := projections.ListQuarantine(c.Request().Context(), s.db)
	if err != nil {
		return err
	}
	q, err := projections.Quarantined(c.Request().Context(), s.db)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "held": q.Held})
}

// retryQuarantine serves POST /v1/projections/quarantine/retry (every
// quarantined event) and POST /v1/projections/quarantine/{position}/retry
// to admins. The API marks them; the running projector retries them with
// the held events of their streams and clears the mark (202).
func (s *Server) retryQuarantine(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	var pos uint64
	if raw := c.Param("position"); raw != "" {
		p, err := strconv.ParseUint(raw, 10, 64)
		if err != nil || p == 0 || p > 1<<63-1 {
			return domain.Invalid(map[string]string{"position": "must be a positive integer"})
		}
		pos = p
	}
	n, err := projections.RequestRetry(c.Request().Context(), s.db, actorOf(c).UserID, pos)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, RetryRequested{Marked: n})
}
