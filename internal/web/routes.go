package web

import (
	"net/http"
	"net/url"
)

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/", http.FileServerFS(staticFS)))
	m.HandleFunc("GET /ui/signin", h.showSignIn)
	m.HandleFunc("POST /ui/signin", h.signIn)
	m.HandleFunc("POST /ui/signout", h.signOut)
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
// goes to the sign-in page and comes back.
func (h *Handler) signedIn(next func(http.ResponseWriter, *http.Request, *Identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := h.identify(r)
		if !ok {
			http.Redirect(w, r, "/ui/signin?next="+url.QueryEscape(r.URL.Path), http.StatusSeeOther)
			return
		}
		next(w, r, id)
	}
}

// identify is the interim Authenticator: the session's API token,
// validated on every request as the API validates it.
func (h *Handler) identify(r *http.Request) (*Identity, bool) {
	d, ok := h.sessions.Get(r)
	if !ok {
		return nil, false
	}
	a, err := h.tokens.Authenticate(r.Context(), d.Token)
	if err != nil {
		return nil, false
	}
	return &Identity{Actor: a, bearer: d.Token}, true
}
