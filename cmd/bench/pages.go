package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"cihui/internal/accesslog"
	"cihui/internal/app"
	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/postgres"
	"cihui/internal/projections"
	"cihui/internal/session"
	"cihui/internal/web"
)

// The pages' figure (issue 15): every page of every role answers p99 <
// 50 ms at 20 requests/s, and no page weighs more than 150 KB without
// images. Each role signs in and its pages are found by following the
// links of its pages from its start pages (so a page another change adds
// to the navigation is measured too); each page is then requested at 20/s
// open loop for pagesDuration. The baseline is a static asset
// (/ui/static/app.css) served by the same server at the same rate: the
// ratio is what rendering the page costs over serving a file.
const (
	pagesRate     = 20.0
	pagesDuration = 5 * time.Second
	pagesGoal     = 50 * time.Millisecond
	pagesMaxBytes = 150 << 10
	pagesPerRole  = 40
	// The branch's year: enrolled students with dropout episodes, a
	// closed meeting and an open one with its docket.
	pagesAdmitted, pagesEnrolled, pagesDropouts, pagesDocket = 24, 12, 6, 10
)

func benchPages(ctx context.Context, parent *env, _ int) error {
	// An environment of its own: the other groups leave a meeting open
	// and thousands of cases behind.
	dir := filepath.Join(parent.dir, "pages")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // the postgres user enters it (umask)
		return err
	}
	e, cleanup, err := setup(ctx, dir)
	defer cleanup()
	if err != nil {
		return err
	}
	stop, err := seedCases(ctx, e, 0) // starts the projector
	if err != nil {
		return err
	}
	defer stop()
	pos, err := pagesYear(ctx, e)
	if err != nil {
		return fmt.Errorf("pages data: %w", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	got := e.waiter.Wait(wctx, pos)
	wcancel()
	if got < pos {
		return fmt.Errorf("read models at %d of %d", got, pos)
	}
	log, err := accesslog.Open(ctx, e.nc, accesslog.Config{})
	if err != nil {
		return err
	}
	people, logins := postgres.NewPeople(e.db), postgres.NewLogins(e.db, postgres.LoginPolicy{})
	sessions := session.New(e.db, session.Config{})
	srv := httptest.NewServer(httpapi.New(httpapi.Config{App: e.svc, Reader: projections.NewReader(e.db), Opener: e.sealer, Waiter: e.waiter,
		Auth: e.auth, DB: e.db, NATS: e.nc, Store: e.store, Access: log, UI: web.New(web.Config{Sessions: sessions}),
		People: people, Tokens: postgres.NewTokens(e.db), Sessions: sessions, Logins: logins}))
	defer srv.Close()

	static := measurePage(srv.URL+"/ui/static/app.css", client)
	if static.err != nil {
		return fmt.Errorf("static asset: %w", static.err)
	}
	emitPage("pages_baseline_static", "/ui/static/app.css", static, static)
	var worst, heaviest pageRun
	var worstName, heaviestName string
	var failed, total int
	year := "?academic_year=114"
	roles := []struct {
		role   events.Role
		school string
		start  []string
	}{
		{domain.RoleOriginSchool, "034501", []string{"/ui/"}},
		{domain.RoleSocialWorker, "", []string{"/ui/", "/ui/statistics" + year}},
		{domain.RoleCommittee, "", []string{"/ui/"}},
		{domain.RoleBureau, "", []string{"/ui/", "/ui/statistics" + year + "&explain=A", "/ui/filings" + year, "/ui/award" + year}},
		{domain.RoleAdmin, "", []string{"/ui/"}},
	}
	for _, r := range roles {
		scope := domain.Scope{Role: r.role, School: r.school}
		if r.role != domain.RoleOriginSchool {
			scope.Branch = domain.DefaultBranchCode
		}
		who, err := newPagePerson(ctx, people, logins, scope)
		if err != nil {
			return fmt.Errorf("%s: %w", r.role, err)
		}
		c, err := signedIn(srv.URL, who)
		if err != nil {
			return fmt.Errorf("%s: %w", r.role, err)
		}
		pages, err := crawl(c, srv.URL, r.start)
		if err != nil {
			return fmt.Errorf("%s: %w", r.role, err)
		}
		for _, p := range pages {
			run := measurePage(srv.URL+p, c)
			if run.err != nil {
				return fmt.Errorf("%s %s: %w", r.role, p, run.err)
			}
			name := "pages_" + string(r.role) + "_" + pageSlug(p)
			emitPage(name, string(r.role)+" "+p, run, static)
			failed, total = failed+run.failed, total+run.n
			if run.p99 > worst.p99 {
				worst, worstName = run, name
			}
			if run.bytes > heaviest.bytes {
				heaviest, heaviestName = run, name
			}
		}
	}
	emit(Result{Figure: "pages_worst_p99", Unit: "µs", Value: float64(worst.p99.Microseconds()), Baseline: float64(pagesGoal.Microseconds()), N: worst.n,
		Note: "the slowest page's p99 (" + worstName + ") at 20 requests/s; baseline: the goal, 50 ms"})
	emit(Result{Figure: "pages_failed_requests", Unit: "requests", Value: float64(failed), Baseline: float64(total), N: total,
		Note: "requests of every page that failed; baseline: all requests"})
	emit(Result{Figure: "pages_heaviest_bytes", Unit: "bytes", Value: float64(heaviest.bytes), Baseline: pagesMaxBytes, N: 1,
		Note: "the heaviest page (" + heaviestName + "), HTML without images; baseline: the goal, 150 KB"})
	return nil
}

// pagesYear writes the branch's academic year 114 through the app service:
// cases reviewed, admitted at a closed meeting, some enrolled, some of
// them with a dropout episode, and an open meeting with a docket. It
// returns the last position.
func pagesYear(ctx context.Context, e *env) (uint64, error) {
	school := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	sw := app.Meta{Actor: events.Actor{Role: domain.RoleSocialWorker, Branch: domain.DefaultBranchCode}}
	committee := app.Meta{Actor: events.Actor{Role: domain.RoleCommittee, Branch: domain.DefaultBranchCode}}
	today := calendar.DateOf(e.svc.Clock.Now(), domain.Taipei)
	reviewed := func(n int) ([]string, error) {
		for i := range n {
			if err := reviewedCase(ctx, e, school, sw, today, i%4 != 3); err != nil {
				return nil, err
			}
		}
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		last, err := e.store.LastPosition(ctx)
		if err != nil {
			return nil, err
		}
		e.waiter.Wait(wctx, last)
		var ids []string
		err = e.db.SelectContext(ctx, &ids, `SELECT id FROM cases WHERE stage IN ('recommended', 'to_discuss') ORDER BY application_position`)
		return ids, err
	}
	ids, err := reviewed(pagesAdmitted)
	if err != nil {
		return 0, err
	}
	date, _ := calendar.ParseDate("2026-03-23")
	m, _, err := e.svc.ScheduleMeeting(ctx, committee, 114, "march", date, "")
	if err != nil {
		return 0, err
	}
	if _, err := e.svc.OpenMeeting(ctx, committee, m.ID); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := e.svc.Resolve(ctx, committee, m.ID, id, domain.ResolutionAdmit, ""); err != nil {
			return 0, err
		}
	}
	report, _ := calendar.ParseDate("2026-04-07")
	if _, err := e.svc.CloseMeeting(ctx, committee, m.ID, &report); err != nil {
		return 0, err
	}
	examined, _ := calendar.ParseDate("2026-02-01")
	for i, id := range ids[:min(pagesEnrolled, len(ids))] {
		if _, err := e.svc.RecordHealthCheck(ctx, sw, id, examined, false, nil); err != nil {
			return 0, err
		}
		if _, _, err := e.svc.Enrol(ctx, sw, id, 8, "8-1", ""); err != nil {
			return 0, err
		}
		if i < pagesDropouts {
			o := domain.OpenDropout{FirstDayAbsent: today, Whereabouts: []string{domain.WhereaboutsUnknown, domain.WhereaboutsKnown}[i%2],
				Reason: []string{"personal", "family", "school"}[i%3]}
			if _, _, err := e.svc.OpenDropout(ctx, sw, id, o, ""); err != nil {
				return 0, err
			}
		}
	}
	if _, err := reviewed(pagesDocket); err != nil {
		return 0, err
	}
	date, _ = calendar.ParseDate("2026-10-12")
	m2, _, err := e.svc.ScheduleMeeting(ctx, committee, 115, "october", date, "")
	if err != nil {
		return 0, err
	}
	res, err := e.svc.OpenMeeting(ctx, committee, m2.ID)
	return res.Position, err
}

// signedIn returns a client signed in as who through the sign-in form,
// as a browser does: the form's anti-forgery token, the e-mail address,
// the password and, for an admin, the second factor's code.
func signedIn(base string, who pagePerson) (*http.Client, error) {
	c := &http.Client{Jar: &plainJar{}, Transport: client.Transport}
	res, err := c.Get(base + "/ui/signin")
	if err != nil {
		return nil, err
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfFieldRE.FindSubmatch(form)
	if m == nil {
		return nil, fmt.Errorf("sign-in form: no anti-forgery token (%d)", res.StatusCode)
	}
	v := url.Values{"csrf_token": {string(m[1])}, "email": {who.email}, "password": {pagePassword}, "next": {"/ui/"}}
	if who.secret != "" {
		code, err := auth.TOTPCode(who.secret, time.Now())
		if err != nil {
			return nil, err
		}
		v.Set("code", code)
	}
	res, err = c.PostForm(base+"/ui/signin", v)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sign-in: %d", res.StatusCode)
	}
	return c, nil
}

var (
	csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	hrefRE      = regexp.MustCompile(`href="(/ui/[^"#]*)`)
	idRE        = regexp.MustCompile(`[rms][a-z2-7]{24}|per_[0-9a-f]{16}`)
)

// crawl follows the links of the pages from start, breadth first, and
// returns each kind of page once (a path with its ids left out and its
// query's names): downloads, the sign-out and the static files are not
// pages.
func crawl(c *http.Client, base string, start []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	queue := slices.Clone(start)
	for len(queue) > 0 && len(out) < pagesPerRole {
		p := queue[0]
		queue = queue[1:]
		u, err := url.Parse(p)
		if err != nil {
			continue
		}
		if strings.HasPrefix(u.Path, "/ui/static/") || u.Path == "/ui/signout" || strings.HasSuffix(u.Path, ".csv") || strings.HasSuffix(u.Path, "/csv") {
			continue
		}
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range u.Query() {
				if !yield(k) {
					return
				}
			}
		})
		kind := idRE.ReplaceAllString(u.Path, "{id}") + "?" + strings.Join(names, "&")
		if seen[kind] {
			continue
		}
		seen[kind] = true
		res, err := c.Get(base + p)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		final := res.Request.URL.RequestURI()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue // a page this role may not open is not one of its pages
		}
		if final != p { // /ui/ sends each role on to its home page
			queue = append([]string{final}, queue...)
			continue
		}
		out = append(out, p)
		for _, m := range hrefRE.FindAllStringSubmatch(string(body), -1) {
			queue = append(queue, html.UnescapeString(m[1]))
		}
	}
	return out, nil
}

// pageSlug names a page in a figure: /ui/cases/r…/visit → cases_id_visit.
func pageSlug(p string) string {
	u, _ := url.Parse(p)
	s := strings.Trim(strings.TrimPrefix(idRE.ReplaceAllString(u.Path, "id"), "/ui"), "/")
	if s == "" {
		s = "home"
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range u.Query() {
			if k != "academic_year" && !yield(k) {
				return
			}
		}
	}) {
		s += "_" + k + "_" + u.Query().Get(k)
	}
	return strings.NewReplacer("/", "_", "-", "_").Replace(s)
}

type pageRun struct {
	p50, p99, max time.Duration
	bytes, n      int
	// err is a page that could not be fetched at all; failed counts the
	// requests of the run that failed (a 503 under load), firstErr says why.
	err      error
	failed   int
	firstErr error
}

// measurePage requests url at pagesRate for pagesDuration, open loop.
func measurePage(u string, c *http.Client) pageRun {
	var run pageRun
	fetch := func() (int, error) {
		res, err := c.Get(u)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d", u, res.StatusCode)
		}
		return len(b), err
	}
	get := func() error { _, err := fetch(); return err }
	if run.bytes, run.err = fetch(); run.err != nil { // warm, and the page's weight
		return run
	}
	lat, failed, first := openLoop(pagesRate, pagesDuration, get)
	run.n, run.failed, run.firstErr = len(lat), failed, first
	run.p50, run.p99, run.max = pct(lat, 0.50), pct(lat, 0.99), slices.Max(lat)
	return run
}

func emitPage(name, what string, run, base pageRun) {
	note := fmt.Sprintf("GET %s at %.0f requests/s open loop for %v; baseline: a static asset (/ui/static/app.css) of the same server at the same rate", what, pagesRate, pagesDuration)
	for _, q := range []struct {
		suffix  string
		v, base time.Duration
	}{{"p50", run.p50, base.p50}, {"p99", run.p99, base.p99}, {"max", run.max, base.max}} {
		emit(Result{Figure: name + "_" + q.suffix, Unit: "µs", Value: float64(q.v.Microseconds()), Baseline: float64(q.base.Microseconds()), N: run.n, Note: note})
	}
	if run.failed > 0 {
		emit(Result{Figure: name + "_failed", Unit: "requests", Value: float64(run.failed), Baseline: float64(run.n), N: run.n,
			Note: "requests that failed (latency counted to the failure): " + run.firstErr.Error()})
	}
	emit(Result{Figure: name + "_bytes", Unit: "bytes", Value: float64(run.bytes), Baseline: pagesMaxBytes, N: 1,
		Note: "the page's HTML without images; baseline: the goal, 150 KB"})
}
