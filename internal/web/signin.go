package web

import (
	"net/http"
	"strings"
)

func (h *Handler) showSignIn(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "signin.html", page{Title: "登入", Form: map[string]string{"next": safeNext(r.URL.Query().Get("next"))}})
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "表單無法讀取", http.StatusBadRequest)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	if _, err := h.tokens.Authenticate(r.Context(), token); token == "" || err != nil {
		h.render(w, http.StatusUnauthorized, "signin.html", page{Title: "登入", Form: map[string]string{"next": next},
			Errors: map[string]string{"token": "憑證無效或已過期"}})
		return
	}
	h.sessions.Start(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	h.sessions.End(w, r)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// safeNext keeps a return address inside the pages.
func safeNext(n string) string {
	if !strings.HasPrefix(n, "/ui/") || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") {
		return "/ui/"
	}
	return n
}
