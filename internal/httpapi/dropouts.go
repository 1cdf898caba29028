package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/projections"
)

// Dropout episodes (R-ORG-4) and suspension grounds (R-SUS-1).

// MaxEpisode bounds the episode number of a path: far more than a case
// can have.
const MaxEpisode = 999

type routeFunc func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc)

// dropoutRoutes registers the routes of this file.
func (s *Server) dropoutRoutes(post, read routeFunc) {
	sw := roles(domain.RoleSocialWorker)
	post("/referrals/:id/dropouts", s.openDropout, sw)
	post("/referrals/:id/dropouts/:n/reported", s.reportDropout, roles(domain.RoleOriginSchool))
	post("/referrals/:id/dropouts/:n/follow-ups", s.dropoutFollowUp, roles(domain.RoleOriginSchool, domain.RoleSocialWorker))
	post("/referrals/:id/dropouts/:n/found", s.dropoutFound, sw)
	post("/referrals/:id/dropouts/:n/returned", s.dropoutReturned, sw)
	post("/referrals/:id/dropouts/:n/close", s.closeDropout, sw)
	post("/referrals/:id/grounds", s.recordGround, sw)
	read("/suspension-grounds", s.suspensionGrounds, roles(domain.RoleSocialWorker, domain.RoleCommittee))
}

// episodeParam is the path's episode number (checked by validPathParams).
func episodeParam(c echo.Context) int {
	n, _ := smallInt(c.Param("n"), 1, MaxEpisode)
	return n
}

// parseDateField parses a required date field of a body.
func parseDateField(field, v string) (calendar.Date, error) {
	d, err := calendar.ParseDate(v)
	if err != nil {
		return calendar.Date{}, domain.Invalid(map[string]string{field: "must be a date YYYY-MM-DD"})
	}
	return d, nil
}

// DropoutRequest is the body of POST /v1/referrals/{id}/dropouts.
type DropoutRequest struct {
	FirstDayAbsent string `json:"first_day_absent"`
	Whereabouts    string `json:"whereabouts"`
	Reason         string `json:"reason"`
	SubReason      string `json:"sub_reason,omitempty"`
	Note           string `json:"note,omitempty"`
}

func (r *DropoutRequest) command() (domain.OpenDropout, error) {
	d, err := parseDateField("first_day_absent", r.FirstDayAbsent)
	if err != nil {
		return domain.OpenDropout{}, err
	}
	return domain.OpenDropout{FirstDayAbsent: d, Whereabouts: r.Whereabouts, Reason: r.Reason, SubReason: r.SubReason}, nil
}

func (r *DropoutRequest) validate(today calendar.Date) error {
	o, err := r.command()
	if err != nil {
		return err
	}
	if err := o.Validate(today); err != nil {
		return err
	}
	return domain.CheckNote("note", r.Note)
}

// DropoutOpenedResult is the answer to opening an episode.
type DropoutOpenedResult struct {
	appResult
	Episode int `json:"episode"`
}

func (s *Server) openDropout(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req DropoutRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	o, err := req.command()
	if err != nil {
		return err
	}
	res, n, err := s.app.OpenDropout(c.Request().Context(), m, c.Param("id"), o, req.Note)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(res.Version, 10)+`"`)
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/referrals/"+res.ID+"/dropouts/"+strconv.Itoa(n))
	return c.JSON(http.StatusCreated, DropoutOpenedResult{appResult: res, Episode: n})
}

// DropoutReportedRequest is the body of …/dropouts/{n}/reported.
type DropoutReportedRequest struct {
	ReportedOn string `json:"reported_on"`
}

func (r *DropoutReportedRequest) validate(today calendar.Date) error {
	d, err := parseDateField("reported_on", r.ReportedOn)
	if err != nil {
		return err
	}
	if d.After(today) {
		return domain.Invalid(map[string]string{"reported_on": "cannot be in the future"})
	}
	return nil
}

func (s *Server) reportDropout(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req DropoutReportedRequest) (appResult, error) {
		d, err := parseDateField("reported_on", req.ReportedOn)
		if err != nil {
			return appResult{}, err
		}
		return s.app.ReportDropout(ctx, m, c.Param("id"), episodeParam(c), d)
	})
}

// DropoutFollowUpRequest is the body of …/dropouts/{n}/follow-ups.
type DropoutFollowUpRequest struct {
	Kind string `json:"kind"`
	On   string `json:"on"`
	Note string `json:"note,omitempty"`
}

func (r *DropoutFollowUpRequest) validate(today calendar.Date) error {
	d, err := parseDateField("on", r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateFollowUp(r.Kind, d, today); err != nil {
		return err
	}
	return domain.CheckNote("note", r.Note)
}

func (s *Server) dropoutFollowUp(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req DropoutFollowUpRequest) (appResult, error) {
		d, err := parseDateField("on", req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.LogDropoutFollowUp(ctx, m, c.Param("id"), episodeParam(c), req.Kind, d, req.Note)
	})
}

// DropoutFoundRequest is the body of …/dropouts/{n}/found.
type DropoutFoundRequest struct {
	FoundOn string `json:"found_on"`
}

func (r *DropoutFoundRequest) validate(calendar.Date) error {
	_, err := parseDateField("found_on", r.FoundOn)
	return err
}

func (s *Server) dropoutFound(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req DropoutFoundRequest) (appResult, error) {
		d, err := parseDateField("found_on", req.FoundOn)
		if err != nil {
			return appResult{}, err
		}
		return s.app.FindDropout(ctx, m, c.Param("id"), episodeParam(c), d)
	})
}

// DropoutReturnedRequest is the body of …/dropouts/{n}/returned.
type DropoutReturnedRequest struct {
	ReturnedOn string `json:"returned_on"`
}

func (r *DropoutReturnedRequest) validate(calendar.Date) error {
	_, err := parseDateField("returned_on", r.ReturnedOn)
	return err
}

func (s *Server) dropoutReturned(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req DropoutReturnedRequest) (appResult, error) {
		d, err := parseDateField("returned_on", req.ReturnedOn)
		if err != nil {
			return appResult{}, err
		}
		return s.app.ReturnDropout(ctx, m, c.Param("id"), episodeParam(c), d)
	})
}

// DropoutCloseRequest is the body of …/dropouts/{n}/close.
type DropoutCloseRequest struct {
	ClosedOn string `json:"closed_on"`
	Outcome  string `json:"outcome"`
}

func (r *DropoutCloseRequest) validate(calendar.Date) error {
	if _, err := parseDateField("closed_on", r.ClosedOn); err != nil {
		return err
	}
	return domain.ValidateDropoutClose(r.Outcome)
}

func (s *Server) closeDropout(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req DropoutCloseRequest) (appResult, error) {
		d, err := parseDateField("closed_on", req.ClosedOn)
		if err != nil {
			return appResult{}, err
		}
		return s.app.CloseDropout(ctx, m, c.Param("id"), episodeParam(c), d, req.Outcome)
	})
}

// GroundRequest is the body of POST /v1/referrals/{id}/grounds.
type GroundRequest struct {
	Ground   int    `json:"ground"`
	On       string `json:"on"`
	Evidence string `json:"evidence"`
}

func (r *GroundRequest) validate(today calendar.Date) error {
	d, err := parseDateField("on", r.On)
	if err != nil {
		return err
	}
	if err := domain.ValidateGround(r.Ground, d, today); err != nil {
		return err
	}
	return domain.CheckNote("evidence", r.Evidence)
}

func (s *Server) recordGround(c echo.Context) error {
	return command(s, c, false, func(ctx context.Context, m appMeta, req GroundRequest) (appResult, error) {
		d, err := parseDateField("on", req.On)
		if err != nil {
			return appResult{}, err
		}
		return s.app.RecordGround(ctx, m, c.Param("id"), req.Ground, d, req.Evidence)
	})
}

// DropoutView is a dropout episode as the API shows it: codes and dates,
// no notes.
type DropoutView struct {
	Episode        int     `json:"episode"`
	FirstDayAbsent string  `json:"first_day_absent"`
	Whereabouts    string  `json:"whereabouts"`
	Reason         string  `json:"reason"`
	ReasonLabel    string  `json:"reason_label"`
	SubReason      string  `json:"sub_reason,omitempty"`
	SubReasonLabel string  `json:"sub_reason_label,omitempty"`
	ReportedOn     *string `json:"reported_on"`
	FoundOn        *string `json:"found_on"`
	ReturnedOn     *string `json:"returned_on"`
	ClosedOn       *string `json:"closed_on"`
	Outcome        *string `json:"outcome"`
	Open           bool    `json:"open"`
	FollowUps      int     `json:"follow_ups"`
	LastFollowUpOn *string `json:"last_follow_up_on"`
}

func dropoutView(e projections.Episode) DropoutView {
	return DropoutView{Episode: e.Episode, FirstDayAbsent: e.FirstDayAbsent.Format(time.DateOnly), Whereabouts: e.Whereabouts,
		Reason: e.Reason, ReasonLabel: domain.DropoutReasonLabels[e.Reason], SubReason: e.SubReason,
		SubReasonLabel: domain.SubReasonLabel(e.Reason, e.SubReason), ReportedOn: dateString(e.ReportedOn),
		FoundOn: dateString(e.FoundOn), ReturnedOn: dateString(e.ReturnedOn), ClosedOn: dateString(e.ClosedOn),
		Outcome: e.Outcome, Open: e.ClosedOn == nil, FollowUps: e.FollowUps, LastFollowUpOn: dateString(e.LastFollowUp)}
}

// GroundView is one ground of R-SUS-1 that holds.
type GroundView struct {
	Ground int    `json:"ground"`
	Label  string `json:"label"`
	Source string `json:"source"` // detected | recorded
}

// GroundsView are the grounds of R-SUS-1 that hold on AsOf.
type GroundsView struct {
	AsOf     string       `json:"as_of"`
	Detected []int        `json:"detected"`
	Recorded []int        `json:"recorded"`
	Grounds  []GroundView `json:"grounds"`
}

func groundsView(eps []projections.Episode, gs []projections.Ground, asOf calendar.Date) GroundsView {
	v := GroundsView{AsOf: asOf.String(),
		Detected: domain.DetectGrounds(projections.DomainEpisodes(eps), asOf),
		Recorded: domain.GroundsRecordedBy(projections.DomainGrounds(gs), asOf)}
	if v.Detected == nil {
		v.Detected = []int{}
	}
	if v.Recorded == nil {
		v.Recorded = []int{}
	}
	v.Grounds = []GroundView{}
	for _, g := range v.Recorded {
		v.Grounds = append(v.Grounds, GroundView{Ground: g, Label: domain.SuspensionGroundLabels[g], Source: "recorded"})
	}
	for _, g := range v.Detected {
		v.Grounds = append(v.Grounds, GroundView{Ground: g, Label: domain.SuspensionGroundLabels[g], Source: "detected"})
	}
	return v
}

// DropoutFields are the parts of a case detail this file adds: its
// episodes and the grounds that hold today (R-ORG-4, R-SUS-1).
type DropoutFields struct {
	Dropouts          []DropoutView `json:"dropouts,omitempty"`
	SuspensionGrounds *GroundsView  `json:"suspension_grounds,omitempty"`
}

// addDropoutsOn fills v's episodes, read through rd, and, for an enrolled student, the
// grounds that hold on day (today, Taipei, or an as-of read's date).
func (s *Server) addDropoutsOn(ctx context.Context, rd *projections.Reader, v *ReferralView, day calendar.Date) error {
	eps, gs, ok := v.CaseDropouts() // read with the detail
	if !ok {
		var err error
		if eps, gs, err = rd.Dropouts(ctx, v.ID); err != nil {
			return err
		}
	}
	v.Dropouts = make([]DropoutView, 0, len(eps))
	for _, e := range eps {
		v.Dropouts = append(v.Dropouts, dropoutView(e))
	}
	if v.Stage == string(domain.StageEnrolled) {
		g := groundsView(eps, gs, day)
		v.SuspensionGrounds = &g
	}
	return nil
}

// GroundsEntry is one enrolled student with a ground in the list.
type GroundsEntry struct {
	ID           string      `json:"id"`
	Alias        string      `json:"alias"`
	OriginSchool string      `json:"origin_school"`
	Grade        int         `json:"grade"`
	Class        *string     `json:"class"`
	Grounds      GroundsView `json:"suspension_grounds"`
	// Episodes counts the episodes begun by as_of; OpenEpisode is the one
	// still open on as_of, if any.
	Episodes    int          `json:"episodes"`
	OpenEpisode *DropoutView `json:"open_episode"`
}

// GroundsList is the body of GET /v1/suspension-grounds.
type GroundsList struct {
	AsOf         string         `json:"as_of"`
	Items        []GroundsEntry `json:"items"`
	ReadPosition uint64         `json:"read_position"`
}

// suspensionGrounds lists the enrolled students with a ground of R-SUS-1
// as of ?as_of (default today, Taipei), computed from the projected
// episode dates and recorded grounds.
func (s *Server) suspensionGrounds(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	asOf := s.today()
	if raw := c.QueryParam("as_of"); raw != "" {
		d, err := calendar.ParseDate(raw)
		if err != nil {
			return domain.Invalid(map[string]string{"as_of": "must be a date YYYY-MM-DD"})
		}
		asOf = d
	}
	rows, err := s.reader.EnrolledGroundData(c.Request().Context(), scope(actorOf(c)), asOf)
	if err != nil {
		return err
	}
	out := GroundsList{AsOf: asOf.String(), Items: []GroundsEntry{}, ReadPosition: s.waiter.Position()}
	for _, r := range rows {
		g := groundsView(r.Episodes, r.Grounds, asOf)
		if len(g.Grounds) == 0 {
			continue
		}
		e := GroundsEntry{ID: r.ID, Alias: domain.Alias(r.ID), OriginSchool: r.OriginSchool, Grade: r.Grade, Class: r.Class, Grounds: g}
		for _, ep := range r.Episodes {
			if civil(ep.FirstDayAbsent).After(asOf) {
				continue
			}
			e.Episodes++
			if ep.ClosedOn == nil || civil(*ep.ClosedOn).After(asOf) {
				v := dropoutView(ep)
				e.OpenEpisode = &v
			}
		}
		out.Items = append(out.Items, e)
	}
	// The grounds (misconduct, dropouts) are about the students: the read
	// is recorded like a case list.
	if err := s.recordAccess(c, caseIDs(out.Items, func(e GroundsEntry) string { return e.ID })...); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
