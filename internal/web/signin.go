package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"cihui/internal/csrf"
	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// The pages sign in with the API's own sign-in (issue 14): the forms are
// posted, in process, to /auth/password, /auth/logout and /auth/role, so
// the same rate limit, lock-out, TOTP check and audit apply, and the
// session cookie the API sets is handed to the browser.

// showSignIn serves GET /ui/signin: the e-mail and password form (with
// the TOTP code), or with OpenID Connect the school's account button.
func (h *Handler) showSignIn(w http.ResponseWriter, r *http.Request) {
	h.signInForm(w, r, http.StatusOK, map[string]string{"next": safeNext(r.URL.Query().Get("next"))}, nil)
}

// signInForm renders the sign-in page with the anonymous CSRF token the
// API's form check expects (GET /auth/csrf, its cookie passed on).
func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request, status int, form map[string]string, errs map[string]string) {
	token := ""
	if !h.oidc {
		res := h.forward(w, r, http.MethodGet, "/auth/csrf", nil)
		var body struct {
			Token string `json:"csrf_token"`
		}
		if res.status == http.StatusOK {
			_ = json.Unmarshal(res.body, &body)
			token = body.Token
		}
	}
	h.render(w, status, "signin.html", page{Title: "登入", Form: form, Errors: errs, CSRF: token, Data: signInData{OIDC: h.oidc}})
}

type signInData struct{ OIDC bool }

// signIn serves POST /ui/signin through POST /auth/password.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	form := url.Values{}
	for _, k := range []string{"email", "password", "code", csrf.FieldName} {
		if v := r.PostFormValue(k); v != "" {
			form.Set(k, strings.TrimSpace(v))
		}
	}
	if pw := r.PostFormValue("password"); pw != "" {
		form.Set("password", pw) // a password is taken as typed
	}
	res := h.forward(w, r, http.MethodPost, "/auth/password", form)
	if res.status == http.StatusSeeOther {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := problemOf(res.status, res.body)
	if p.Status == http.StatusForbidden {
		h.refuseForgery(w, nil)
		return
	}
	msg := "登入失敗，請稍後再試。"
	switch p.Status {
	case http.StatusUnauthorized:
		msg = "電子郵件、密碼或驗證碼不正確。"
	case http.StatusTooManyRequests:
		msg = "登入嘗試次數過多，帳號暫時鎖定；請稍候再試。"
	case http.StatusBadRequest:
		msg = "請填寫電子郵件與密碼。"
	case http.StatusNotFound:
		msg = "本系統已改用學校帳號登入。"
	}
	status := p.Status
	if status < 400 {
		status = http.StatusInternalServerError
	}
	h.signInForm(w, r, status, map[string]string{"next": next, "email": r.PostFormValue("email")}, map[string]string{"email": msg})
}

// signOut serves POST /ui/signout through POST /auth/logout: the session
// ends on the server, and its cookie is cleared.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, id *Identity) {
	res := h.forward(w, r, http.MethodPost, "/auth/logout", url.Values{csrf.FieldName: {id.csrf}})
	if res.status != http.StatusSeeOther {
		h.problemPage(w, id, problemOf(res.status, res.body))
		return
	}
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther) // the API cleared the cookie
}

// roleChoice is one role the person holds, for the role page.
type roleChoice struct {
	Value   string // role|school|branch
	Scope   domain.Scope
	Current bool
}

// showRoles serves GET /ui/role: the roles the person holds (GET /v1/me),
// to act in another.
func (h *Handler) showRoles(w http.ResponseWriter, r *http.Request, id *Identity) {
	var me struct {
		Person domain.Staff `json:"person"`
	}
	if p := h.call(r.Context(), id, http.MethodGet, "/v1/me", nil, "", &me); p != nil {
		h.problemPage(w, id, p)
		return
	}
	var list []roleChoice
	for _, s := range me.Person.Roles {
		list = append(list, roleChoice{Value: string(s.Role) + "|" + s.School + "|" + s.Branch, Scope: s,
			Current: s.Role == id.Actor.Role && s.School == id.Actor.School && s.Branch == id.Actor.Branch})
	}
	h.render(w, http.StatusOK, "role.html", page{Title: "切換身分", Who: id, Data: list})
}

// switchRole serves POST /ui/role through POST /auth/role.
func (h *Handler) switchRole(w http.ResponseWriter, r *http.Request, id *Identity) {
	parts := strings.Split(r.PostFormValue("scope"), "|")
	if len(parts) != 3 {
		h.problemPage(w, id, &httpapi.Problem{Status: http.StatusBadRequest, Code: "invalid", Title: "請選擇一個身分。"})
		return
	}
	res := h.forward(w, r, http.MethodPost, "/auth/role", url.Values{"role": {parts[0]}, "school": {parts[1]}, "branch": {parts[2]}, csrf.FieldName: {id.csrf}})
	if res.status != http.StatusSeeOther {
		h.problemPage(w, id, problemOf(res.status, res.body))
		return
	}
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// forwarded is the API's answer to a forwarded sign-in request.
type forwarded struct {
	status int
	body   []byte
}

// forward sends a sign-in request to the API's handler in process, with
// the browser's cookies and address (the API limits attempts by
// address), and passes the cookies the API sets on to the browser.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request, method, path string, form url.Values) forwarded {
	var rd io.Reader = http.NoBody
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(r.Context(), method, path, rd)
	if err != nil {
		return forwarded{status: http.StatusInternalServerError}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, c := range r.Cookies() {
		req.AddCookie(c)
	}
	req.RemoteAddr = r.RemoteAddr
	res := h.serveAPI(req)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		http.SetCookie(w, c)
	}
	return forwarded{status: res.StatusCode, body: body}
}

// safeNext keeps a return address inside the pages.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/ui/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/ui/"
	}
	return n
}
