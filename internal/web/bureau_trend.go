package web

import (
	"net/http"
	"net/url"
	"strconv"

	"cihui/internal/httpapi"
)

type trendData struct {
	From, To string
	Trend    httpapi.TrendView
	Chart    chart
	Rows     []trendRow
}

type trendRow struct {
	Year    int
	AsOf    string
	AA      int
	N, M, J string
	NTitle  string
	Change  string
}

// trend shows the dropout rate (N, R-STAT-1) year on year as a chart drawn
// on the server, with the same figures in a table
// (GET /v1/statistics/dropouts/trend).
func (h *Handler) trend(w http.ResponseWriter, r *http.Request, id *Identity) {
	d := trendData{From: r.URL.Query().Get("from"), To: r.URL.Query().Get("to")}
	if d.To == "" {
		d.To = strconv.Itoa(currentAcademicYear())
	}
	if d.From == "" {
		if to, err := strconv.Atoi(d.To); err == nil {
			d.From = strconv.Itoa(to - 4)
		}
	}
	form := map[string]string{"from": d.From, "to": d.To}
	v := url.Values{"from": {d.From}, "to": {d.To}}
	_, p, ok := h.getForForm(w, r, id, "/v1/statistics/dropouts/trend?"+v.Encode(), &d.Trend)
	if !ok {
		return
	}
	if p != nil {
		h.render(w, p.Status, "bureau_trend.html", page{Title: "中輟率歷年趨勢", Who: id, Data: d, Problem: p, Form: form})
		return
	}
	var pts []chartPoint
	for _, y := range d.Trend.Years {
		pt := chartPoint{Label: strconv.Itoa(y.AcademicYear)}
		if y.N.Value != nil {
			pc := *y.N.Value * 100
			pt.Value = &pc
		}
		pts = append(pts, pt)
		row := trendRow{Year: y.AcademicYear, AsOf: y.AsOf, AA: y.AA, Change: "—"}
		row.N, row.NTitle = rateText(y.N)
		row.M, _ = rateText(y.M)
		row.J, _ = rateText(y.J)
		if y.NChange != nil {
			row.Change = strconv.FormatFloat(*y.NChange*100, 'f', 2, 64) + " 個百分點"
			if *y.NChange > 0 {
				row.Change = "+" + row.Change
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Chart = lineChart("中輟率（N）歷年趨勢，"+d.From+"–"+d.To+" 學年度",
		"各學年度的該學年度輟學率 N＝A/AA，以百分比表示；無從計算的年度標示為「—」。", pts)
	h.render(w, http.StatusOK, "bureau_trend.html", page{Title: "中輟率歷年趨勢", Who: id, Data: d, Form: form})
}
