package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
)

// printDocket shows the API's printable docket page (A4) to the signed-in
// person: GET /v1/meetings/{id}/docket as HTML.
func (h *Handler) printDocket(w http.ResponseWriter, r *http.Request, id *Identity) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/v1/meetings/"+url.PathEscape(r.PathValue("id"))+"/docket?format=html", http.NoBody)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id.authorize(req)
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
}
