package web

import (
	"net/http"

	"cihui/internal/httpapi"
)

type todayData struct {
	Duties httpapi.DutyList
	Queue  httpapi.Queue
}

// today is the social worker's day: duties due and overdue, and the
// home-visit queue with working days left (R-MID-4).
func (h *Handler) today(w http.ResponseWriter, r *http.Request, id *Identity) {
	var d todayData
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/duties?party=branch", nil, "", &d.Duties); p != nil {
		h.problemPage(w, id, p)
		return
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/home-visits/queue", nil, "", &d.Queue); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "today.html", page{Title: "今日工作", Who: id, Data: d})
}
