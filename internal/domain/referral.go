package domain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"cihui/internal/domain/calendar"
	"cihui/internal/domain/twid"
	"cihui/internal/events"
)

// Route is how a referral reaches the branch school.
type Route string

// Referral routes (R-SOY-*, R-MID-*).
const (
	RouteStartOfYear Route = "start_of_year"
	RouteMidYear     Route = "mid_year"
)

// Channel is the mid-year channel (R-MID-2, R-MID-3).
type Channel string

// Mid-year channels.
const (
	ChannelAssessed Channel = "assessed" // licensed assessment; filed via the bureau
	ChannelDirect   Channel = "direct"   // no assessment; filed with the branch school
)

// Grounds of eligibility (R-ELIG-1).
const (
	GroundCrisisDropout = "crisis_dropout"     // (a) dropped out after a family crisis, cannot adapt
	GroundDysfunction   = "family_dysfunction" // (b)
	GroundLowIncome     = "low_income_risk"    // (c) low / mid-low income with dropout risk
)

// Family crisis types (R-ELIG-2).
const (
	CrisisVulnerableFamily = "vulnerable_family"
	CrisisOrphanRelatives  = "orphan_with_relatives"
	CrisisSingleParent     = "single_parent"
)

// Declared exclusions (R-EXCL-1..4).
const (
	ExclCriminalSupervision = "criminal_supervision"  // R-EXCL-1: under
	ExclCriminalEverOrdered = "criminal_ever_ordered" // R-EXCL-1: ever ordered (「或曾令入感化教育者」)
	ExclSpecialEducation    = "special_education"     // R-EXCL-2
	ExclUnfitBoarding       = "unfit_for_boarding"    // R-EXCL-3
)

// Stage is where a referral stands.
type Stage string

// Stages of a referral.
const (
	StageIntake      Stage = "intake"       // filed: documents and home visit under way
	StageReturned    Stage = "returned"     // returned incomplete (退件), waiting for re-submission
	StageRecommended Stage = "recommended"  // first review: recommended list
	StageToDiscuss   Stage = "to_discuss"   // first review: to-discuss list
	StageNotEligible Stage = "not_eligible" // first review: did not pass
)

// Person is the personal data of a referral. It exists in plaintext only
// while a command runs or a reader with the key opens it; in events it is
// sealed with the student's data key.
type Person struct {
	StudentName      string `json:"student_name"`
	NationalID       string `json:"national_id"`
	BirthDate        string `json:"birth_date"`
	GuardianName     string `json:"guardian_name"`
	GuardianRelation string `json:"guardian_relation"`
	CrisisType       string `json:"crisis_type,omitempty"`
	Reason           string `json:"reason"`
	ExclusionReason  string `json:"exclusion_reason,omitempty"`
	Family           Family `json:"family"`
}

// Family is the family situation of the application form (申請表): where
// the student lives, the household's economy, the family living type, the
// vulnerable-family / child-protection flag, health and special records.
type Family struct {
	RegisteredAddress           string   `json:"registered_address,omitempty"`
	CurrentAddress              string   `json:"current_address,omitempty"`
	Housing                     string   `json:"housing,omitempty"`        // 自有 | 租賃 | 寄居 | 其他
	Economy                     string   `json:"economy,omitempty"`        // 清寒 | 低收入戶 | 其他
	IncomeSources               []string `json:"income_sources,omitempty"` // 父 | 母 | 其他
	LivesWith                   string   `json:"lives_with,omitempty"`     // the family members the student lives with
	LivingTypes                 []string `json:"living_types,omitempty"`   // 家庭居住類型, several allowed
	VulnerableOrChildProtection bool     `json:"vulnerable_or_child_protection"`
	SpecialDisease              string   `json:"special_disease,omitempty"` // empty: none
	HealthInsured               *bool    `json:"health_insured,omitempty"`
	SpecialRecords              string   `json:"special_records,omitempty"` // e.g. probation, disability
	Notes                       string   `json:"notes,omitempty"`
}

// The application form's categories.
var (
	HousingTypes = []string{"自有", "租賃", "寄居", "其他"}
	EconomyTypes = []string{"清寒", "低收入戶", "其他"}
	IncomeTypes  = []string{"父", "母", "其他"}
	LivingTypes  = []string{"父母同住", "雙亡依親", "父亡依母", "父亡依親", "母亡依父", "母亡依親",
		"離異依父", "離異依母", "離異依親", "分居依父", "分居依母", "分居依親", "父母身障", "父母入獄", "其他"}
)

func validateFamily(f Family, c *Check) {
	c.OneOf("family.housing", f.Housing, HousingTypes, false)
	c.OneOf("family.economy", f.Economy, EconomyTypes, false)
	c.EachOneOf("family.income_sources", f.IncomeSources, IncomeTypes, len(IncomeTypes))
	c.EachOneOf("family.living_types", f.LivingTypes, LivingTypes, len(LivingTypes))
	c.Line("family.registered_address", f.RegisteredAddress, MaxLineLen, false)
	c.Line("family.current_address", f.CurrentAddress, MaxLineLen, false)
	c.Line("family.lives_with", f.LivesWith, MaxLineLen, false)
	c.Text("family.special_disease", f.SpecialDisease, MaxNoteLen, false)
	c.Text("family.special_records", f.SpecialRecords, MaxNoteLen, false)
	c.Text("family.notes", f.Notes, MaxNoteLen, false)
}

// Sealer seals personal data with the data key of one person.
type Sealer interface {
	PersonKeyID(ctx context.Context, nationalID string) (string, error)
	Seal(ctx context.Context, keyID string, v any) (events.Sealed, error)
}

// OpenReferral is the command that files a referral.
type OpenReferral struct {
	ReferralID         string
	Branch             Branch
	Actor              events.Actor
	OriginSchool       string // required when the bureau files
	Route              Route
	Channel            Channel
	AcademicYear       int // 0: derived from the route and today
	Grade              int
	ElementaryGraduate bool
	IntendedSchool     string
	Sex                string
	Grounds            []string
	Exclusions         []string
	DropoutRecord      bool
	GuardianConsent    bool
	StudentWilling     bool
	Person             Person
	// Categories are the statistical categories (R-STAT-2), recorded in
	// the clear; fields left empty are unknown.
	Categories Categories
	Now        time.Time
	// Calendar is the branch's office calendar: a window whose last day is
	// a day off closes at the end of the next working day (R-SOY-2,
	// R-MID-1). Nil: the window closes on its last day.
	Calendar *calendar.Calendar
}

// Validate checks every field of the command for what the log and the
// read models can hold, and the closed sets and ranges of the form, before
// any rule is applied. It returns an EInvalid error with per-field
// messages that never contain the values.
func (c OpenReferral) Validate() error {
	var ck Check
	today := calendar.DateOf(c.Now, Taipei)
	switch c.Route {
	case RouteStartOfYear:
		if c.Channel != "" {
			ck.Set("channel", "only a mid_year referral has a channel")
		}
	case RouteMidYear:
		if c.Channel != ChannelAssessed && c.Channel != ChannelDirect {
			ck.Set("channel", "must be assessed or direct")
		}
	default:
		ck.Set("route", "must be start_of_year or mid_year")
	}
	if c.AcademicYear != 0 {
		ck.Int("academic_year", c.AcademicYear, MinAcademicYear, MaxAcademicYear)
	}
	if c.Grade < MinGrade || c.Grade > MaxGrade {
		ck.Set("grade", "must be 7, 8 or 9 (the grade the student enters or is in)")
	}
	ck.Code("origin_school", c.OriginSchool, false)
	ck.Line("intended_school", c.IntendedSchool, MaxLineLen, false)
	if c.ElementaryGraduate {
		if c.Route != RouteStartOfYear {
			ck.Set("elementary_graduate", "a graduating grade-6 pupil is referred on the start_of_year route (R-SOY-1)")
		}
		if isBlank(c.IntendedSchool) {
			ck.Set("intended_school", "required for a graduating grade-6 pupil: the junior high the pupil will attend (R-SOY-1)")
		}
	}
	if c.Sex != "M" && c.Sex != "F" {
		ck.Set("sex", "must be M or F")
	}
	p := c.Person
	if p.NationalID = twid.Normalize(p.NationalID); twid.Validate(p.NationalID) != nil {
		ck.Set("student.national_id", "not a valid national ID or resident certificate number")
	}
	ck.Line("student.name", p.StudentName, MaxNameLen, true)
	ck.CheckBirthDate("student.birth_date", p.BirthDate, today)
	ck.Line("guardian.name", p.GuardianName, MaxNameLen, true)
	ck.Line("guardian.relationship", p.GuardianRelation, MaxRelationLn, false)
	ck.Text("reason", p.Reason, MaxNoteLen, false)
	if !ck.Has("reason") && isBlank(p.Reason) {
		ck.Set("reason", "required: the reason for the referral (務必填寫)")
	}
	ck.Text("exclusion_reason", p.ExclusionReason, MaxNoteLen, false)
	ck.OneOf("crisis_type", p.CrisisType, CrisisTypes, false)
	validateFamily(p.Family, &ck)
	ck.EachOneOf("grounds", c.Grounds, Grounds, MaxListItems)
	ck.EachOneOf("exclusions", c.Exclusions, Exclusions, MaxListItems)
	validateCategories("categories.", c.Categories, &ck)
	return ck.Err()
}

// Grounds, CrisisTypes and Exclusions are the closed sets of the form
// (R-ELIG-1, R-ELIG-2, R-EXCL-1..3).
var (
	Grounds     = []string{GroundCrisisDropout, GroundDysfunction, GroundLowIncome}
	CrisisTypes = []string{CrisisVulnerableFamily, CrisisOrphanRelatives, CrisisSingleParent}
	Exclusions  = []string{ExclCriminalSupervision, ExclCriminalEverOrdered, ExclSpecialEducation, ExclUnfitBoarding}
)

// Open checks the rules for filing a referral and returns the event to
// record.
func Open(ctx context.Context, s Sealer, c OpenReferral) (events.ReferralOpened, error) {
	today := calendar.DateOf(c.Now, Taipei)
	if err := c.Validate(); err != nil {
		return events.ReferralOpened{}, err
	}
	school := c.OriginSchool
	p := c.Person
	// A lower-case national ID is the same person: it is stored, and its
	// data key derived, in upper case.
	p.NationalID = twid.Normalize(p.NationalID)

	// Who files on which route (R-SOY-1, R-MID-2, R-MID-3).
	switch c.Actor.Role {
	case RoleOriginSchool:
		if c.Route == RouteMidYear && c.Channel == ChannelAssessed {
			return events.ReferralOpened{}, RuleError("R-MID-2", "an assessed mid-year application is sent with its assessment report to the education bureau, which files it")
		}
		if school != "" && school != c.Actor.School {
			return events.ReferralOpened{}, Errorf(EForbidden, "an origin school files referrals for its own students only")
		}
		school = c.Actor.School
	case RoleBureau:
		if c.Route != RouteMidYear || c.Channel != ChannelAssessed {
			return events.ReferralOpened{}, RuleError("R-MID-3", "the bureau files assessed mid-year applications only; other referrals are filed by the origin school")
		}
		if school == "" {
			return events.ReferralOpened{}, Invalid(map[string]string{"origin_school": "required when the bureau files"})
		}
	default:
		return events.ReferralOpened{}, Errorf(EForbidden, "only origin schools and the bureau file referrals")
	}

	// Application window (R-SOY-2, R-MID-1).
	year := c.AcademicYear
	if year == 0 {
		// Mid-year applications open on Jul 1, a month before the academic
		// year starts (R-MID-1); start-of-year ones in spring, for the
		// academic year that starts in August (R-SOY-2).
		year = today.Year() - 1911
		if c.Route == RouteMidYear && today.Month() < time.July {
			year--
		}
	}
	w := c.Branch.Window(c.Route, year)
	inWindow, werr := w.ContainsOn(c.Calendar, today)
	if werr != nil {
		return events.ReferralOpened{}, werr
	}
	if !inWindow {
		rule := "R-MID-1"
		if c.Route == RouteStartOfYear {
			rule = "R-SOY-2"
		}
		last, _ := w.LastDay(c.Calendar)
		return events.ReferralOpened{}, RuleError(rule, "%s applications for academic year %d are accepted %s to %s", c.Route, year, w.Opens, last)
	}

	// Eligibility (R-ELIG-1..3).
	if len(c.Grounds) == 0 {
		return events.ReferralOpened{}, RuleError("R-ELIG-1", "at least one ground of eligibility is required")
	}
	if slices.Contains(c.Grounds, GroundCrisisDropout) && !c.DropoutRecord {
		// Ground (a) is a dropout returned to school: it needs the
		// dropout record (R-ELIG-1).
		return events.ReferralOpened{}, RuleError("R-ELIG-1", "ground crisis_dropout needs a dropout record (dropout_record)")
	}
	if (slices.Contains(c.Grounds, GroundCrisisDropout) || slices.Contains(c.Grounds, GroundDysfunction)) &&
		p.CrisisType != CrisisVulnerableFamily && p.CrisisType != CrisisOrphanRelatives && p.CrisisType != CrisisSingleParent {
		return events.ReferralOpened{}, RuleError("R-ELIG-2", "a family crisis or dysfunction must be one of: vulnerable_family, orphan_with_relatives, single_parent")
	}
	if !c.GuardianConsent || !c.StudentWilling {
		return events.ReferralOpened{}, RuleError("R-ELIG-3", "the guardian's consent and the student's willingness are required")
	}

	// Exclusions (R-EXCL-1..4).
	for _, x := range c.Exclusions {
		switch x {
		case ExclCriminalSupervision, ExclCriminalEverOrdered:
			return events.ReferralOpened{}, RuleError("R-EXCL-1", "a student under, or ever ordered into, protective supervision or reformatory education for a serious criminal case is not accepted")
		case ExclSpecialEducation:
			return events.ReferralOpened{}, RuleError("R-EXCL-2", "a student with disabilities who should be placed in a special-education class is not accepted")
		case ExclUnfitBoarding:
			return events.ReferralOpened{}, RuleError("R-EXCL-3", "a student assessed as unfit for group living and boarding is not accepted")
		}
	}
	// R-EXCL-4 is checked when the transfer takes effect (a seat's first
	// day, every exit), against the grade on that day, not at filing
	// (CheckTransfer, roster_dates.go); a major reason given here is
	// recorded (sealed) and flagged.

	// The person's key is found by a blind index of the national ID: a
	// living student's earlier cases share it; an erased student is filed
	// as a new person, and nothing in the answer reveals the past. An
	// erasure between the lookup and the seal is met by looking up again.
	var key string
	var sealed events.Sealed
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if key, err = s.PersonKeyID(ctx, p.NationalID); err != nil {
			return events.ReferralOpened{}, fmt.Errorf("finding the person's data key: %w", err)
		}
		if sealed, err = s.Seal(ctx, key, p); !errors.Is(err, events.ErrKeyDestroyed) {
			break
		}
	}
	if err != nil {
		return events.ReferralOpened{}, fmt.Errorf("sealing personal data: %w", err)
	}
	grounds := slices.Clone(c.Grounds)
	slices.Sort(grounds)
	return events.ReferralOpened{
		ReferralID:         c.ReferralID,
		OriginSchool:       school,
		AcademicYear:       year,
		Route:              string(c.Route),
		Channel:            string(c.Channel),
		ReceivedOn:         today,
		Grade:              c.Grade,
		ElementaryGraduate: c.ElementaryGraduate,
		IntendedSchool:     c.IntendedSchool,
		Sex:                c.Sex,
		Grounds:            grounds,
		DropoutRecord:      c.DropoutRecord,
		MajorReason:        strings.TrimSpace(p.ExclusionReason) != "",
		PersonKey:          key,
		Personal:           sealed,
		Categories:         UnknownCategories().Merge(c.Categories).Event(),
	}, nil
}

// Roles, re-exported for brevity in domain code.
const (
	RoleOriginSchool = events.RoleOriginSchool
	RoleSocialWorker = events.RoleSocialWorker
	RoleCommittee    = events.RoleCommittee
	RoleBureau       = events.RoleBureau
	RoleAdmin        = events.RoleAdmin
)

// ChecklistItems is the number of items of the document checklist (R-DOC-1).
const ChecklistItems = 12

// Document is the state of one checklist item.
type Document struct {
	Submitted       bool
	SubmittedOn     calendar.Date
	Pages           int
	IssuedOn        *calendar.Date
	WithDropoutFile bool
	// WithAccidentInsurance: item 9 includes the accident-insurance
	// record copy (R-DOC-1, mid-year).
	WithAccidentInsurance bool
	Checked               bool
	Conforms              bool
}

// Referral is the referral aggregate, rebuilt from its events.
type Referral struct {
	ID            string
	Branch        string
	OriginSchool  string
	Route         Route
	Channel       Channel
	AcademicYear  int
	Grade         int
	ReceivedOn    calendar.Date
	PersonKey     string
	DropoutRecord bool
	Stage         Stage
	Documents     [ChecklistItems + 1]Document // index 1..12
	Visit         Visit
	Admission     Admission
	Suspension    Suspension // 中止就讀 (R-SUS-2..4)
	// Categories are the statistical categories (R-STAT-2), Unknown
	// where never recorded.
	Categories Categories
	// Acceptance: accepted incomplete for a special reason (R-ELIG-4).
	Acceptance *Acceptance
	// Erased is the PersonErased event of this case, if recorded.
	Erased *EventRef
	// dropouts are the dropout episodes (R-ORG-4), grounds the suspension
	// grounds staff recorded (R-SUS-1): see dropout.go.
	dropouts []DropoutEpisode
	grounds  []RecordedGround

	Version uint64 // number of events applied
	LastSeq uint64 // position of the last event applied
}

// EventRef names a recorded event: its version in its stream and its
// position in the log.
type EventRef struct {
	Version, Position uint64
}

// Exists reports whether the referral has been opened.
func (r *Referral) Exists() bool { return r.Version > 0 }

// Apply folds one stored event into the state.
func (r *Referral) Apply(env events.Envelope) {
	switch e := env.Payload.(type) {
	case events.ReferralOpened:
		r.ID = e.ReferralID
		r.Branch = env.Branch
		r.OriginSchool = e.OriginSchool
		r.Route = Route(e.Route)
		r.Channel = Channel(e.Channel)
		r.AcademicYear = e.AcademicYear
		r.Grade = e.Grade
		r.ReceivedOn = e.ReceivedOn
		r.PersonKey = e.PersonKey
		r.DropoutRecord = e.DropoutRecord
		r.Admission.MajorReason = e.MajorReason // R-EXCL-4, checked when a transfer takes effect
		r.Stage = StageIntake
		r.Admission.ApplicationPosition = env.Position
		r.Categories = CategoriesOf(e.Categories)
	case events.CategoriesCorrected:
		r.Categories = CategoriesOf(e.Categories)
	case events.DocumentSubmitted:
		r.Documents[e.Item] = Document{Submitted: true, SubmittedOn: calendar.DateOf(env.OccurredAt, Taipei),
			Pages: e.Pages, IssuedOn: e.IssuedOn, WithDropoutFile: e.WithDropoutFile, WithAccidentInsurance: e.WithAccidentInsurance}
	case events.DocumentChecked:
		d := &r.Documents[e.Item]
		d.Checked, d.Conforms = true, e.Conforms
	case events.ApplicationReturned:
		r.Stage = StageReturned
	case events.ApplicationResubmitted:
		r.Stage = StageIntake
		r.ReceivedOn = e.ReceivedOn
		if e.TakesNewPlace {
			// R-MID-3 Decision: complete only now, it takes its place in
			// the application order (R-SOY-5) from here.
			r.Admission.ApplicationPosition = env.Position
		}
	case events.ApplicationLapsed:
		r.Stage = StageLapsed
	case events.IncompleteAccepted:
		r.Acceptance = &Acceptance{On: e.On, Owed: e.Owed}
	case events.HomeVisitLogged:
		switch e.Kind {
		case VisitContact:
			r.Visit.Contacts++
		case VisitHome:
			r.Visit.Visited = true
		case VisitInterview:
			r.Visit.Interviewed = true
		}
	case events.AssessmentReportFinished:
		on := e.On
		r.Visit.ReportOn = &on
	case events.FirstReviewDecided:
		r.Stage = ReviewStage(e.Outcome)
	case events.PersonErased:
		r.Erased = &EventRef{Version: env.Version, Position: env.Position}
	default:
		r.applyAdmission(env)
		r.applySuspension(env)
		r.applyDropout(env)
	}
	r.Version = env.Version
	r.LastSeq = env.Position
}

// VisibleTo reports whether actor may see the referral. An origin school
// sees only its own students; branch staff only their branch.
func (r *Referral) VisibleTo(a events.Actor) bool {
	switch a.Role {
	case RoleOriginSchool:
		return a.School == r.OriginSchool
	case RoleAdmin:
		return true
	default:
		return a.Branch == "" || a.Branch == r.Branch
	}
}

// ValidateSubmission checks a checklist submission's fields: item 1–12,
// pages 1–500, an issue date that is not in the future nor older than
// the student can be, the dropout file only with item 10 (R-DOC-1).
func ValidateSubmission(item, pages int, issuedOn *calendar.Date, withDropoutFile bool, today calendar.Date) error {
	var c Check
	if item < 1 || item > ChecklistItems {
		c.Set("item", "must be a checklist item 1–12 (R-DOC-1)")
	}
	c.Int("pages", pages, MinPages, MaxPages)
	switch {
	case item == 5 && issuedOn == nil:
		c.Set("issued_on", "required for the household registration transcript (R-DOC-1: issued within the last month)")
	case issuedOn != nil && issuedOn.After(today):
		c.Set("issued_on", "cannot be in the future")
	case issuedOn != nil:
		c.DateIn("issued_on", *issuedOn, yearsBefore(today, MaxDocumentAgeYears), today,
			"must be a date within the last "+strconv.Itoa(MaxDocumentAgeYears)+" years")
	}
	if withDropoutFile && item != 10 {
		c.Set("with_dropout_file", "only for item 10")
	}
	return c.Err()
}

// Enclosures are what a submitted item says it includes (R-DOC-1).
type Enclosures struct {
	DropoutFile       bool // item 10: the dropout personal file
	AccidentInsurance bool // item 9: the accident-insurance record copy (mid-year)
}

// SubmitDocument records that the origin school handed in a checklist item.
func (r *Referral) SubmitDocument(a events.Actor, item, pages int, issuedOn *calendar.Date, withDropoutFile bool, today calendar.Date) (events.DocumentSubmitted, error) {
	return r.SubmitDocumentWith(a, item, pages, issuedOn, Enclosures{DropoutFile: withDropoutFile}, today)
}

// SubmitDocumentWith is SubmitDocument with every enclosure an item may
// carry.
func (r *Referral) SubmitDocumentWith(a events.Actor, item, pages int, issuedOn *calendar.Date, enc Enclosures, today calendar.Date) (events.DocumentSubmitted, error) {
	if a.Role != RoleOriginSchool {
		return events.DocumentSubmitted{}, Errorf(EForbidden, "documents are submitted by the origin school")
	}
	if err := ValidateSubmission(item, pages, issuedOn, enc.DropoutFile, today); err != nil {
		return events.DocumentSubmitted{}, err
	}
	if enc.AccidentInsurance && item != 9 {
		return events.DocumentSubmitted{}, Invalid(map[string]string{"with_accident_insurance": "only for item 9"})
	}
	if r.Stage == StageLapsed {
		return events.DocumentSubmitted{}, RuleError("R-MID-3", "the application lapsed: it was not re-submitted by the window's end")
	}
	if r.Reviewed() && !r.StillOwes(item) {
		// An item accepted as owed may still arrive (R-ELIG-4).
		return events.DocumentSubmitted{}, Errorf(EConflict, "the first review has already decided")
	}
	return events.DocumentSubmitted{Item: item, Pages: pages, IssuedOn: issuedOn, WithDropoutFile: enc.DropoutFile,
		WithAccidentInsurance: enc.AccidentInsurance}, nil
}

// DocumentPages is the total page count of the submitted checklist items
// (R-DOC-1: the checklist records the total).
func DocumentPages(docs [ChecklistItems + 1]Document) int {
	n := 0
	for _, d := range docs {
		if d.Submitted {
			n += d.Pages
		}
	}
	return n
}

// CheckDocument records a social worker's check of a submitted item
// (R-DOC-1: 符合 / 不符合).
func (r *Referral) CheckDocument(a events.Actor, item int, conforms bool, note events.Sealed) (events.DocumentChecked, error) {
	if a.Role != RoleSocialWorker {
		return events.DocumentChecked{}, Errorf(EForbidden, "documents are checked by the branch school's social workers")
	}
	if err := validItem(item); err != nil {
		return events.DocumentChecked{}, err
	}
	if !r.Documents[item].Submitted {
		return events.DocumentChecked{}, RuleError("R-DOC-1", "item %d has not been submitted", item)
	}
	if item == 5 && conforms && !item5Fresh(r.Documents[5]) {
		return events.DocumentChecked{}, RuleError("R-DOC-1", "the household registration transcript must be issued within one month before submission")
	}
	if item == 9 && conforms && r.Route == RouteMidYear && !r.Documents[9].WithAccidentInsurance {
		return events.DocumentChecked{}, RuleError("R-DOC-1", "a mid-year application's item 9 must include the copy of the student's accident-insurance record")
	}
	if item == 10 && conforms && r.DropoutRecord && !r.Documents[10].WithDropoutFile {
		return events.DocumentChecked{}, RuleError("R-DOC-1", "the student has a dropout record: item 10 must include the dropout personal file")
	}
	return events.DocumentChecked{Item: item, Conforms: conforms, Note: note}, nil
}

func validItem(item int) error {
	if item < 1 || item > ChecklistItems {
		return Invalid(map[string]string{"item": "must be a checklist item 1–12 (R-DOC-1)"})
	}
	return nil
}

var checklistNames = [ChecklistItems + 1]string{
	1:  "轉介就讀申請資料檢核表",
	2:  "轉介就讀申請表",
	3:  "同意書",
	4:  "二吋半身照片",
	5:  "全戶戶籍謄本正本",
	6:  "當年度低收入戶證明",
	7:  "全戶所得稅證明及歸戶財產查詢清單",
	8:  "學生輔導資料紀錄表（AB卡）及相關輔導資料",
	9:  "健康檢查紀錄表",
	10: "學籍紀錄表、獎懲明細及出缺席記錄",
	11: "家訪評估報告",
	12: "其他",
}

// ChecklistItemName returns the name of checklist item n (R-DOC-1).
func ChecklistItemName(n int) string {
	if n < 1 || n > ChecklistItems {
		return ""
	}
	return checklistNames[n]
}

// Erasure reasons: categories, so that the reason itself holds no
// personal data.
var ErasureReasons = []string{"retention_expired", "data_subject_request", "entered_in_error"}

// ValidateErasure checks an erasure reason: one of ErasureReasons.
func ValidateErasure(reason string) error {
	var c Check
	c.OneOf("reason", reason, ErasureReasons, true)
	return c.Err()
}

// Erase records that the student's personal data is erased by destroying
// the data key (crypto-shredding). The caller destroys the key.
func (r *Referral) Erase(a events.Actor, reason string) (events.PersonErased, error) {
	// The retention job (system) erases only for retention (§10).
	if a.Role != RoleAdmin && (a.Role != events.RoleSystem || reason != ErasureRetention) {
		return events.PersonErased{}, Errorf(EForbidden, "personal data is erased by an admin")
	}
	if err := ValidateErasure(reason); err != nil {
		return events.PersonErased{}, err
	}
	return events.PersonErased{PersonKey: r.PersonKey, Reason: reason}, nil
}
