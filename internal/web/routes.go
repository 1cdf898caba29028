package web

import (
	"errors"
	"net/http"
	"net/url"

	"cihui/internal/csrf"
	"cihui/internal/httpapi"
	"cihui/internal/logsafe"
	"cihui/internal/session"
)

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/", http.FileServerFS(staticFS)))
	m.HandleFunc("GET /ui/signin", h.showSignIn)
	m.HandleFunc("POST /ui/signin", h.signIn)
	m.HandleFunc("POST /ui/signout", h.signedIn(h.signOut))
	m.HandleFunc("GET /ui/role", h.signedIn(h.showRoles))
	m.HandleFunc("POST /ui/role", h.signedIn(h.switchRole))
	m.HandleFunc("GET /ui/{$}", h.signedIn(h.home))
	m.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusSeeOther) })
	m.HandleFunc("GET /ui/students", h.signedIn(h.students))
	m.HandleFunc("GET /ui/letters", h.signedIn(h.letters))
	m.HandleFunc("GET /ui/referrals/new", h.signedIn(h.showNewReferral))
	m.HandleFunc("POST /ui/referrals/new", h.signedIn(h.fileReferral))
	m.HandleFunc("GET /ui/cases/{id}", h.signedIn(h.showCase))
	m.HandleFunc("POST /ui/cases/{id}/documents/{item}", h.signedIn(h.putDocument))
	m.HandleFunc("GET /ui/cases/{id}/visit", h.signedIn(h.showVisit))
	m.HandleFunc("POST /ui/cases/{id}/visit", h.signedIn(h.logVisit))
	m.HandleFunc("POST /ui/cases/{id}/review", h.signedIn(h.firstReview))
	m.HandleFunc("GET /ui/today", h.signedIn(h.today))
	m.HandleFunc("GET /ui/capacity", h.signedIn(h.capacity))
	m.HandleFunc("GET /ui/meetings", h.signedIn(h.meetings))
	m.HandleFunc("POST /ui/meetings", h.signedIn(h.scheduleMeeting))
	m.HandleFunc("GET /ui/meetings/{id}", h.signedIn(h.showMeeting))
	m.HandleFunc("GET /ui/meetings/{id}/docket", h.signedIn(h.printDocket))
	m.HandleFunc("POST /ui/meetings/{id}/open", h.signedIn(h.openMeeting))
	m.HandleFunc("POST /ui/meetings/{id}/resolutions", h.signedIn(h.resolve))
	m.HandleFunc("POST /ui/meetings/{id}/close", h.signedIn(h.closeMeeting))
	h.enrolledRoutes(m)
	h.bureauRoutes(m)
	h.adminRoutes(m)
	h.mux = m
}

// signedIn resolves the person from the session; without one the browser
// goes to the sign-in page and comes back. A POST must carry the
// session's CSRF token (internal/csrf), or it is refused 403 and changes
// nothing.
func (h *Handler) signedIn(next func(http.ResponseWriter, *http.Request, *Identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, r, err := h.identify(w, r)
		if err != nil && !errors.Is(err, session.ErrNoSession) {
			h.log.Error("looking up a session", "err", logsafe.Err(err))
			h.render(w, http.StatusServiceUnavailable, "problem.html", page{Title: "暫時無法使用",
				Problem: &httpapi.Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", Title: "系統暫時無法確認您的登入狀態，請稍後再試。"}})
			return
		}
		if err != nil {
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !csrf.Matches(id.csrf, carriedToken(r)) {
			h.refuseForgery(w, id)
			return
		}
		next(w, r, id)
	}
}

// carriedToken is the CSRF token a request carries: the header, else the
// form field (a urlencoded or a multipart form).
func carriedToken(r *http.Request) string {
	if t := r.Header.Get(csrf.HeaderName); t != "" {
		return t
	}
	return r.PostFormValue(csrf.FieldName)
}

// refuseForgery answers a POST without the session's token.
func (h *Handler) refuseForgery(w http.ResponseWriter, id *Identity) {
	h.render(w, http.StatusForbidden, "problem.html", page{Title: "表單已失效", Who: id,
		Problem: &httpapi.Problem{Status: http.StatusForbidden, Code: "forbidden",
			Title: "這份表單沒有帶著有效的防偽驗證碼，因此未予處理。請重新整理頁面後再送出一次。"}})
}

// identify resolves the request's people session (internal/session)
// from its cookie, as the API does: a session ended, idle too long, or
// whose person is suspended, removed or no longer holds its role opens
// no page.
// It returns session.ErrNoSession when the request is not signed in, and
// the request to go on with.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request) (*Identity, *http.Request, error) {
	ck, err := r.Cookie(session.CookieName)
	if err != nil || ck.Value == "" || h.sessions == nil {
		return nil, r, session.ErrNoSession
	}
	ses, err := h.sessions.Lookup(r.Context(), ck.Value)
	if errors.Is(err, session.ErrNoSession) {
		http.SetCookie(w, session.ClearCookie())
	}
	if err != nil {
		return nil, r, err
	}
	// The page's calls to the API (h.call, under r's context) reuse this
	// lookup instead of reading and touching the session once per call.
	r = r.WithContext(session.WithResolved(r.Context(), ck.Value, ses))
	return &Identity{Actor: ses.Actor(), cookie: ck.Value, csrf: ses.CSRF}, r, nil
}
