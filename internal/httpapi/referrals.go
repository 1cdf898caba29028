package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/projections"
)

// OpenReferralRequest is the body of POST /v1/referrals.
type OpenReferralRequest struct {
	Route              domain.Route   `json:"route"`
	Channel            domain.Channel `json:"channel,omitempty"`
	AcademicYear       int            `json:"academic_year,omitempty"`
	OriginSchool       string         `json:"origin_school,omitempty"`
	Grade              int            `json:"grade"`
	ElementaryGraduate bool           `json:"elementary_graduate,omitempty"`
	IntendedSchool     string         `json:"intended_school,omitempty"`
	Student            struct {
		Name       string `json:"name"`
		Sex        string `json:"sex"`
		BirthDate  string `json:"birth_date"`
		NationalID string `json:"national_id"`
	} `json:"student"`
	Guardian struct {
		Name         string `json:"name"`
		Relationship string `json:"relationship"`
	} `json:"guardian"`
	Family          domain.Family `json:"family"`
	Grounds         []string      `json:"grounds"`
	CrisisType      string        `json:"crisis_type,omitempty"`
	DropoutRecord   bool          `json:"dropout_record,omitempty"`
	Exclusions      []string      `json:"exclusions,omitempty"`
	ExclusionReason string        `json:"exclusion_reason,omitempty"`
	GuardianConsent bool          `json:"guardian_consent"`
	StudentWilling  bool          `json:"student_willing"`
	Reason          string        `json:"reason"`
	// Categories are the statistical categories (R-STAT-2), optional.
	Categories domain.Categories `json:"categories,omitzero"`
}

// command returns the domain command the request asks for.
func (req *OpenReferralRequest) command(now time.Time) domain.OpenReferral {
	return domain.OpenReferral{
		OriginSchool:       req.OriginSchool,
		Route:              req.Route,
		Channel:            req.Channel,
		AcademicYear:       req.AcademicYear,
		Grade:              req.Grade,
		ElementaryGraduate: req.ElementaryGraduate,
		IntendedSchool:     req.IntendedSchool,
		Sex:                req.Student.Sex,
		Grounds:            req.Grounds,
		Exclusions:         req.Exclusions,
		DropoutRecord:      req.DropoutRecord,
		GuardianConsent:    req.GuardianConsent,
		StudentWilling:     req.StudentWilling,
		Person: domain.Person{
			StudentName:      req.Student.Name,
			NationalID:       req.Student.NationalID,
			BirthDate:        req.Student.BirthDate,
			GuardianName:     req.Guardian.Name,
			GuardianRelation: req.Guardian.Relationship,
			CrisisType:       req.CrisisType,
			Reason:           req.Reason,
			ExclusionReason:  req.ExclusionReason,
			Family:           req.Family,
		},
		Categories: req.Categories,
		Now:        now,
	}
}

func (req *OpenReferralRequest) validate(today calendar.Date) error {
	return req.command(today.Time()).Validate()
}

func (s *Server) openReferral(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req OpenReferralRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	res, err := s.app.OpenReferral(c.Request().Context(), m, req.command(time.Time{}))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/referrals/"+res.ID)
	return commandResponse(c, http.StatusCreated, res)
}

// scope is what the actor may read.
func scope(a events.Actor) projections.Scope {
	switch a.Role {
	case domain.RoleOriginSchool:
		return projections.Scope{School: a.School}
	case domain.RoleAdmin:
		return projections.Scope{}
	}
	return projections.Scope{Branch: a.Branch}
}

// seesPersonal reports whether a role sees a case's personal data: the
// origin school (its own student) and the branch school's social workers.
func seesPersonal(a events.Actor) bool {
	return a.Role == domain.RoleOriginSchool || a.Role == domain.RoleSocialWorker
}

// ReferralView is a case as GET /v1/referrals/{id} returns it: with what
// is missing, the home visit and its due date, and the first review.
type ReferralView struct {
	projections.Case
	ReceivedOn string           `json:"received_on"`
	Missing    []domain.Missing `json:"missing"`
	Complete   bool             `json:"complete"`
	// DocumentPages is the total page count of the submitted checklist
	// items (R-DOC-1).
	DocumentPages int              `json:"document_pages"`
	Visit         VisitView        `json:"visit"`
	FirstReview   *FirstReviewView `json:"first_review"`
	Admission     AdmissionView    `json:"admission"`
	// Categories are the statistical categories (R-STAT-2), unknown where
	// never recorded.
	Categories domain.Categories `json:"categories"`
	// PossibleDuplicates, for the branch's social workers only, are the
	// same student's cases from other schools flagged at filing (R-CAP-1).
	PossibleDuplicates []string `json:"possible_duplicates,omitzero"`
	// Return, End and Acceptance: R-MID-3 and R-ELIG-4 (returns.go).
	Return        *ReturnView     `json:"return,omitempty"`
	End           *EndView        `json:"end,omitempty"`
	Acceptance    *AcceptanceView `json:"acceptance,omitempty"`
	DropoutFields                 // dropouts.go: episodes and suspension grounds (detail only)
	ReadPosition  uint64          `json:"read_position,omitempty"`
}

// AdmissionView is a case's admission and enrolment.
type AdmissionView struct {
	Meeting          *string  `json:"meeting_id"`
	ReportBy         *string  `json:"report_by"`
	WaitingRank      *int     `json:"waiting_list_rank"`
	HealthExaminedOn *string  `json:"health_examined_on"`
	Infectious       bool     `json:"infectious"`
	HealthClearedOn  *string  `json:"health_cleared_on"`
	EnrolledOn       *string  `json:"enrolled_on"`
	Class            *string  `json:"class"`
	Registrations    []string `json:"registrations"`
	// MissingRegistrations are the semesters of the enrolment, up to the
	// current one, with no registration recorded (R-ENR-2), derived at
	// read time from the clock.
	MissingRegistrations []string `json:"missing_registrations"`
}

// view derives the parts of a case the read model does not store.
func (s *Server) view(c projections.Case, cal *calendar.Calendar, calErr error, a events.Actor) ReferralView {
	return s.viewOn(c, cal, calErr, a, s.today())
}

// viewOn is view with what is derived from the date (due dates, missing
// registrations) counted on day: today, or an as-of read's date.
func (s *Server) viewOn(c projections.Case, cal *calendar.Calendar, calErr error, a events.Actor, day calendar.Date) ReferralView {
	return s.viewMemo(c, cal, calErr, a, day, nil)
}

// viewMemo is viewOn with the due dates of a page counted once (memo).
func (s *Server) viewMemo(c projections.Case, cal *calendar.Calendar, calErr error, a events.Actor, day calendar.Date, memo *visitMemo) ReferralView {
	v := ReferralView{Case: c, ReceivedOn: c.ReceivedOn.Format("2006-01-02")}
	if c.Documents != nil {
		v.Missing = domain.MissingItems(domain.Route(c.Route), domain.Channel(c.Channel), c.DropoutRecord, domainDocuments(c.Documents), c.VisitReportOn != nil)
		if v.Missing == nil {
			v.Missing = []domain.Missing{}
		}
		v.Complete = len(v.Missing) == 0
		v.DocumentPages = domain.DocumentPages(domainDocuments(c.Documents))
	}
	returnsView(&v, c)
	v.Visit = visitViewMemo(c, cal, calErr, day, memo)
	if a.Role == domain.RoleSocialWorker {
		v.Visit.Log = c.Visits
		v.PossibleDuplicates = []string(c.PossibleDuplicates)
		if v.PossibleDuplicates == nil {
			v.PossibleDuplicates = []string{}
		}
	}
	v.Categories = c.Categories()
	if c.ReviewOutcome != nil {
		v.FirstReview = &FirstReviewView{Outcome: *c.ReviewOutcome, On: *dateString(c.ReviewedOn)}
	}
	v.Admission = AdmissionView{Meeting: c.AdmissionMeeting, ReportBy: dateString(c.ReportBy), HealthExaminedOn: dateString(c.HealthExaminedOn),
		Infectious: c.Infectious, HealthClearedOn: dateString(c.HealthClearedOn), EnrolledOn: dateString(c.EnrolledOn), Class: c.Class,
		Registrations: c.Registrations}
	if v.Admission.Registrations == nil {
		v.Admission.Registrations = []string{}
	}
	v.Admission.MissingRegistrations = []string{}
	if c.Stage == string(domain.StageEnrolled) && c.EnrolledOn != nil {
		v.Admission.MissingRegistrations = domain.MissingRegistrations(civil(*c.EnrolledOn), day, c.Registrations)
	}
	return v
}

func (s *Server) getReferral(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	if c.QueryParam("as_of") != "" {
		return s.getReferralAsOf(c) // asof.go
	}
	a := actorOf(c)
	cs, err := s.reader.Case(c.Request().Context(), c.Param("id"), scope(a), seesPersonal(a))
	if err != nil {
		return err
	}
	// The access record is written while the detail is built (access.go).
	recorded := s.beginAccess(c, cs.ID)
	v, err := s.detail(c.Request().Context(), s.reader, cs, a, s.today())
	if err != nil {
		_ = recorded()
		return err
	}
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(cs.Version, 10)+`"`)
	v.ReadPosition = s.waiter.Position()
	if err := recorded(); err != nil {
		return err
	}
	if cs.Stage == string(domain.StageWaitlisted) {
		// The rank comes from the roster stream itself (R-SOY-5), folded
		// once per read-model position (readcache.go).
		if rank, ok, err := s.waitingRank(c.Request().Context(), cs.Branch, cs.ID); err == nil && ok {
			v.Admission.WaitingRank = &rank
		}
	}
	return c.JSON(http.StatusOK, v)
}

// ReferralList is a page of cases.
type ReferralList struct {
	Items        []ReferralView `json:"items"`
	NextCursor   string         `json:"next_cursor,omitempty"`
	ReadPosition uint64         `json:"read_position"`
}

func (s *Server) listReferrals(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	a := actorOf(c)
	q := query{c: c}
	f := projections.CaseFilter{Scope: scope(a), Stage: q.oneOf("status", domain.Stages), School: q.code("school"),
		Limit: q.intIn("limit", 1, 500, 50), AcademicYear: q.academicYear(), Personal: seesPersonal(a)}
	if err := q.err(); err != nil {
		return err
	}
	after, err := parseCursor(c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	f.After = after
	// A page this person read at this mark is sent again as it was
	// (bodycache.go), after its access record.
	today := s.today()
	return s.keptOrBuilt(c, bodyKey{route: "referrals", filter: f, actor: a, day: today}, func() (any, []string, bool, error) {
		cases, err := s.listCases(c.Request().Context(), f) // readcache.go
		if err != nil {
			return nil, nil, false, err
		}
		cal, calErr := s.calendarFor(c.Request().Context(), a)
		out := ReferralList{Items: make([]ReferralView, 0, len(cases)), ReadPosition: s.waiter.Position()}
		memo := newVisitMemo()
		for _, cs := range cases {
			cs = ownCopy(cs) // the page may be shared with the cache
			// Each row opened with its own student's key (cached).
			if err := s.openCase(c.Request().Context(), &cs, a); err != nil {
				return nil, nil, false, err
			}
			out.Items = append(out.Items, s.viewMemo(cs, cal, calErr, a, today, memo))
		}
		if len(cases) == f.Limit {
			out.NextCursor = cases[len(cases)-1].ID
		}
		return out, caseIDs(out.Items, func(v ReferralView) string { return v.ID }), calErr == nil, nil
	})
}

// Timeline is the body of GET /v1/referrals/{id}/events.
type Timeline struct {
	ID           string                      `json:"id"`
	Events       []projections.TimelineEntry `json:"events"`
	ReadPosition uint64                      `json:"read_position"`
}

func (s *Server) referralEvents(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	if c.QueryParam("until") != "" {
		return s.referralEventsUntil(c) // asof.go
	}
	id := c.Param("id")
	// Scope first: another school's case is not found.
	if _, err := s.reader.Case(c.Request().Context(), id, scope(actorOf(c)), false); err != nil {
		return err
	}
	evs, err := s.reader.Timeline(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Timeline{ID: id, Events: evs, ReadPosition: s.waiter.Position()})
}

// DocumentRequest is the body of PUT /v1/referrals/{id}/documents/{item}:
// the origin school submits (pages, issued_on), a social worker checks
// (conforms, note).
type DocumentRequest struct {
	Pages           *int    `json:"pages,omitempty"`
	IssuedOn        *string `json:"issued_on,omitempty"`
	WithDropoutFile bool    `json:"with_dropout_file,omitempty"`
	// WithAccidentInsurance: item 9 includes the accident-insurance copy
	// (R-DOC-1, required for mid-year).
	WithAccidentInsurance bool   `json:"with_accident_insurance,omitempty"`
	Conforms              *bool  `json:"conforms,omitempty"`
	Note                  string `json:"note,omitempty"`
}

// validate checks the body's own fields; which of them a role may send,
// and the item's rules, are checked by the handler and the domain.
func (r *DocumentRequest) validate(calendar.Date) error {
	var ck domain.Check
	if r.Pages != nil {
		ck.Int("pages", *r.Pages, domain.MinPages, domain.MaxPages)
	}
	if r.IssuedOn != nil {
		ck.Date("issued_on", *r.IssuedOn)
	}
	ck.Text("note", r.Note, domain.MaxNoteLen, false)
	return ck.Err()
}

func (s *Server) putDocument(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var req DocumentRequest
	if err := decodeCommand(body, &req, false, s.today()); err != nil {
		return err
	}
	item, err := strconv.Atoi(c.Param("item"))
	if err != nil {
		return domain.Invalid(map[string]string{"item": "must be a checklist item 1–12 (R-DOC-1)"})
	}
	m, err := commandMeta(c, body)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	switch m.Actor.Role {
	case domain.RoleOriginSchool:
		if req.Pages == nil {
			return domain.Invalid(map[string]string{"pages": "required when submitting an item"})
		}
		if req.Conforms != nil || req.Note != "" {
			return domain.Invalid(map[string]string{"conforms": "items are checked by the branch school"})
		}
		var issued *calendar.Date
		if req.IssuedOn != nil {
			d, err := calendar.ParseDate(*req.IssuedOn)
			if err != nil {
				return domain.Invalid(map[string]string{"issued_on": "must be a date YYYY-MM-DD"})
			}
			issued = &d
		}
		r, err := s.app.SubmitDocumentWith(ctx, m, id, item, *req.Pages, issued,
			domain.Enclosures{DropoutFile: req.WithDropoutFile, AccidentInsurance: req.WithAccidentInsurance})
		if err != nil {
			return err
		}
		return commandResponse(c, http.StatusOK, r)
	default:
		if req.Conforms == nil {
			return domain.Invalid(map[string]string{"conforms": "required: true (符合) or false (不符合)"})
		}
		if req.Pages != nil || req.IssuedOn != nil || req.WithDropoutFile || req.WithAccidentInsurance {
			return domain.Invalid(map[string]string{"pages": "items are submitted by the origin school"})
		}
		r, err := s.app.CheckDocument(ctx, m, id, item, *req.Conforms, req.Note)
		if err != nil {
			return err
		}
		return commandResponse(c, http.StatusOK, r)
	}
}
