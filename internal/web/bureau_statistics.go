package web

import (
	"net/http"
	"slices"
	"strconv"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// statCell is one printed figure of the statistics table.
type statCell struct {
	Code, Text string
	// Title is a rate's formula with its numerator and denominator, or
	// why it is undefined.
	Title string
	// Explain is set on a count of the whole branch that can be drilled
	// into (?explain=).
	Explain bool
}

type statRowView struct {
	Label string
	Cells []statCell
}

type statDimView struct {
	Name, Label string
	Rows        []statRowView
}

type statisticsData struct {
	Q          statQuery
	Table      httpapi.DropoutTableView
	Columns    []statColumn
	Total      []statCell
	Breakdowns []statDimView
	Explain    *explainView
	Reports    []reportLink
}

type statColumn struct{ Code, Label string }

type explainView struct {
	httpapi.StatExplainView
	Rows []explainRow
}

type explainRow struct {
	No       int
	Cases    []caseLink
	Episodes []string
}

type caseLink struct{ ID, Alias string }

// statOrder is the national table's order of the figures: AA, the counts
// A–H, the rates I–O, P.
var statOrder = slices.Concat([]string{"AA", "A", "B", "C", "D", "E", "F", "G", "H"}, domain.StatRates, []string{"P"})

// dimensionNames are the zh-TW names of the breakdowns (R-STAT-2).
var dimensionNames = map[string]string{"sex": "性別", "background": "家庭背景", "whereabouts": "行蹤", "identity": "身分", "reason": "輟學原因"}

// statistics shows the dropout statistics table of an academic year as
// printed on a date (GET /v1/statistics/dropouts, R-STAT-1, R-STAT-2),
// and with ?explain= the students behind one figure, exactly as the API
// gives them to this person (personal data: the API decides who may see
// it and records the access).
func (h *Handler) statistics(w http.ResponseWriter, r *http.Request, id *Identity) {
	q := readStatQuery(r)
	d := statisticsData{Q: q, Reports: reportLinks()}
	_, p, ok := h.getForForm(w, r, id, "/v1/statistics/dropouts?"+q.Encode(), &d.Table)
	if !ok {
		return
	}
	if p != nil {
		h.render(w, p.Status, "bureau_statistics.html", page{Title: "中輟統計", Who: id, Data: d, Problem: p, Form: q.form()})
		return
	}
	d.fill()
	if fig := r.URL.Query().Get("explain"); fig != "" {
		v := q.values()
		v.Set("explain", fig)
		var ex httpapi.StatExplainView
		if p := h.call(r.Context(), id, http.MethodGet, "/v1/statistics/dropouts?"+v.Encode(), nil, "", &ex); p != nil {
			h.render(w, p.Status, "bureau_statistics.html", page{Title: "中輟統計", Who: id, Data: d, Problem: p, Form: q.form()})
			return
		}
		d.Explain = explainOf(ex)
	}
	h.render(w, http.StatusOK, "bureau_statistics.html", page{Title: "中輟統計", Who: id, Data: d, Form: q.form()})
}

func (d *statisticsData) fill() {
	for _, c := range statOrder {
		d.Columns = append(d.Columns, statColumn{Code: c, Label: d.Table.Figures[c]})
	}
	d.Total = cells(d.Table.Total.StatFigures, true)
	for _, dim := range domain.StatDimensions {
		v := statDimView{Name: dim, Label: dimensionNames[dim]}
		for _, row := range d.Table.Breakdowns[dim] {
			v.Rows = append(v.Rows, statRowView{Label: row.Label, Cells: cells(row.StatFigures, false)})
		}
		d.Breakdowns = append(d.Breakdowns, v)
	}
}

// cells prints a row's figures in the national table's order: a count as
// it is, a rate as a percentage with two decimals, "—" for an undefined
// rate (not 0 %) and for a figure the row does not count.
func cells(f domain.StatFigures, total bool) []statCell {
	out := make([]statCell, 0, len(statOrder))
	for _, c := range statOrder {
		cell := statCell{Code: c, Text: "—"}
		if r, ok := f.Rates[c]; ok {
			cell.Text, cell.Title = rateText(r)
		} else if n, ok := f.Counts[c]; ok {
			cell.Text = strconv.Itoa(n)
			cell.Explain = total && n > 0
		}
		out = append(out, cell)
	}
	return out
}

// rateText prints a rate and says how it was computed.
func rateText(r domain.StatRate) (text, title string) {
	if r.Value == nil {
		return "—", "無從計算（分母為 0）"
	}
	return strconv.FormatFloat(*r.Value*100, 'f', 2, 64) + "%",
		r.Formula + " = " + strconv.Itoa(r.Numerator) + "/" + strconv.Itoa(r.Denominator)
}

func explainOf(ex httpapi.StatExplainView) *explainView {
	v := &explainView{StatExplainView: ex}
	for i, s := range ex.Students {
		row := explainRow{No: i + 1}
		for _, c := range s.CaseIDs {
			row.Cases = append(row.Cases, caseLink{ID: c, Alias: domain.Alias(c)})
		}
		for _, e := range s.Episodes {
			row.Episodes = append(row.Episodes, domain.Alias(e.CaseID)+" 第 "+strconv.Itoa(e.Episode)+" 次中輟")
		}
		v.Rows = append(v.Rows, row)
	}
	return v
}

// statisticsCSV hands over the national table as CSV, as the API makes
// it (UTF-8 with a byte-order mark).
func (h *Handler) statisticsCSV(w http.ResponseWriter, r *http.Request, id *Identity) {
	v := readStatQuery(r).values()
	v.Set("format", "csv")
	h.sendFile(w, r, id, "/v1/statistics/dropouts?"+v.Encode())
}
