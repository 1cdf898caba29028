package httpapi

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
)

// The national dropout statistics (R-STAT-1, R-STAT-2, issue 11): the
// table, its drill-down, its CSV, the year-on-year trend and the five
// printed reports (statreports.go). Every figure is the domain's fold
// (domain.DropoutStatistics) over the students the read models give
// (projections.Reader.StatStudents).

// MaxTrendYears bounds a trend's range of years.
const MaxTrendYears = 30

// statisticsRoutes registers the routes of this file and statreports.go.
func (s *Server) statisticsRoutes(read routeFunc) {
	who := roles(domain.RoleBureau, domain.RoleSocialWorker)
	read("/statistics/dropouts", s.dropoutStatistics, who)
	read("/statistics/dropouts/trend", s.dropoutTrend, who)
	read("/statistics/dropouts/reports/:report", s.dropoutReport, who)
}

// statAANote says what AA is here (R-STAT-1).
const statAANote = "AA：本表為分校之統計，AA 為統計期間內曾在本分校就讀之學生數；全國中輟統計表之 AA 為縣市學生總數。" +
	" AA here is the students enrolled at the branch on any day of the period; in the national table it is a city's whole student body."

// StatFigureLabels are the zh-TW headings of the national table's figures.
var StatFigureLabels = map[string]string{
	"AA": "在學學生總數",
	"A":  "該學年度輟學人數", "B": "非該學年度輟學人數",
	"C": "該學年度復學人數", "D": "非該學年度復學人數",
	"E": "該學年度尋獲人數", "F": "非該學年度尋獲人數",
	"G": "該學年度再輟人數", "H": "總再輟人數",
	"I": "該學年度再輟率", "J": "總再輟率", "K": "該學年度復學率", "L": "非該學年度復學率",
	"M": "總復學率", "N": "該學年度輟學率", "O": "列印日輟學率",
	"P": "列印日未復學生數",
}

// statDimensionLabels and statValueLabels are the zh-TW headings of the
// breakdowns (R-STAT-2).
var (
	statDimensionLabels = map[string]string{"sex": "性別", "background": "背景", "whereabouts": "類別", "identity": "身分", "reason": "輟學原因"}
	statValueLabels     = map[string]map[string]string{
		"sex": {"M": "男", "F": "女"},
		"background": {domain.BackgroundBothParents: "雙親", domain.BackgroundSingleParent: "單親",
			domain.BackgroundNoParent: "失親", domain.CategoryUnknown: "不明（未登錄）"},
		"whereabouts": {domain.WhereaboutsUnknown: "行蹤不明", domain.WhereaboutsKnown: "非行蹤不明"},
		"identity": {domain.IdentityIndigenous: "原住民", domain.IdentityNewImmigrantParent: "外籍配偶子女",
			domain.IdentityInstitutionalCare: "安置教養", domain.CategoryUnknown: "不明（未登錄）"},
		"reason": {"personal": "個人", "family": "家庭", "school": "學校", "social": "社會", "other": "其他"},
	}
)

// StatPeriodView is the statistics period of a table.
type StatPeriodView struct {
	From    string `json:"from"`
	To      string `json:"to"`
	FromROC string `json:"from_roc"`
	ToROC   string `json:"to_roc"`
}

// StatRow is a row of the table: the whole branch or one category.
type StatRow struct {
	Value string `json:"value,omitempty"`
	Label string `json:"label"`
	domain.StatFigures
}

// DropoutTableView is the body of GET /v1/statistics/dropouts.
type DropoutTableView struct {
	Branch       string               `json:"branch"`
	AcademicYear int                  `json:"academic_year"`
	AsOf         string               `json:"as_of"`
	AsOfROC      string               `json:"as_of_roc"`
	Period       StatPeriodView       `json:"period"`
	Figures      map[string]string    `json:"figure_labels"`
	Total        StatRow              `json:"total"`
	Breakdowns   map[string][]StatRow `json:"breakdowns"`
	Note         string               `json:"note"`
	ReadPosition uint64               `json:"read_position"`
}

// StatExplainView is the body of GET /v1/statistics/dropouts?explain=X.
type StatExplainView struct {
	Branch       string             `json:"branch"`
	AcademicYear int                `json:"academic_year"`
	AsOf         string             `json:"as_of"`
	Figure       string             `json:"figure"`
	Label        string             `json:"label"`
	Count        int                `json:"count"`
	Students     []domain.StatEntry `json:"students"`
	ReadPosition uint64             `json:"read_position"`
}

// statParams reads ?academic_year (required) and ?as_of (default: the
// Aug 5 after the period, or today if that is later than today).
func (s *Server) statParams(q *query) domain.StatPeriod {
	year := q.academicYear()
	if q.c.QueryParam("academic_year") == "" {
		q.ck.Set("academic_year", "required: the ROC academic year, e.g. 114")
	}
	asOf := defaultPrintDate(year, s.today())
	if raw := q.c.QueryParam("as_of"); raw != "" {
		d, err := calendar.ParseDate(raw)
		if err != nil {
			q.ck.Set("as_of", "must be a date YYYY-MM-DD")
		} else {
			asOf = d
		}
	}
	return domain.NewStatPeriod(year, asOf)
}

// defaultPrintDate is the print date of a year's table when none is
// given: Aug 5 after the period ends (the reports are due Aug 11), or
// today while that day has not come.
func defaultPrintDate(year int, today calendar.Date) calendar.Date {
	d := calendar.NewDate(year+1912, time.August, 5)
	if today.Before(d) {
		return today
	}
	return d
}

// wantsCSV reports whether the request asks for CSV (?format=csv or
// Accept: text/csv).
func wantsCSV(c echo.Context, format string) bool {
	return format == "csv" || (format == "" && strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv"))
}

func (s *Server) dropoutStatistics(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	p := s.statParams(&q)
	format := q.oneOf("format", []string{"json", "csv"})
	explain := q.oneOf("explain", domain.StatCounts)
	if err := q.err(); err != nil {
		return err
	}
	branch := branchOf(actorOf(c))
	students, err := s.reader.StatStudents(c.Request().Context(), branch)
	if err != nil {
		return err
	}
	if explain != "" {
		entries, _ := domain.ExplainFigure(p, students, explain)
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.CaseIDs...)
		}
		if err := s.recordAccess(c, ids...); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, StatExplainView{Branch: branch, AcademicYear: p.AcademicYear, AsOf: p.AsOf.String(),
			Figure: explain, Label: StatFigureLabels[explain], Count: len(entries), Students: entries, ReadPosition: s.waiter.Position()})
	}
	view := tableView(branch, domain.DropoutStatistics(p, students))
	view.ReadPosition = s.waiter.Position()
	if wantsCSV(c, format) {
		return sendCSV(c, statFileName(p, "中輟統計表"), nationalCSV(view))
	}
	return c.JSON(http.StatusOK, view)
}

func tableView(branch string, t domain.DropoutTable) DropoutTableView {
	p := t.Period
	v := DropoutTableView{Branch: branch, AcademicYear: p.AcademicYear, AsOf: p.AsOf.String(), AsOfROC: p.AsOf.ROC(),
		Period:  StatPeriodView{From: p.From.String(), To: p.To.String(), FromROC: p.From.ROC(), ToROC: p.To.ROC()},
		Figures: StatFigureLabels, Total: StatRow{Label: "合計", StatFigures: t.Total},
		Breakdowns: map[string][]StatRow{}, Note: statAANote}
	for _, dim := range domain.StatDimensions {
		rows := []StatRow{}
		for _, r := range t.Breakdowns[dim] {
			rows = append(rows, StatRow{Value: r.Value, Label: statValueLabels[dim][r.Value], StatFigures: r.StatFigures})
		}
		v.Breakdowns[dim] = rows
	}
	return v
}

// TrendYear is one year of the trend.
type TrendYear struct {
	AcademicYear int             `json:"academic_year"`
	AsOf         string          `json:"as_of"`
	AA           int             `json:"aa"`
	N            domain.StatRate `json:"n"`
	M            domain.StatRate `json:"m"`
	J            domain.StatRate `json:"j"`
	// NChange is N minus the previous year's N; NFall is its opposite,
	// the year-on-year fall the award ranks on. Both are null when either
	// year's N is undefined (or for the first year).
	NChange *float64 `json:"n_change"`
	NFall   *float64 `json:"n_fall"`
}

// TrendView is the body of GET /v1/statistics/dropouts/trend.
type TrendView struct {
	Branch       string      `json:"branch"`
	From         int         `json:"from"`
	To           int         `json:"to"`
	AsOfRule     string      `json:"as_of_rule"`
	Years        []TrendYear `json:"years"`
	ReadPosition uint64      `json:"read_position"`
}

// dropoutTrend answers N, M and J per year and the change in N. Each
// year is printed on its default print date: Aug 5 after the period, or
// today for a year whose Aug 5 has not come.
func (s *Server) dropoutTrend(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	q := query{c: c}
	from := q.intIn("from", domain.MinAcademicYear, domain.MaxAcademicYear, 0)
	to := q.intIn("to", domain.MinAcademicYear, domain.MaxAcademicYear, 0)
	for _, name := range []string{"from", "to"} {
		if q.c.QueryParam(name) == "" {
			q.ck.Set(name, "required: an ROC academic year")
		}
	}
	if from != 0 && to != 0 && (to < from || to-from >= MaxTrendYears) {
		q.ck.Set("to", "must be from `from` to `from`+29")
	}
	if err := q.err(); err != nil {
		return err
	}
	branch := branchOf(actorOf(c))
	students, err := s.reader.StatStudents(c.Request().Context(), branch)
	if err != nil {
		return err
	}
	today := s.today()
	out := TrendView{Branch: branch, From: from, To: to, Years: []TrendYear{}, ReadPosition: s.waiter.Position(),
		AsOfRule: "each year as printed on Aug 5 after its period (Jul 31), or today while that day has not come"}
	for y := from; y <= to; y++ {
		p := domain.NewStatPeriod(y, defaultPrintDate(y, today))
		t := domain.DropoutStatistics(p, students)
		ty := TrendYear{AcademicYear: y, AsOf: p.AsOf.String(), AA: t.Total.Counts["AA"],
			N: t.Total.Rates["N"], M: t.Total.Rates["M"], J: t.Total.Rates["J"]}
		if n := len(out.Years); n > 0 {
			prev := out.Years[n-1].N.Value
			if prev != nil && ty.N.Value != nil {
				ch := *ty.N.Value - *prev
				fall := -ch
				ty.NChange, ty.NFall = &ch, &fall
			}
		}
		out.Years = append(out.Years, ty)
	}
	return c.JSON(http.StatusOK, out)
}

// statColumns are the national table's columns after the breakdowns.
var statColumns = slices.Concat([]string{"A", "B", "C", "D", "E", "F", "G", "H"}, domain.StatRates, []string{"P"})
