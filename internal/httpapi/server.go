// Package httpapi is the HTTP API on echo: routing, authentication and
// scope, problem+json errors, read-your-writes, health and metrics.
package httpapi

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cihui/internal/app"
	"cihui/internal/csrf"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/oidcauth"
	"cihui/internal/projections"
	"cihui/internal/session"
)

// Authenticator resolves a bearer token to an actor.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (events.Actor, error)
}

// Server is the HTTP API.
type Server struct {
	echo    *echo.Echo
	app     *app.Service
	reader  *projections.Reader
	opener  Opener
	waiter  *projections.Waiter
	auth    Authenticator
	db      *sqlx.DB
	nc      *nats.Conn
	store   events.Store
	log     *slog.Logger
	maxWait time.Duration
	http    *http.Server
	access  AccessWriter
	people  PeopleStore
	tokens  TokenStore
	// Sign-in (signin.go, oidc.go).
	sessions *session.Store
	logins   LoginStore
	attempts *attemptLimiter
	clock    func() time.Time
	oidc     *oidcauth.Client
	// retention runs on demand (admin_retention.go).
	retention *app.RetentionJob
	// calendars, ranks and pages cache the office calendars, the waiting
	// lists and case-list pages (readcache.go).
	calendars calendarCache
	ranks     rankCache
	pages     pageCache
	bodies    bodyCache // the encoded list pages (bodycache.go)

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	lag      prometheus.Gauge
}

// Config wires a server.
type Config struct {
	App    *app.Service
	Reader *projections.Reader
	// Opener opens the sealed personal data the read models hold, for the
	// callers who may see it; nil shows every person as erased.
	Opener   Opener
	Waiter   *projections.Waiter
	Auth     Authenticator
	DB       *sqlx.DB
	NATS     *nats.Conn
	Store    events.Store
	Log      *slog.Logger
	Registry *prometheus.Registry
	// MaxWait bounds how long a read waits for min_position (default 2 s).
	MaxWait time.Duration
	// RequestHashKey keys request_hash (an HMAC); the key ring holds it.
	RequestHashKey []byte
	// Access records reads of personal data; without it they fail (503).
	Access AccessWriter
	// Limits bound connections and requests; zero fields take
	// DefaultLimits.
	Limits Limits
	// UI, if set, builds the web pages (internal/web) over this API's own
	// handler; they are served under /ui/ and / redirects there.
	UI func(api http.Handler) http.Handler
	// People and Tokens serve /v1/people (issue 14); without them those
	// routes answer 503.
	People PeopleStore
	Tokens TokenStore
	// Sessions and Logins serve sign-in (issue 14); without Sessions the
	// /auth routes answer 503 and only bearer tokens authenticate.
	Sessions *session.Store
	Logins   LoginStore
	// Clock is the time of sign-in checks (default time.Now).
	Clock func() time.Time
	// Retention is the retention job POST /v1/retention/runs runs (the
	// scheduled one, so that runs exclude each other); nil: one over App.
	Retention *app.RetentionJob
}

// Limits bound what one connection or request may hold of the server
// (issue 7, finding 3).
type Limits struct {
	// ReadHeaderTimeout bounds reading a request's headers: a client that
	// never finishes them is cut off.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (1 MB at
	// most: an office-calendar file is the largest).
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the response. It must exceed RequestTimeout.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection with no request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (431 beyond).
	MaxHeaderBytes int
	// RequestTimeout is the deadline of a request's context: database and
	// NATS calls that hang end as 503. It covers the read-your-writes
	// wait (at most 2 s) and rendering a docket page with ample room.
	RequestTimeout time.Duration
}

// DefaultLimits are the limits used where a field of Limits is zero.
func DefaultLimits() Limits {
	return Limits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		RequestTimeout:    20 * time.Second,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = d.RequestTimeout
	}
	return l
}

// New returns a server with every route registered.
func New(cfg Config) *Server {
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{
		echo: echo.New(), app: cfg.App, reader: cfg.Reader, opener: cfg.Opener, waiter: cfg.Waiter, auth: cfg.Auth,
		db: cfg.DB, nc: cfg.NATS, store: cfg.Store, log: cfg.Log, maxWait: cfg.MaxWait, access: cfg.Access,
		people: cfg.People, tokens: cfg.Tokens,
		sessions: cfg.Sessions, logins: cfg.Logins, attempts: newAttemptLimiter(), clock: cfg.Clock,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cihui_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		latency:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cihui_http_request_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
		lag:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "cihui_read_model_lag_events", Help: "Events in the stream not yet in the read models, as seen by the API."}),
	}
	s.retention = s.retentionJob(cfg)
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(s.requests, s.latency, s.lag)
	reg.MustRegister(s.calendarMetrics()...)
	l := cfg.Limits
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Log.Handler(), slog.LevelWarn),
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(requestIDs)
	e.Use(retryAfter503)
	e.Use(s.observe)
	e.Use(s.recoverPanics)
	e.Use(middleware.BodyLimit("1M"))
	e.Use(requestHashKey(cfg.RequestHashKey))
	e.Use(requestTimeout(l.RequestTimeout))
	if s.sessions != nil {
		e.Use(s.sessions.Middleware)
	}

	// Every GET route answers HEAD too (RFC 9110 9.3.2); a method a path
	// does not have is 405 with Allow. Routes are registered one by one,
	// not under a group with middleware: echo gives such a group a
	// catch-all 404 route that would hide the 405.
	get := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.GET(path, h, m...)
		e.HEAD(path, h, m...)
	}
	get("/healthz", s.healthz)
	get("/readyz", s.readyz)
	get("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	get("/openapi.json", s.openapi)

	// /v1: every route checks the token first; commands that take a JSON
	// body refuse any other (415).
	read := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		get("/v1"+path, h, append(append([]echo.MiddlewareFunc{s.authenticate}, m...), validPathParams)...)
	}
	command := func(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		mw := append([]echo.MiddlewareFunc{s.authenticate}, m...)
		e.Add(method, "/v1"+path, h, append(mw, validPathParams, s.storeUp, requireJSON)...)
	}
	post := func(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		command(http.MethodPost, path, h, m...)
	}

	post("/referrals", s.openReferral, roles(domain.RoleOriginSchool, domain.RoleBureau))
	read("/referrals", s.listReferrals)
	read("/referrals/:id", s.getReferral)
	read("/referrals/:id/events", s.referralEvents)
	command(http.MethodPut, "/referrals/:id/documents/:item", s.putDocument, roles(domain.RoleOriginSchool, domain.RoleSocialWorker))
	command(http.MethodPut, "/referrals/:id/categories", s.putCategories, roles(domain.RoleOriginSchool, domain.RoleSocialWorker))
	post("/referrals/:id/return", s.returnApplication, roles(domain.RoleSocialWorker))
	post("/referrals/:id/resubmission", s.resubmit, roles(domain.RoleOriginSchool))
	post("/referrals/:id/acceptance", s.acceptIncomplete, roles(domain.RoleSocialWorker))
	post("/referrals/:id/home-visits", s.logVisit, roles(domain.RoleSocialWorker))
	post("/referrals/:id/first-review", s.firstReview, roles(domain.RoleSocialWorker))
	read("/home-visits/queue", s.visitQueue, roles(domain.RoleSocialWorker))
	post("/referrals/:id/erasure", s.erase, roles(domain.RoleAdmin))
	// The office calendar is imported as published: a CSV file, not JSON.
	e.PUT("/v1/calendar/:year", s.importCalendar, s.authenticate, roles(domain.RoleAdmin), validPathParams, s.storeUp)
	post("/calendar/closures", s.closeOffice, roles(domain.RoleAdmin))
	read("/calendar/workdays", s.workdays)
	read("/access-log", s.accessLog, roles(domain.RoleAdmin))
	read("/referrals/:id/export", s.export, roles(domain.RoleAdmin))
	read("/retention/due", s.retentionDue, roles(domain.RoleAdmin))
	post("/referrals/:id/legal-hold", s.placeLegalHold, roles(domain.RoleAdmin))
	post("/retention/runs", s.runRetention, roles(domain.RoleAdmin))           // admin_retention.go
	read("/projections/quarantine", s.listQuarantine, roles(domain.RoleAdmin)) // admin_quarantine.go
	post("/projections/quarantine/retry", s.retryQuarantine, roles(domain.RoleAdmin))
	post("/projections/quarantine/:position/retry", s.retryQuarantine, roles(domain.RoleAdmin))
	command(http.MethodDelete, "/referrals/:id/legal-hold", s.liftLegalHold, roles(domain.RoleAdmin))

	staff := roles(domain.RoleCommittee, domain.RoleBureau, domain.RoleSocialWorker)
	post("/meetings", s.scheduleMeeting, roles(domain.RoleCommittee, domain.RoleBureau))
	read("/meetings", s.listMeetings, staff)
	read("/meetings/:id", s.getMeeting, staff)
	post("/meetings/:id/open", s.openMeeting, roles(domain.RoleCommittee))
	read("/meetings/:id/docket", s.docket, staff)
	post("/meetings/:id/resolutions", s.resolve, roles(domain.RoleCommittee))
	post("/meetings/:id/close", s.closeMeeting, roles(domain.RoleCommittee))
	post("/referrals/:id/appeals", s.appeal, roles(domain.RoleOriginSchool))
	post("/referrals/:id/withdrawal", s.withdraw, roles(domain.RoleSocialWorker))
	post("/referrals/:id/health-check", s.healthCheck, roles(domain.RoleSocialWorker))
	post("/referrals/:id/enrolment", s.enrol, roles(domain.RoleSocialWorker))
	post("/referrals/:id/registrations", s.registration, roles(domain.RoleOriginSchool))
	// 中止就讀 and adaptation meetings (suspension.go; R-SUS-2, R-ENR-4).
	post("/referrals/:id/adaptation-meetings", s.adaptationMeeting, roles(domain.RoleSocialWorker))
	post("/referrals/:id/suspension", s.openSuspension, roles(domain.RoleSocialWorker))
	post("/referrals/:id/suspension/visits", s.suspensionVisit, roles(domain.RoleSocialWorker))
	post("/referrals/:id/suspension/report", s.suspensionReport, roles(domain.RoleSocialWorker))
	read("/capacity", s.capacity, staff)
	// The dated roster and the academic year (roster.go).
	post("/academic-years/:academic_year/roll-over", s.rollOver, roles(domain.RoleAdmin, domain.RoleSocialWorker))
	post("/academic-years/:academic_year/classes/confirmation", s.confirmClasses, roles(domain.RoleSocialWorker))
	post("/referrals/:id/major-reason", s.majorReason, roles(domain.RoleSocialWorker, domain.RoleOriginSchool))
	// Branch settings (branches.go): admins change them; branch staff read
	// their own branch's.
	read("/branches", s.listBranches, roles(domain.RoleAdmin))
	read("/branches/:code", s.getBranch, roles(domain.RoleAdmin, domain.RoleSocialWorker, domain.RoleCommittee))
	read("/branches/:code/history", s.branchHistory, roles(domain.RoleAdmin))
	command(http.MethodPut, "/branches/:code", s.putBranch, roles(domain.RoleAdmin))
	read("/filings/admitted", s.filings, roles(domain.RoleBureau, domain.RoleSocialWorker))
	s.dropoutRoutes(post, read) // dropouts.go
	s.statisticsRoutes(read)    // statistics.go, statreports.go
	s.awardRoutes(post, read)   // award.go
	// Duties (duties.go): what each party did, and what it still owes.
	post("/filings/admitted", s.fileAdmitted, roles(domain.RoleBureau, domain.RoleSocialWorker))
	post("/referrals/:id/records-sent", s.recordsSent, roles(domain.RoleSocialWorker))
	post("/referrals/:id/network-notices", s.networkNotice, roles(domain.RoleOriginSchool))
	post("/referrals/:id/accompaniment", s.accompaniment, roles(domain.RoleOriginSchool))
	post("/referrals/:id/leave-assistance", s.leaveAssistance, roles(domain.RoleOriginSchool))
	post("/co-counselling-visits", s.coCounselling, roles(domain.RoleOriginSchool))
	read("/duties", s.duties, roles(domain.RoleOriginSchool, domain.RoleSocialWorker, domain.RoleBureau, domain.RoleAdmin))
	read("/letters", s.letters, roles(domain.RoleOriginSchool, domain.RoleSocialWorker, domain.RoleCommittee, domain.RoleAdmin))
	if cfg.UI != nil {
		ui := echo.WrapHandler(cfg.UI(s))
		e.Any("/ui", ui)
		e.Any("/ui/*", ui)
		get("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/ui/") })
	}
	// People behind the roles (issue 14, people.go).
	admin := roles(domain.RoleAdmin)
	read("/me", s.me)
	read("/people", s.listPeople, admin)
	post("/people", s.invitePerson, admin)
	read("/people/:id", s.getPerson, selfOrAdmin)
	command(http.MethodPatch, "/people/:id", s.changePerson, admin)
	command(http.MethodDelete, "/people/:id", s.setPersonStatus(domain.PersonRemoved), admin)
	post("/people/:id/suspension", s.setPersonStatus(domain.PersonSuspended), admin)
	command(http.MethodDelete, "/people/:id/suspension", s.setPersonStatus(domain.PersonActive), admin)
	read("/people/:id/history", s.personHistory, admin)
	post("/people/:id/password-reset", s.resetPassword, admin) // admin_people_reset.go
	command(http.MethodDelete, "/people/:id/totp", s.resetTOTP, admin)
	read("/people/:id/tokens", s.personTokens, selfOrAdmin)
	post("/people/:id/tokens", s.issueToken, admin)
	command(http.MethodDelete, "/people/:id/tokens/:token", s.revokeToken, selfOrAdmin)
	// Sign-in (issue 14, signin.go): forms under /auth, each CSRF-protected;
	// a person's own sessions and credentials under /v1.
	get("/auth/csrf", s.csrfToken)
	e.POST("/auth/password", s.passwordSignIn, csrf.Protect)
	e.POST("/auth/logout", s.signOut, csrf.Protect)
	e.POST("/auth/role", s.switchRole, csrf.Protect)
	get("/auth/oidc/login", s.oidcLogin)
	get("/auth/oidc/callback", s.oidcCallback)
	read("/reminders/failures", s.reminderFailures, admin)
	read("/sessions", s.listSessions)
	command(http.MethodDelete, "/sessions/:id", s.endSession)
	command(http.MethodPut, "/me/password", s.setOwnPassword)
	post("/me/totp", s.beginTOTP)
	post("/me/totp/confirmation", s.confirmTOTP)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// observe logs each request as structured JSON (no bodies, no personal
// data: the path carries only opaque ids) and records metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		method := knownMethod(c.Request().Method)
		s.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		s.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		// Enabled first: the arguments of a record the handler drops
		// would still be built (issue 13: allocations per command).
		if route != "/healthz" && route != "/metrics" && s.log.Enabled(c.Request().Context(), slog.LevelInfo) {
			actor, _ := c.Get(actorKey).(events.Actor)
			s.log.Info("request", "request_id", requestID(c), "method", method, "route", route,
				"status", status, "ms", time.Since(start).Milliseconds(), "role", actor.Role)
		}
		return nil
	}
}

// knownMethod is the request's method for metrics and the log: a
// client may send any token as a method (a national ID is one), so
// another than the methods of HTTP is "other".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func requestID(c echo.Context) string { return c.Response().Header().Get(echo.HeaderXRequestID) }

const actorKey = "actor"

func actorOf(c echo.Context) events.Actor { a, _ := c.Get(actorKey).(events.Actor); return a }

// authenticate resolves the bearer token or, without one, the session of
// the request's cookie (issue 14); a state-changing request of a session
// must carry its CSRF token.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(h, "Bearer ")
		if ses, signedIn := session.FromContext(c); h == "" && signedIn {
			if err := csrf.Check(c); err != nil {
				return err
			}
			c.Set(actorKey, ses.Actor())
			return next(c)
		}
		if !ok || token == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="cihui"`)
			return domain.Errorf(domain.EUnauthorized, "a bearer token is required")
		}
		actor, err := s.auth.Authenticate(c.Request().Context(), token)
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="cihui", error="invalid_token"`)
			return err
		}
		c.Set(actorKey, actor)
		return next(c)
	}
}

// roles admits only the given roles.
func roles(allowed ...events.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a := actorOf(c)
			for _, r := range allowed {
				if a.Role == r {
					return next(c)
				}
			}
			return domain.Errorf(domain.EForbidden, "the %s role may not do this", a.Role)
		}
	}
}

// commandMeta reads the command headers and hashes the request for
// idempotency.
func commandMeta(c echo.Context, body []byte) (app.Meta, error) {
	m := app.Meta{Actor: actorOf(c), CorrelationID: requestID(c)}
	if k := c.Request().Header.Get("Idempotency-Key"); k != "" {
		if len(k) > 200 {
			return m, domain.Invalid(map[string]string{"Idempotency-Key": "at most 200 characters"})
		}
		m.IdempotencyKey = idempotencyDigest(c, k)
		h := requestHasher(c)
		h.Write([]byte(c.Request().Method + " " + c.Path() + "\x00"))
		for _, n := range c.ParamNames() {
			h.Write([]byte(n + "=" + c.Param(n) + "\x00"))
		}
		h.Write(body)
		m.RequestHash = hex.EncodeToString(h.Sum(nil))
	}
	if im := c.Request().Header.Get("If-Match"); im != "" {
		v, err := parseIfMatch(im) // decode.go
		if err != nil {
			return m, err
		}
		m.IfMatch = &v
	}
	return m, nil
}

func readBody(c echo.Context) ([]byte, error) {
	b, err := readAll(c.Request().Body, c.Request().ContentLength)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return nil, he
		}
		return nil, domain.Errorf(domain.ETooManyInputs, "the request body is too large or unreadable")
	}
	return b, nil
}

// readAll is io.ReadAll with a first buffer of the declared length (a
// command's body is a few dozen bytes; io.ReadAll starts at 512), and
// one byte more to see the end without growing it. The declared length
// is only a hint: the body is read to its end whatever it says.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	b := make([]byte, 0, min(max(declared, 0), 64<<10)+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// commandResponse writes a command result with its version as ETag.
func commandResponse(c echo.Context, status int, res app.Result) error {
	c.Response().Header().Set("ETag", `"`+strconv.FormatUint(res.Version, 10)+`"`)
	if res.Replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	if b, ok := appendResult(make([]byte, 0, 96), res); ok && !indented(c) {
		// The bytes c.JSON writes, without its reflection (issue 13).
		return c.JSONBlob(status, b)
	}
	return c.JSON(status, res)
}

// indented reports whether c.JSON indents its answer (echo's debug mode,
// or ?pretty): bytes encoded ahead of it are then not what it writes.
func indented(c echo.Context) bool {
	_, pretty := c.QueryParams()["pretty"]
	return pretty || c.Echo().Debug
}

// appendResult appends res as encoding/json writes it, with the newline
// of json.Encoder; ok is false for an id with a character JSON escapes.
func appendResult(b []byte, res app.Result) ([]byte, bool) {
	for i := range len(res.ID) {
		if ch := res.ID[i]; !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return b, false
		}
	}
	b = append(b, `{"id":"`...)
	b = append(b, res.ID...)
	b = append(b, `","version":`...)
	b = strconv.AppendUint(b, res.Version, 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, res.Position, 10)
	return append(b, "}\n"...), true
}

// awaitPosition honours ?min_position / X-Min-Position: it waits, bounded,
// until the read models reflect that position, and reports the position
// the read reflects.
func (s *Server) awaitPosition(c echo.Context) error {
	raw := c.QueryParam("min_position")
	if raw == "" {
		raw = c.Request().Header.Get("X-Min-Position")
	}
	var pos uint64
	if raw != "" {
		min, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return domain.Invalid(map[string]string{"min_position": "must be a non-negative integer"})
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.maxWait)
		defer cancel()
		pos = s.waiter.Wait(ctx, min)
		if pos < min {
			c.Response().Header().Set("X-Read-Position", strconv.FormatUint(pos, 10))
			return domain.Errorf(domain.EUnavailable, "the read models have not reached position %d yet (at %d); retry shortly", min, pos)
		}
	} else {
		pos = s.waiter.Position()
	}
	c.Response().Header().Set("X-Read-Position", strconv.FormatUint(pos, 10))
	return nil
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readiness is the body of /readyz.
type Readiness struct {
	Status        string `json:"status"`
	NATS          string `json:"nats"`
	Postgres      string `json:"postgres"`
	StreamLast    uint64 `json:"stream_last_position"`
	ReadModels    uint64 `json:"read_model_position"`
	ProjectorLag  uint64 `json:"projector_lag"`
	MaxLagAllowed uint64 `json:"max_lag_allowed"`
	// Quarantined events (issue 7): the status is then "degraded".
	QuarantinedEvents        int    `json:"quarantined_events"`
	FirstQuarantinedPosition uint64 `json:"first_quarantined_position,omitempty"`
	HeldEvents               int    `json:"held_events"`
	// Calendar: the office calendar ahead (issue 12), a warning only.
	Calendar *CalendarReadiness `json:"calendar,omitempty"`
}

// maxReadyLag is the projector lag above which the API reports not ready.
const maxReadyLag = 10000

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	r := Readiness{Status: "ready", NATS: "ok", Postgres: "ok", MaxLagAllowed: maxReadyLag}
	if s.nc == nil || !s.nc.IsConnected() {
		r.NATS, r.Status = "down", "not_ready"
	} else if last, err := s.store.LastPosition(ctx); err != nil {
		r.NATS, r.Status = "down", "not_ready"
	} else {
		r.StreamLast = last
	}
	if cp, err := projections.Checkpoint(ctx, s.db); err != nil {
		r.Postgres, r.Status = "down", "not_ready"
	} else {
		r.ReadModels = cp
	}
	if r.StreamLast > r.ReadModels {
		r.ProjectorLag = r.StreamLast - r.ReadModels
	}
	s.lag.Set(float64(r.ProjectorLag))
	if r.ProjectorLag > maxReadyLag {
		r.Status = "not_ready"
	}
	if q, err := projections.Quarantined(ctx, s.db); err == nil && q.Events > 0 {
		r.QuarantinedEvents, r.FirstQuarantinedPosition, r.HeldEvents = q.Events, q.FirstPosition, q.Held
		if r.Status == "ready" {
			r.Status = "degraded" // still serving: every other case is current
		}
	}
	r.Calendar = s.calendarReadiness(ctx)
	status := http.StatusOK
	if r.Status == "not_ready" {
		status = http.StatusServiceUnavailable
	}
	return c.JSON(status, r)
}

// Serve serves on l until Shutdown, with the server's Limits.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown drains in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

type (
	appMeta   = app.Meta
	appResult = app.Result
)
