package web

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/httpapi"
)

// fetchFile runs a GET through the API's own handler as the signed-in
// person, like call, but hands back the body as it is (a CSV file) with
// its headers; a problem comes back as *httpapi.Problem.
func (h *Handler) fetchFile(r *http.Request, id *Identity, path, accept string) ([]byte, http.Header, *httpapi.Problem) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, path, http.NoBody)
	if err != nil {
		return nil, nil, &httpapi.Problem{Status: 500, Code: "internal", Title: "internal error"}
	}
	id.authorize(req)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res := h.serveAPI(req)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return nil, nil, problemOf(res.StatusCode, data)
	}
	return data, res.Header, nil
}

// sendFile hands the API's file (a CSV download) to the browser.
func (h *Handler) sendFile(w http.ResponseWriter, r *http.Request, id *Identity, path string) {
	data, hd, p := h.fetchFile(r, id, path, "text/csv")
	if p != nil {
		h.problemPage(w, id, p)
		return
	}
	w.Header().Set("Content-Type", hd.Get("Content-Type"))
	if cd := hd.Get("Content-Disposition"); cd != "" {
		w.Header().Set("Content-Disposition", cd)
	}
	_, _ = w.Write(data)
}

// statQuery is the academic year and print date a statistics page asks
// for: what the person typed, passed on to the API as it is (the API
// checks it), the year defaulting to the current academic year.
type statQuery struct {
	Year, AsOf string
}

func readStatQuery(r *http.Request) statQuery {
	q := statQuery{Year: r.URL.Query().Get("academic_year"), AsOf: r.URL.Query().Get("as_of")}
	if q.Year == "" {
		q.Year = strconv.Itoa(currentAcademicYear())
	}
	return q
}

// values are the query's parameters for the API (and for links).
func (q statQuery) values() url.Values {
	v := url.Values{"academic_year": {q.Year}}
	if q.AsOf != "" {
		v.Set("as_of", q.AsOf)
	}
	return v
}

// Encode is the query string for the API.
func (q statQuery) Encode() string { return q.values().Encode() }

// Link is the query string of the page's links, encoded already (so the
// template does not encode it once more).
func (q statQuery) Link() template.URL { return template.URL(q.values().Encode()) } //nolint:gosec // url.Values.Encode escapes every value

func (q statQuery) form() map[string]string {
	return map[string]string{"academic_year": q.Year, "as_of": q.AsOf}
}

// currentAcademicYear is the academic year of today in Taiwan, the
// default of the forms.
func currentAcademicYear() int {
	return domain.AcademicYearOf(calendar.DateOf(time.Now(), domain.Taipei))
}
