package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
)

// BranchRequest is the body of PUT /v1/branches/{code}. Fields left out
// keep their current values (for a new branch: the defaults of the source
// document); overrides and meeting_months change the years and kinds they
// name (an empty object for a year removes its windows).
type BranchRequest struct {
	Code          *string                       `json:"code,omitempty"`
	Name          *string                       `json:"name,omitempty"`
	Committee     *string                       `json:"committee,omitempty"`
	Cap           *int                          `json:"cap,omitempty"`
	ClassNorms    *domain.ClassNorms            `json:"class_norms,omitempty"`
	StartOfYear   *domain.WindowRule            `json:"start_of_year,omitempty"`
	MidYear       *domain.WindowRule            `json:"mid_year,omitempty"`
	Overrides     map[string]YearWindowsRequest `json:"overrides,omitempty"`
	MeetingMonths map[string]time.Month         `json:"meeting_months,omitempty"`
}

// YearWindowsRequest are one academic year's published windows.
type YearWindowsRequest struct {
	StartOfYear *WindowRequest `json:"start_of_year,omitempty"`
	MidYear     *WindowRequest `json:"mid_year,omitempty"`
}

// WindowRequest is a window as dates YYYY-MM-DD, both inclusive.
type WindowRequest struct {
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// Apply lays the request over b, checking what only the request knows
// (dates, years, the code); domain.ValidateBranch checks the rest.
func (r BranchRequest) Apply(b domain.Branch) (domain.Branch, error) {
	var ck domain.Check
	if r.Code != nil && *r.Code != b.Code {
		ck.Set("code", "must be the code in the path")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&b.Name, r.Name)
	set(&b.Committee, r.Committee)
	if r.Cap != nil {
		b.Cap = *r.Cap
	}
	if r.ClassNorms != nil {
		b.ClassNorms = *r.ClassNorms
	}
	if r.StartOfYear != nil {
		b.StartOfYear = *r.StartOfYear
	}
	if r.MidYear != nil {
		b.MidYear = *r.MidYear
	}
	if len(r.MeetingMonths) > 0 {
		mm := make(map[string]time.Month, len(b.MeetingMonths)+len(r.MeetingMonths))
		for k, v := range b.MeetingMonths {
			mm[k] = v
		}
		for k, v := range r.MeetingMonths {
			mm[k] = v
		}
		b.MeetingMonths = mm
	}
	if len(r.Overrides) > 0 {
		o := make(map[int]domain.YearOverrides, len(b.Overrides)+len(r.Overrides))
		for y, w := range b.Overrides {
			o[y] = w
		}
		for ys, w := range r.Overrides {
			f := "overrides." + ys
			y, ok := smallInt(ys, domain.MinAcademicYear, domain.MaxAcademicYear)
			if !ok {
				ck.Set("overrides", "keys must be ROC academic years such as 115")
				continue
			}
			yo := domain.YearOverrides{
				StartOfYear: window(&ck, f+".start_of_year", w.StartOfYear),
				MidYear:     window(&ck, f+".mid_year", w.MidYear),
			}
			if yo.StartOfYear == nil && yo.MidYear == nil {
				delete(o, y)
				continue
			}
			o[y] = yo
		}
		b.Overrides = o
	}
	return b, ck.Err()
}

func window(ck *domain.Check, field string, w *WindowRequest) *domain.Window {
	if w == nil {
		return nil
	}
	opens, ok1 := ck.Date(field+".opens", w.Opens)
	closes, ok2 := ck.Date(field+".closes", w.Closes)
	if !ok1 || !ok2 {
		return nil
	}
	return &domain.Window{Opens: opens, Closes: closes}
}

func branchCode(c echo.Context) (string, error) {
	code := c.Param("code")
	if !domain.ValidCode(code) {
		return "", domain.Invalid(map[string]string{"code": "must be a code of 1 to 32 letters, digits, '_' or '-'"})
	}
	return code, nil
}

func (s *Server) listBranches(c echo.Context) error {
	bs, err := s.app.ListBranches(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": bs})
}

func (s *Server) getBranch(c echo.Context) error {
	code, err := branchCode(c)
	if err != nil {
		return err
	}
	b, err := s.app.GetBranch(c.Request().Context(), actorOf(c), code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (s *Server) branchHistory(c echo.Context) error {
	code, err := branchCode(c)
	if err != nil {
		return err
	}
	h, err := s.app.BranchHistory(c.Request().Context(), actorOf(c), code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": h})
}

// putBranch creates (201) or changes (200) a branch's settings; the change
// is recorded with the token that made it.
func (s *Server) putBranch(c echo.Context) error {
	code, err := branchCode(c)
	if err != nil {
		return err
	}
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req BranchRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	ctx, a := c.Request().Context(), actorOf(c)
	cur, err := s.app.GetBranch(ctx, a, code)
	created := domain.ErrorCode(err) == domain.ENotFound
	switch {
	case created:
		cur = domain.DefaultBranch()
		// A new branch names itself and its committee.
		cur.Code, cur.Name, cur.Committee, cur.Overrides = code, "", "", nil
	case err != nil:
		return err
	}
	next, err := req.Apply(cur)
	if err != nil {
		return err
	}
	var base *domain.Branch
	if !created {
		base = &cur
	}
	ch, err := s.app.ConfigureBranch(ctx, a, domain.BranchPut, base, next)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatInt(ch.Seq, 10)+`"`)
	if ch.Before == nil {
		return c.JSON(http.StatusCreated, ch.After)
	}
	return c.JSON(http.StatusOK, ch.After)
}
