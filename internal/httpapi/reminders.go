package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"cihui/internal/reminders"
)

// reminderFailures serves GET /v1/reminders/failures to admins: the
// digests that could not be sent (issue 14) — the person's id, the
// period, the attempts and the error class; never an address.
func (s *Server) reminderFailures(c echo.Context) error {
	list, err := reminders.Failures(c.Request().Context(), s.db)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}
