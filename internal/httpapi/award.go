package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// The award plan (R-AWD-1): the evidence pack drawn from the events and
// the final-review score sheets.

// awardRoutes registers the routes of this file.
func (s *Server) awardRoutes(post, read routeFunc) {
	readers := roles(domain.RoleBureau, domain.RoleSocialWorker)
	read("/award/evidence", s.awardEvidence, readers)
	post("/award/score-sheets", s.fillScoreSheet, roles(domain.RoleBureau))
	read("/award/score-sheets", s.listScoreSheets, readers)
	read("/award/score-sheets/:sheet", s.getScoreSheet, readers)
	post("/award/score-sheets/:sheet/corrections", s.correctScoreSheet, roles(domain.RoleBureau))
}

// awardEvidence answers GET /v1/award/evidence?academic_year=114[&as_of=].
func (s *Server) awardEvidence(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	year := q.academicYear()
	if c.QueryParam("academic_year") == "" {
		q.ck.Set("academic_year", "required: an ROC academic year such as 114")
	}
	asOf := s.today()
	if v := c.QueryParam("as_of"); v != "" {
		if d, ok := q.ck.Date("as_of", v); ok {
			asOf = d
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	ev, err := s.reader.AwardEvidence(c.Request().Context(), branchOf(actorOf(c)), year, asOf)
	if err != nil {
		return err
	}
	// Counts and case ids only: no personal data, not in the access log.
	return c.JSON(http.StatusOK, ev)
}

// ScoreSheetRequest is the body of POST /v1/award/score-sheets and of a
// correction (which leaves academic_year out).
type ScoreSheetRequest struct {
	AcademicYear int            `json:"academic_year,omitempty"`
	Ratings      map[string]int `json:"ratings"`
	Reviewer     string         `json:"reviewer"`
	Comments     string         `json:"comments,omitempty"`
}

func (r *ScoreSheetRequest) validate(calendar.Date) error {
	return domain.ValidateScoreSheet(r.Ratings, r.Reviewer, r.Comments)
}

func (r ScoreSheetRequest) sheet() app.ScoreSheet {
	return app.ScoreSheet{AcademicYear: r.AcademicYear, Ratings: r.Ratings, Reviewer: r.Reviewer, Comments: r.Comments}
}

func (s *Server) fillScoreSheet(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req ScoreSheetRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	if !domain.ValidAcademicYear(req.AcademicYear) {
		return domain.Invalid(map[string]string{"academic_year": "must be an ROC academic year such as 114"})
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, err := s.app.FillScoreSheet(c.Request().Context(), m, req.sheet())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/award/score-sheets/"+res.ID)
	return commandResponse(c, http.StatusCreated, res)
}

func (s *Server) correctScoreSheet(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req ScoreSheetRequest) (appResult, error) {
		if req.AcademicYear != 0 {
			return appResult{}, domain.Invalid(map[string]string{"academic_year": "a correction keeps the sheet's academic year: leave it out"})
		}
		return s.app.CorrectScoreSheet(ctx, m, c.Param("sheet"), req.sheet())
	})
}

// ScoreSheetView is a score sheet as the API shows it: each criterion's
// rating and points and the total (R-AWD-1 Decision: w·r/5). Reviewer and
// comments are opened for the bureau only.
type ScoreSheetView struct {
	ID           string                  `json:"id"`
	AcademicYear int                     `json:"academic_year"`
	Scores       []domain.CriterionScore `json:"scores"`
	Total        int                     `json:"total"`
	Reviewer     *string                 `json:"reviewer,omitempty"`
	Comments     *string                 `json:"comments,omitempty"`
	Corrections  int                     `json:"corrections"`
	Version      uint64                  `json:"version"`
	Position     uint64                  `json:"position"`
	FiledAt      time.Time               `json:"filed_at"`
	UpdatedAt    time.Time               `json:"updated_at"`
}

func (s *Server) scoreSheetView(ctx context.Context, row projections.ScoreSheetRow, open bool) (ScoreSheetView, error) {
	var ratings map[string]int
	if err := json.Unmarshal(row.Ratings, &ratings); err != nil {
		return ScoreSheetView{}, err
	}
	scores, _ := domain.AwardScore(ratings)
	v := ScoreSheetView{ID: row.ID, AcademicYear: row.AcademicYear, Scores: scores, Total: row.Total, Corrections: row.Corrections,
		Version: row.Version, Position: row.Position, FiledAt: row.FiledAt, UpdatedAt: row.UpdatedAt}
	if !open {
		return v, nil
	}
	var err error
	if v.Reviewer, err = s.openNote(ctx, row.Reviewer); err != nil {
		return v, err
	}
	v.Comments, err = s.openNote(ctx, row.Comments)
	return v, err
}

// ScoreSheetList is the body of GET /v1/award/score-sheets.
type ScoreSheetList struct {
	Items        []ScoreSheetView `json:"items"`
	ReadPosition uint64           `json:"read_position"`
}

func (s *Server) listScoreSheets(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	year := q.academicYear()
	if err := q.err(); err != nil {
		return err
	}
	a := actorOf(c)
	ctx := c.Request().Context()
	rows, err := s.reader.ScoreSheets(ctx, branchOf(a), year)
	if err != nil {
		return err
	}
	out := ScoreSheetList{Items: make([]ScoreSheetView, len(rows)), ReadPosition: s.waiter.Position()}
	for i, row := range rows {
		if out.Items[i], err = s.scoreSheetView(ctx, row, a.Role == domain.RoleBureau); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getScoreSheet(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	a := actorOf(c)
	ctx := c.Request().Context()
	row, err := s.reader.ScoreSheet(ctx, branchOf(a), c.Param("sheet"))
	if err != nil {
		return err
	}
	v, err := s.scoreSheetView(ctx, row, a.Role == domain.RoleBureau)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(v.Version, 10)+`"`)
	return c.JSON(http.StatusOK, v)
}
