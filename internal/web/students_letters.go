package web

import (
	"net/http"

	"cihui/internal/httpapi"
)

// letters shows the letters received, newest first, from the API's one
// list of letters.
func (h *Handler) letters(w http.ResponseWriter, r *http.Request, id *Identity) {
	var list httpapi.LetterList
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/letters?limit=200", nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "letters.html", page{Title: "收到的函文", Who: id, Data: list.Items})
}
