package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/syncbuf"
	"cihui/internal/testenv"
)

// leakWatch drives the API and keeps every problem it answers.
type leakWatch struct {
	t        *testing.T
	e        *testenv.Env
	log      *syncbuf.Buffer
	problems []string
}

func (w *leakWatch) keep(r testenv.Response) testenv.Response {
	if r.Status >= 400 {
		if r.Status >= 500 {
			w.t.Errorf("a 500 for bad input: %s", r.Body)
		}
		w.problems = append(w.problems, string(r.Body))
	}
	return r
}

func (w *leakWatch) do(method, path, token string, body any, want int, headers ...string) testenv.Response {
	w.t.Helper()
	r := w.keep(w.e.Do(method, path, token, body, headers...))
	if r.Status != want {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Issues 8 and 14, and the rule of the project: personal data — a
// student's name, national ID, birth date, family and the reasons,
// notes and evidence typed about them; a staff member's name and e-mail
// address; a reviewer's name and comments — reaches no log line (the
// API's and the projectors'), no metric and no problem answered, whether
// the request succeeds or is refused: filing a referral and failing to,
// a dropout with its notes, the 中止就讀 procedure with its notes, a
// score sheet, a co-counselling visit, inviting people and the unique
// violations of their addresses, password sign-ins that fail (a wrong
// password, an unknown address, bytes that are not text), OpenID Connect
// sign-ins (invited, not invited, unverified), and a value typed where
// an id belongs in a path.
func TestPersonalDataStaysOutOfLogsMetricsAndProblems(t *testing.T) {
	log := &syncbuf.Buffer{}
	e := testenv.New(t, testenv.Options{Log: slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	w := &leakWatch{t: t, e: e, log: log}
	a := newActors(e)

	// Every value is distinctive, so that a search finds it anywhere.
	nationalID := testenv.NewNationalID()
	const (
		studentName  = "鄔霽雯"
		guardianName = "鄔霽峰"
		birthDate    = "2012-07-19"
		reason       = "LEAK-轉介原因-父親長期酗酒"
		staffName    = "鄭秘密"
		staffEmail   = "cheng.secret@example.edu.tw"
		otherEmail   = "lin.hidden@example.edu.tw"
		strangerMail = "stranger.unseen@example.edu.tw"
		dropoutNote  = "LEAK-中輟備註-於網咖被尋獲"
		followUpNote = "LEAK-協尋紀錄-母親拒絕透露住處"
		evidence     = "LEAK-佐證-多次攜帶刀械"
		adaptNotes   = "LEAK-適應會議-情緒失控"
		visitNote    = "LEAK-家訪紀錄-居所無水電"
		report       = "LEAK-評估報告-建議轉介司法"
		reviewer     = "評審龔霽川"
		comments     = "LEAK-評語-承辦人態度"
		coNote       = "LEAK-協同輔導-疑似受虐"
	)
	secrets := []string{nationalID, studentName, guardianName, birthDate, reason, staffName, staffEmail, "cheng.secret",
		otherEmail, strangerMail, dropoutNote, followUpNote, evidence, adaptNotes, visitNote, report, reviewer, comments, coNote, "LEAK-"}

	// A referral filed, and refused: a national ID whose check digit is
	// wrong, a date that does not exist, a name too long, a reason with a
	// control character.
	body := testenv.ValidReferral(nationalID)
	body["student"].(map[string]any)["name"] = studentName
	body["student"].(map[string]any)["birth_date"] = birthDate
	body["guardian"].(map[string]any)["name"] = guardianName
	body["reason"] = reason
	w.do("POST", "/v1/referrals", a.school, body, 201)
	badID := nationalID[:9] + fmt.Sprint((int(nationalID[9]-'0')+1)%10)
	for _, bad := range []func(map[string]any){
		func(b map[string]any) { b["student"].(map[string]any)["national_id"] = badID },
		func(b map[string]any) { b["student"].(map[string]any)["birth_date"] = "2012-02-30" },
		func(b map[string]any) { b["student"].(map[string]any)["name"] = strings.Repeat(studentName, 40) },
		func(b map[string]any) { b["reason"] = reason + "\x00" },
		func(b map[string]any) { b["guardian"].(map[string]any)["name"] = 12345 },
	} {
		b := testenv.ValidReferral(testenv.NewNationalID())
		b["student"].(map[string]any)["name"] = studentName
		b["reason"] = reason
		bad(b)
		w.do("POST", "/v1/referrals", a.school, b, 400)
	}
	secrets = append(secrets, badID)
	// A value sent as the method, and typed where an id belongs.
	w.do(nationalID, "/v1/referrals", a.school, nil, 405)
	w.do("GET", "/v1/referrals/"+nationalID, a.school, nil, 400)
	w.do("GET", "/v1/people-by-id/"+nationalID+"?q="+nationalID, a.school, nil, 404)
	w.do("GET", "/"+nationalID, "", nil, 404)
	w.do("GET", "/v1/referrals/"+url.PathEscape(studentName)+"/events", a.school, nil, 400)

	// 中止就讀: a ground with its evidence, an adaptation meeting that
	// proposes the end, the visits and the evaluation report.
	sus := enrolledCase(t, e, a)
	w.do("POST", "/v1/referrals/"+sus+"/grounds", a.sw, map[string]any{"ground": 3, "on": "2026-02-11", "evidence": evidence + "\x07"}, 400)
	w.do("POST", "/v1/referrals/"+sus+"/grounds", a.sw, map[string]any{"ground": 3, "on": "2026-02-11", "evidence": evidence}, 200)
	w.do("POST", "/v1/referrals/"+sus+"/adaptation-meetings", a.sw, map[string]any{"on": "2026-02-11", "outcome": "propose_end", "grounds": []int{3}, "notes": adaptNotes}, 200)
	p := "/v1/referrals/" + sus + "/suspension"
	w.do("POST", p+"/report", a.sw, map[string]any{"on": "2026-02-11", "report": report}, 422) // before the visits (R-SUS-2)
	w.do("POST", p+"/visits", a.sw, map[string]any{"kind": "home", "on": "2026-02-11", "note": visitNote}, 200)
	w.do("POST", p+"/visits", a.sw, map[string]any{"kind": "origin_school", "on": "2026-02-11", "note": visitNote}, 200)
	w.do("POST", p+"/report", a.sw, map[string]any{"on": "2026-02-11", "report": report}, 200)

	// A dropout with its note and a follow-up; refused ones too.
	drop := enrolledCase(t, e, a)
	notEnrolled := e.RecommendedCase("034501", domain.OutcomeRecommend)
	e.Clock.Set(time.Date(2026, 4, 1, 9, 0, 0, 0, domain.Taipei))
	base := "/v1/referrals/" + drop + "/dropouts"
	w.do("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "lost", "reason": "family", "note": dropoutNote}, 400)
	w.do("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family", "note": strings.Repeat(dropoutNote, 400)}, 400)
	w.do("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-02", "whereabouts": "unknown", "reason": "family", "sub_reason": "economic", "note": dropoutNote}, 201)
	w.do("POST", base, a.sw, map[string]any{"first_day_absent": "2026-03-20", "whereabouts": "known", "reason": "school", "note": dropoutNote}, 422)
	w.do("POST", base+"/1/follow-ups", a.school, map[string]any{"kind": "search", "on": "2026-03-04", "note": followUpNote}, 200)
	w.do("POST", base+"/1/follow-ups", a.school, map[string]any{"kind": "search", "on": "2026-02-04", "note": followUpNote}, 422)

	// A co-counselling visit and a score sheet, and refused ones.
	w.do("POST", "/v1/co-counselling-visits", a.school, map[string]any{"on": "2026-03-20", "cases": []map[string]any{{"case_id": drop, "note": coNote}}}, 200)
	w.do("POST", "/v1/co-counselling-visits", a.school, map[string]any{"on": "2026-03-20", "cases": []map[string]any{{"case_id": notEnrolled, "note": coNote}}}, 422)
	w.do("POST", "/v1/award/score-sheets", a.bureau, map[string]any{"academic_year": 114, "ratings": fullRatings(3), "reviewer": reviewer, "comments": comments}, 201)
	w.do("POST", "/v1/award/score-sheets", a.bureau, map[string]any{"academic_year": 114, "ratings": fullRatings(3), "reviewer": reviewer + "\n", "comments": comments + "\x00"}, 400)

	// People: invited, and the unique violations of their addresses, on
	// insert and on update.
	id := invite(t, e, a.admin, map[string]any{"name": staffName, "email": staffEmail, "roles": []any{map[string]any{"role": "bureau"}}})
	other := invite(t, e, a.admin, map[string]any{"name": "林一", "email": otherEmail, "roles": []any{map[string]any{"role": "bureau"}}})
	w.do("POST", "/v1/people", a.admin, map[string]any{"name": staffName, "email": strings.ToUpper(staffEmail), "roles": []any{map[string]any{"role": "bureau"}}}, 409)
	w.do("PATCH", "/v1/people/"+other, a.admin, map[string]any{"email": staffEmail}, 409)
	w.do("PATCH", "/v1/people/"+id, a.admin, map[string]any{"oidc_subject": "edu-" + staffEmail}, 200)
	w.do("PATCH", "/v1/people/"+other, a.admin, map[string]any{"oidc_subject": "edu-" + staffEmail}, 409)
	w.do("PATCH", "/v1/people/"+id, a.admin, map[string]any{"email": staffEmail + ">"}, 400)

	// Password sign-ins that fail: a wrong password, an address no one
	// has, bytes that are not text, a NUL.
	ctx := context.Background()
	if err := e.Logins.SetPassword(ctx, events.Actor{Role: domain.RoleAdmin, UserID: "per_test"}, id, goodPassword, nil); err != nil {
		t.Fatal(err)
	}
	b := e.NewBrowser()
	for email, want := range map[string]int{staffEmail: 401, strangerMail: 401, "\xff\xfe" + strangerMail: 400, strangerMail + "\x00": 400} {
		if r := w.keep(b.Do("POST", "/auth/password", url.Values{"email": {email}, "password": {"not the password"}, "csrf_token": {b.CSRF()}})); r.Status != want {
			t.Fatalf("password sign-in as %q: %d, want %d: %s\n%s", email, r.Status, want, r.Body, log)
		}
	}

	// OpenID Connect, by e-mail claim: the invited person, a stranger, an
	// address the provider has not verified.
	op := withOIDC(t, e, "email")
	for email, want := range map[string]int{staffEmail: 303, strangerMail: 403} {
		op.SignInAs("sub-"+email, email, true)
		if r := w.keep(oidcSignIn(t, e.NewBrowser())); r.Status != want {
			t.Fatalf("OIDC sign-in as %s: %d, want %d: %s", email, r.Status, want, r.Body)
		}
	}
	op.SignInAs("sub-x", staffEmail, false)
	if r := w.keep(oidcSignIn(t, e.NewBrowser())); r.Status != 401 {
		t.Fatalf("an unverified address: %d %s", r.Status, r.Body)
	}

	// The projectors have applied everything (their log is read too).
	get(t, e, a.sw, drop)
	metrics := e.Do("GET", "/metrics", "", nil)
	if metrics.Status != 200 {
		t.Fatalf("metrics: %d", metrics.Status)
	}
	logText := log.String()
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("%q is in the log", s)
		}
		if strings.Contains(string(metrics.Body), s) {
			t.Errorf("%q is in the metrics", s)
		}
		for _, p := range w.problems {
			if strings.Contains(p, s) {
				t.Errorf("%q is in a problem: %s", s, p)
			}
		}
	}
	// The capture works: the requests and the projector are in the log,
	// and the problems were kept.
	for _, want := range []string{`"status":409`, `"route":"/v1/referrals/:id/dropouts"`, `"route":"/auth/oidc/callback"`, "projector started"} {
		if !strings.Contains(logText, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if len(w.problems) < 20 {
		t.Errorf("only %d problems seen", len(w.problems))
	}
}
