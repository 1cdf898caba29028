package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"cihui/internal/domain"
)

// The five printed reports of the award plan (R-STAT-2, seed 003), as
// printable zh-TW pages and as CSV (UTF-8 with BOM).

// statReport is one printed report: its rows are the total and, if Dim is
// set, each category of that breakdown; its columns are figures of the
// national table, in its order.
type statReport struct {
	Code, Title string
	Dim         string
	Columns     []string
}

var statReports = []statReport{
	{"dropouts", "中輟學生統計", "sex", append([]string{"AA"}, statColumns...)},
	{"background", "家庭背景統計", "background", append([]string{"AA"}, statColumns...)},
	{"indigenous", "原住民統計", "identity", append([]string{"AA"}, statColumns...)},
	{"returns", "復學就讀統計", "sex", []string{"A", "B", "C", "D", "E", "F", "K", "L", "M", "P"}},
	{"reasons", "輟學原因統計", "reason", []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "P"}},
}

// StatReportCodes are the path names of the five reports.
func StatReportCodes() []string {
	out := make([]string, len(statReports))
	for i, r := range statReports {
		out[i] = r.Code
	}
	return out
}

func statReportOf(code string) (statReport, bool) {
	for _, r := range statReports {
		if r.Code == code {
			return r, true
		}
	}
	return statReport{}, false
}

// reportCell is one printed cell.
type reportCell struct {
	Text  string
	Title string // the rate's formula, or why it is undefined
}

type reportRow struct {
	Label string
	Cells []reportCell
	Total bool
}

// reportPage is what the report template prints.
type reportPage struct {
	Title, Dim     string
	Branch         string
	Year           int
	From, To, AsOf string
	Printed        string
	Headings       []string
	Codes          []string
	Rows           []reportRow
	Note           string
}

// figureCell prints a count, a rate as a percentage, or "—" for a figure
// the row does not have and a rate that is undefined.
func figureCell(f domain.StatFigures, fig string) reportCell {
	if r, ok := f.Rates[fig]; ok {
		if r.Value == nil {
			return reportCell{Text: "—", Title: r.Undefined}
		}
		return reportCell{Text: strconv.FormatFloat(*r.Value*100, 'f', 2, 64) + "%",
			Title: r.Formula + " = " + strconv.Itoa(r.Numerator) + "/" + strconv.Itoa(r.Denominator)}
	}
	if n, ok := f.Counts[fig]; ok {
		return reportCell{Text: strconv.Itoa(n)}
	}
	return reportCell{Text: "—", Title: "not counted by category"}
}

func buildReport(r statReport, v DropoutTableView, printed string) reportPage {
	p := reportPage{Title: r.Title, Dim: statDimensionLabels[r.Dim], Branch: v.Branch, Year: v.AcademicYear,
		From: v.Period.FromROC, To: v.Period.ToROC, AsOf: v.AsOfROC, Printed: printed, Codes: r.Columns, Note: statAANote}
	for _, c := range r.Columns {
		p.Headings = append(p.Headings, StatFigureLabels[c])
	}
	row := func(label string, f domain.StatFigures, total bool) reportRow {
		out := reportRow{Label: label, Total: total}
		for _, c := range r.Columns {
			out.Cells = append(out.Cells, figureCell(f, c))
		}
		return out
	}
	for _, b := range v.Breakdowns[r.Dim] {
		p.Rows = append(p.Rows, row(b.Label, b.StatFigures, false))
	}
	p.Rows = append(p.Rows, row("合計", v.Total.StatFigures, true))
	return p
}

//go:embed statreport.html
var statReportHTML string

var statReportTemplate = template.Must(template.New("statreport").Parse(statReportHTML))

// dropoutReport serves one of the five reports as a printable page
// (default) or as CSV (?format=csv or Accept: text/csv).
func (s *Server) dropoutReport(c echo.Context) error {
	if err := s.awaitPosition(c); err != nil {
		return err
	}
	r, _ := statReportOf(c.Param("report")) // checked by validPathParams
	q := query{c: c}
	p := s.statParams(&q)
	format := q.oneOf("format", []string{"html", "csv"})
	if err := q.err(); err != nil {
		return err
	}
	branch := branchOf(actorOf(c))
	students, err := s.reader.StatStudents(c.Request().Context(), branch)
	if err != nil {
		return err
	}
	page := buildReport(r, tableView(branch, domain.DropoutStatistics(p, students)), s.today().ROC())
	if wantsCSV(c, format) {
		return sendCSV(c, statFileName(p, r.Title), reportCSV(page))
	}
	var b strings.Builder
	if err := statReportTemplate.Execute(&b, page); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, b.String())
}

func statFileName(p domain.StatPeriod, title string) string {
	return strconv.Itoa(p.AcademicYear) + "學年度" + title + "_" + p.AsOf.String() + ".csv"
}

// sendCSV answers rows as CSV in UTF-8 with a byte-order mark, so that
// spreadsheet programs open it as Chinese.
func sendCSV(c echo.Context, name string, rows [][]string) error {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, "attachment; filename*=UTF-8''"+url.PathEscape(name))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// csvRate prints a rate for a spreadsheet: a percentage, empty when
// undefined.
func csvRate(r domain.StatRate) string {
	if r.Value == nil {
		return ""
	}
	return strconv.FormatFloat(*r.Value*100, 'f', 2, 64) + "%"
}

// nationalCSV is the national table (國民中小學中輟學生中途輟學及復學統計表)
// in its column order: AA; the year's dropouts (A) by sex, background,
// whereabouts, identity and reason (with the unknown columns of this
// system after each group's own); then A–H, the rates I–O and P.
func nationalCSV(v DropoutTableView) [][]string {
	head := []string{"AA " + StatFigureLabels["AA"]}
	data := []string{strconv.Itoa(v.Total.Counts["AA"])}
	for _, dim := range domain.StatDimensions {
		for _, r := range v.Breakdowns[dim] {
			head = append(head, statDimensionLabels[dim]+"："+r.Label)
			data = append(data, strconv.Itoa(r.Counts["A"]))
		}
	}
	for _, c := range statColumns {
		head = append(head, c+" "+StatFigureLabels[c])
		if r, ok := v.Total.Rates[c]; ok {
			data = append(data, csvRate(r))
		} else {
			data = append(data, strconv.Itoa(v.Total.Counts[c]))
		}
	}
	return [][]string{head, data}
}

// reportCSV is a report as CSV: the headings, then one line per row.
func reportCSV(p reportPage) [][]string {
	head := []string{p.Dim}
	if p.Dim == "" {
		head[0] = "項目"
	}
	for i, c := range p.Codes {
		head = append(head, c+" "+p.Headings[i])
	}
	out := [][]string{head}
	for _, r := range p.Rows {
		line := []string{r.Label}
		for _, cell := range r.Cells {
			t := cell.Text
			if t == "—" {
				t = ""
			}
			line = append(line, t)
		}
		out = append(out, line)
	}
	return out
}
