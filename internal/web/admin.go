package web

import (
	"net/http"
	"strings"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/httpapi"
)

// adminOnly admits the admin role to a page; anyone else gets 403. The
// API checks the role again on every call the page makes.
func (h *Handler) adminOnly(next func(http.ResponseWriter, *http.Request, *Identity)) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request, id *Identity) {
		if id.Actor.Role != domain.RoleAdmin {
			h.render(w, http.StatusForbidden, "problem.html", page{Title: "沒有權限", Who: id,
				Problem: &httpapi.Problem{Status: http.StatusForbidden, Code: "forbidden", Title: "這一頁只有系統管理員可以使用。"}})
			return
		}
		next(w, r, id)
	})
}

// adminFlash is the message of an admin page after an action (?done=).
func adminFlash(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "invited":
		return "已新增人員。"
	case "suspended":
		return "已停權：此人的登入階段已全部結束。"
	case "reinstated":
		return "已恢復權限。"
	case "removed":
		return "已移除此人。"
	case "roles":
		return "身分已更新。"
	case "branch":
		return "分班設定已儲存。"
	case "calendar":
		return "行事曆已匯入。"
	case "hold":
		return "已設定法律保全。"
	case "lifted":
		return "已解除法律保全。"
	case "totp":
		return "已清除驗證器：此人的登入階段已全部結束。一般人員登入後可重新設定；系統管理員須由主機管理者協助重新設定。"
	case "retry":
		return "已要求重新套用：事件處理程序將於數秒內重試，重新整理本頁可看結果。"
	}
	return ""
}

// scopeOf reads a role and its school or branch from a form: the role
// under name, the school under name+"_school", the branch under
// name+"_branch".
func scopeOf(r *http.Request, name string) domain.Scope {
	return domain.Scope{Role: events.Role(strings.TrimSpace(r.PostFormValue(name))),
		School: strings.TrimSpace(r.PostFormValue(name + "_school")), Branch: strings.TrimSpace(r.PostFormValue(name + "_branch"))}
}

// staffStatus names a person's status.
func staffStatus(s string) string {
	switch domain.StaffStatus(s) {
	case domain.PersonActive:
		return "啟用"
	case domain.PersonSuspended:
		return "停權"
	case domain.PersonRemoved:
		return "已移除"
	}
	return s
}
