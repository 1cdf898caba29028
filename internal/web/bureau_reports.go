package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"

	"cihui/internal/httpapi"
)

// reportTitles are the five printed reports of the award plan (R-STAT-2),
// by their path names (httpapi.StatReportCodes).
var reportTitles = map[string]string{
	"dropouts": "中輟學生統計", "background": "家庭背景統計", "indigenous": "原住民統計",
	"returns": "復學就讀統計", "reasons": "輟學原因統計",
}

type reportLink struct{ Code, Title string }

func reportLinks() []reportLink {
	var out []reportLink
	for _, c := range httpapi.StatReportCodes() {
		out = append(out, reportLink{Code: c, Title: reportTitles[c]})
	}
	return out
}

type reportData struct {
	Q        statQuery
	Code     string
	Title    string
	Table    httpapi.DropoutTableView
	RowHead  string
	Columns  []statColumn
	Rows     []reportRowView
	Reports  []reportLink
	Formulas string
}

type reportRowView struct {
	Label string
	Cells []string
	Total bool
}

// statReport shows one of the five reports as a printable A4 page: the
// API's own report (its CSV: the same rows, columns and figures as its
// printed page), headed by the table's period and print date.
func (h *Handler) statReport(w http.ResponseWriter, r *http.Request, id *Identity) {
	code := r.PathValue("report")
	title, ok := reportTitles[code]
	if !ok {
		h.problemPage(w, id, &httpapi.Problem{Status: http.StatusNotFound, Code: "not_found", Title: "沒有這份報表"})
		return
	}
	q := readStatQuery(r)
	d := reportData{Q: q, Code: code, Title: title, Reports: reportLinks(),
		Formulas: "I＝G/A；J＝H/(A+B)；K＝C/A；L＝D/B；M＝(C+D)/(A+B)；N＝A/AA；O＝P/AA。比率之分母為 0 時以「—」表示（無從計算，非 0%）。"}
	p := h.call(r.Context(), id, http.MethodGet, "/v1/statistics/dropouts?"+q.Encode(), nil, "", &d.Table)
	if p == nil {
		var data []byte
		data, _, p = h.fetchFile(r, id, "/v1/statistics/dropouts/reports/"+url.PathEscape(code)+"?"+q.Encode(), "text/csv")
		if p == nil && !d.parse(data) {
			p = &httpapi.Problem{Status: http.StatusInternalServerError, Code: "internal", Title: "報表無法讀取"}
		}
	}
	if p != nil && p.Status != http.StatusBadRequest {
		h.problemPage(w, id, p)
		return
	}
	status := http.StatusOK
	if p != nil {
		status = p.Status
	}
	h.render(w, status, "bureau_report.html", page{Title: title, Who: id, Data: d, Problem: p, Form: q.form()})
}

// parse reads the report's CSV: a heading line ("性別", "A 該學年度輟學人數",
// …), then one line per category and the total last.
func (d *reportData) parse(data []byte) bool {
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(rows) < 2 {
		return false
	}
	d.RowHead = rows[0][0]
	for _, h := range rows[0][1:] {
		code, label, _ := strings.Cut(h, " ")
		d.Columns = append(d.Columns, statColumn{Code: code, Label: label})
	}
	for i, line := range rows[1:] {
		row := reportRowView{Label: line[0], Total: i == len(rows)-2}
		for _, c := range line[1:] {
			if c == "" {
				c = "—"
			}
			row.Cells = append(row.Cells, c)
		}
		d.Rows = append(d.Rows, row)
	}
	return true
}

// statReportCSV hands over a report as CSV, as the API makes it.
func (h *Handler) statReportCSV(w http.ResponseWriter, r *http.Request, id *Identity) {
	v := readStatQuery(r).values()
	v.Set("format", "csv")
	h.sendFile(w, r, id, "/v1/statistics/dropouts/reports/"+url.PathEscape(r.PathValue("report"))+"?"+v.Encode())
}
