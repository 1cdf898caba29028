// Package web is the web pages its users work in: Traditional Chinese,
// rendered on the server with html/template, assets embedded, usable
// without JavaScript. Every page calls the API's own handler in process
// (api.go), so it runs the same application service and reads the same
// read models, with the same scope and problem details, as /v1.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
	"cihui/internal/logsafe"
	"cihui/internal/session"
	"cihui/internal/web/roc"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config wires the pages.
type Config struct {
	// Sessions are the people sessions (issue 14) the API also serves:
	// a page resolves the session cookie with it, and calls the API as
	// that session. Without it nobody can sign in to the pages.
	Sessions *session.Store
	// OIDC shows the sign-in with the school's account (the API's
	// /auth/oidc/login), which then replaces the password form, as the
	// API turns password sign-in off.
	OIDC bool
	Log  *slog.Logger
}

// Handler serves /ui/.
type Handler struct {
	api      http.Handler
	sessions *session.Store
	oidc     bool
	pages    map[string]*template.Template
	log      *slog.Logger
	mux      *http.ServeMux
}

// New returns the constructor httpapi.Config.UI takes.
func New(cfg Config) func(api http.Handler) http.Handler {
	return func(api http.Handler) http.Handler {
		h := &Handler{api: api, sessions: cfg.Sessions, oidc: cfg.OIDC, log: cfg.Log}
		if h.log == nil {
			h.log = slog.New(slog.DiscardHandler)
		}
		h.pages = parsePages()
		h.routes()
		// Cross-site form posts are refused (Sec-Fetch-Site / Origin) by
		// the standard library, and every POST must carry the session's
		// token besides (signedIn, signin.go).
		return http.NewCrossOriginProtection().Handler(securityHeaders(h.mux))
	}
}

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"roc":      roc.Date,
		"year":     roc.AcademicYear,
		"stage":    stageName,
		"ground":   groundName,
		"rule":     RuleSentence,
		"outcome":  outcomeName,
		"visit":    visitKindName,
		"list":     listName,
		"resolved": resolutionName,
		"deref": func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		},
		"derefInt": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"isTrue":      func(p *bool) bool { return p != nil && *p },
		"isFalse":     func(p *bool) bool { return p != nil && !*p },
		"neg":         func(n int) int { return -n },
		"roleName":    roleName,
		"duty":        dutyName,
		"mstatus":     meetingStatus,
		"fieldzh":     fieldSentence,
		"list3":       func() []int { return []int{7, 8, 9} },
		"dict":        dict,
		"staffStatus": staffStatus,
		"rocTime":     rocTime,
		"holdReason":  holdReason,
	}
	maps.Copy(funcs, enrolledFuncs)
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/part_*.html"))
	pages := map[string]*template.Template{}
	entries, _ := fs.Glob(templateFS, "templates/*.html")
	for _, e := range entries {
		name := e[len("templates/"):]
		if name == "layout.html" {
			continue
		}
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, e))
	}
	return pages
}

// securityHeaders sets the headers every page carries: no framing, no
// inline script, no sniffing.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// page is what every template gets.
type page struct {
	Title    string
	Who      *Identity
	Flash    string
	Problem  *httpapi.Problem
	Errors   map[string]string
	Data     any
	Form     map[string]string
	ClearKey string // a draft key the browser may drop (visit recorded)
	// CSRF is the signed-in session's anti-forgery token; every POST form
	// carries it with {{template "csrf" $}}.
	CSRF string
}

// FieldError returns the API's message for a field, if any.
func (p page) FieldError(name string) string { return p.Errors[name] }

// Value returns a submitted form value to fill the form again.
func (p page) Value(name string) string { return p.Form[name] }

func (h *Handler) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if p.Problem != nil {
		p.Errors = p.Problem.Errors
	}
	if p.Who != nil {
		p.CSRF = p.Who.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		h.log.Error("rendering a page", "page", name, "err", logsafe.Err(err))
		http.Error(w, "頁面產生失敗", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// problemPage shows a problem that belongs to no form.
func (h *Handler) problemPage(w http.ResponseWriter, id *Identity, p *httpapi.Problem) {
	status := p.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	h.render(w, status, "problem.html", page{Title: "無法完成", Who: id, Problem: p})
}

// newKey returns a random idempotency key for a form.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// formMap copies a parsed form's first values.
func formMap(r *http.Request) map[string]string {
	m := map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

func roleName(r string) string {
	switch r {
	case string(domain.RoleOriginSchool):
		return "原就讀學校"
	case string(domain.RoleSocialWorker):
		return "社工"
	case string(domain.RoleCommittee):
		return "審議委員會"
	case string(domain.RoleBureau):
		return "教育局"
	case string(domain.RoleAdmin):
		return "系統管理"
	}
	return r
}

// dict makes a map of its key, value pairs, to give a partial template
// more than one value.
func dict(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		m[k] = kv[i+1]
	}
	return m
}

// rocTime writes a moment in Taipei as an ROC date and the time of day.
func rocTime(t time.Time) string {
	t = t.In(domain.Taipei)
	return roc.Time(t) + " " + t.Format("15:04")
}
