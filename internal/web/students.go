package web

import (
	"net/http"

	"cihui/internal/httpapi"
)

// students lists the cases the person may see, with stage and what is
// missing (GET /v1/referrals).
func (h *Handler) students(w http.ResponseWriter, r *http.Request, id *Identity) {
	var list httpapi.ReferralList
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/referrals?limit=200", nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	h.render(w, http.StatusOK, "students.html", page{Title: "我的學生", Who: id, Data: list.Items, Flash: flash(r)})
}

// flash is a one-line note carried in the query after a redirect.
func flash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "filed":
		return "轉介已送出。"
	case "saved":
		return "已儲存。"
	case "visit":
		return "訪視紀錄已登錄。"
	case "review":
		return "初審結果已送出。"
	case "resolved":
		return "決議已記錄。"
	case "closed":
		return "會議已結束。"
	case "opened":
		return "會議已開始。"
	case "scheduled":
		return "會議已排定。"
	}
	return ""
}
