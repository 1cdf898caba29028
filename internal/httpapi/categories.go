package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// CategoriesRequest is the body of PUT /v1/referrals/{id}/categories: the
// statistical categories to correct (R-STAT-2); fields left out keep
// their values, "unknown" clears one.
type CategoriesRequest struct {
	domain.Categories
}

func (r *CategoriesRequest) validate(calendar.Date) error {
	return domain.ValidateCategories(r.Categories)
}

// putCategories corrects a referral's statistical categories (origin
// school, social worker; issue 11).
func (s *Server) putCategories(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req CategoriesRequest) (appResult, error) {
		return s.app.CorrectCategories(ctx, m, c.Param("id"), req.Categories)
	})
}
