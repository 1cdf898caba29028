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

// letters lists the letters the school received, case by case.
func (h *Handler) letters(w http.ResponseWriter, r *http.Request, id *Identity) {
	var list httpapi.ReferralList
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/referrals?limit=200", nil, "", &list); p != nil {
		h.problemPage(w, id, p)
		return
	}
	var cases []httpapi.ReferralView
	for _, c := range list.Items {
		var v httpapi.ReferralView
		if p := h.call(r.Context(), id, http.MethodGet, "/v1/referrals/"+c.ID, nil, "", &v); p != nil {
			h.problemPage(w, id, p)
			return
		}
		if len(v.Letters) > 0 {
			cases = append(cases, v)
		}
	}
	h.render(w, http.StatusOK, "letters.html", page{Title: "收到的函文", Who: id, Data: cases})
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
