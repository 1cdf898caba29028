// Package httpfuzz is a black-box HTTP fuzzer driven by an OpenAPI
// document: it sends every route and method of the document, and methods
// the document does not list, with every caller's token, valid requests
// generated from the schemas and then mutated ones (hostile strings and
// numbers, wrong types, missing and extra fields, bytes that are not
// UTF-8, wrong content types, hostile path segments and query values,
// garbage headers), from a seeded source, so that a run is repeatable.
//
// It checks each answer as it goes: no 5xx, and every error an
// application/problem+json object whose status is the answer's. What the
// system must look like afterwards (no panic, the projector at the end of
// the stream) is for the caller to check; see httpfuzz_test.go.
package httpfuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Config is a fuzzing run.
type Config struct {
	BaseURL string
	Spec    *openapi3.T
	// Tokens maps a caller's name (a role) to a bearer token. The run also
	// sends requests without a token and with a bogus one.
	Tokens map[string]string
	// PathValues returns good values for the path parameter param of the
	// route path, such as the ids of existing cases; nil or empty lets the
	// schema decide.
	PathValues func(path, param string) []string
	// CSV returns a valid text/csv body (an office calendar year).
	CSV func() []byte
	// Seed makes the run repeatable.
	Seed uint64
	// The run stops after Requests requests or after Duration, whichever
	// comes first; zero means no limit (one of them must be set).
	Requests int
	Duration time.Duration
	Client   *http.Client
}

// Finding is a kind of answer that breaks a rule (a route, a method and
// a status), counted, with up to three of the mutations that caused it.
type Finding struct {
	Method   string   `json:"method"`
	Route    string   `json:"route"`
	Status   int      `json:"status"`
	Count    int      `json:"count"`
	Examples []string `json:"examples"` // what was done, never a person's data
}

// Report are the figures of a run.
type Report struct {
	Requests int            `json:"requests"`
	Statuses map[string]int `json:"statuses"` // by class: 2xx, 3xx, 4xx, 5xx
	// Unsent counts requests the client refused to send (an invalid URL).
	Unsent int `json:"unsent"`
	// Transport counts requests that got no answer (a closed connection).
	Transport   int       `json:"transport_errors"`
	ServerError []Finding `json:"5xx"`
	NotProblem  []Finding `json:"errors_not_problem_json"`
	// Panics is for the caller to fill in: the server recovers them.
	Panics     int    `json:"panics"`
	Routes     int    `json:"routes"`
	Operations int    `json:"operations"`
	Seed       uint64 `json:"seed"`
	ElapsedMS  int64  `json:"elapsed_ms"`

	findings map[string]*Finding
}

// operation is one method on one route; declared is false for a method
// the document does not list (a wrong method).
type operation struct {
	method, path string
	op           *openapi3.Operation
	params       openapi3.Parameters
	declared     bool
}

// Run fuzzes until the budget is spent or ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Requests == 0 && cfg.Duration == 0 {
		return nil, fmt.Errorf("httpfuzz: no budget: set Requests or Duration")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 15 * time.Second}
	}
	ops := operations(cfg.Spec)
	if len(ops) == 0 {
		return nil, fmt.Errorf("httpfuzz: the document has no operations")
	}
	callers := append(sortedKeys(cfg.Tokens), "none", "bogus")
	r := &runner{cfg: cfg, admitted: map[string][]string{}, gen: &generator{rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}}
	rep := &Report{Statuses: map[string]int{}, Seed: cfg.Seed, Operations: len(ops), findings: map[string]*Finding{}}
	rep.Routes = len(cfg.Spec.Paths.Map())
	start := time.Now()
	for i := 0; cfg.Requests == 0 || i < cfg.Requests; i++ {
		if cfg.Duration > 0 && time.Since(start) > cfg.Duration || ctx.Err() != nil {
			break
		}
		op := ops[i%len(ops)]
		caller := callers[(i/len(ops))%len(callers)]
		// The first round sends every operation valid with every caller;
		// later rounds mostly mutate, mostly as a caller the operation
		// admits, so that mutations reach the handlers.
		first := i < len(ops)*len(callers)
		if admitted := r.admitted[op.key()]; !first && len(admitted) > 0 && r.gen.chance(0.85) {
			caller = admitted[r.gen.pick(len(admitted))]
		}
		status := r.one(ctx, rep, op, caller, !first && r.gen.chance(0.8))
		if first && status != 0 && status != http.StatusUnauthorized && status != http.StatusForbidden && caller != "none" && caller != "bogus" {
			r.admitted[op.key()] = append(r.admitted[op.key()], caller)
		}
	}
	rep.ElapsedMS = time.Since(start).Milliseconds()
	for _, k := range sortedKeys(rep.findings) {
		f := *rep.findings[k]
		if f.Status >= 500 {
			rep.ServerError = append(rep.ServerError, f)
		} else {
			rep.NotProblem = append(rep.NotProblem, f)
		}
	}
	return rep, nil
}

// operations lists the document's operations, and for each route one
// method it does not declare, in a fixed order.
func operations(spec *openapi3.T) []operation {
	var ops []operation
	paths := spec.Paths.Map()
	for _, p := range sortedKeys(paths) {
		item := paths[p]
		declared := item.Operations()
		for _, m := range sortedKeys(declared) {
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, declared[m].Parameters...)
			ops = append(ops, operation{method: m, path: p, op: declared[m], params: params, declared: true})
		}
		// A wrong method, with the path parameters of a declared one.
		var pathParams openapi3.Parameters
		for _, m := range sortedKeys(declared) {
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), declared[m].Parameters...) {
				if pr.Value != nil && pr.Value.In == openapi3.ParameterInPath {
					pathParams = append(pathParams, pr)
				}
			}
			break
		}
		for _, m := range []string{http.MethodDelete, http.MethodPatch, http.MethodPut, http.MethodPost, http.MethodGet, http.MethodHead, http.MethodOptions} {
			if _, ok := declared[m]; !ok {
				ops = append(ops, operation{method: m, path: p, params: pathParams})
				break
			}
		}
	}
	return ops
}

func (o operation) key() string { return o.method + " " + o.path }

type runner struct {
	cfg      Config
	admitted map[string][]string // operation → callers it did not refuse
	gen      *generator
	position uint64 // the highest position a command answered
	idem     int
}

// one sends one request, checks the answer and returns its status (0 if
// there was none).
func (r *runner) one(ctx context.Context, rep *Report, op operation, caller string, mutate bool) int {
	g := r.gen
	// What to mutate: the body, the path, the query, the headers or the
	// content type; sometimes several.
	var what []string
	mutation := "valid"
	if mutate {
		for len(what) == 0 {
			for _, w := range []string{"body", "path", "query", "header", "content-type"} {
				if g.chance(0.3) {
					what = append(what, w)
				}
			}
		}
		mutation = strings.Join(what, "+")
	}
	has := func(w string) bool {
		for _, x := range what {
			if x == w {
				return true
			}
		}
		return false
	}

	path, query, header := op.path, url.Values{}, http.Header{}
	for _, pref := range op.params {
		p := pref.Value
		if p == nil {
			continue
		}
		var v string
		switch p.In {
		case openapi3.ParameterInPath:
			v = r.paramValue(op.path, p)
			if has("path") && g.chance(0.6) {
				v = hostileParams[g.pick(len(hostileParams))]
				mutation += " " + p.Name + "=" + label(v)
			}
			path = strings.ReplaceAll(path, "{"+p.Name+"}", v)
		case openapi3.ParameterInQuery:
			if !p.Required && g.chance(0.4) {
				continue
			}
			v = r.paramValue(op.path, p)
			if has("query") && g.chance(0.6) {
				v = hostileParams[g.pick(len(hostileParams))]
				mutation += " ?" + p.Name + "=" + label(v)
			}
			query.Add(p.Name, v)
		case openapi3.ParameterInHeader:
			if g.chance(0.5) {
				continue
			}
			header.Set(p.Name, r.headerValue(p.Name, has("header")))
		}
	}
	rawQuery := query.Encode()
	if has("query") {
		// Hostile values as sent, not escaped again, plus an unknown
		// parameter and a repeated one.
		var parts []string
		for _, k := range sortedKeys(query) {
			for _, v := range query[k] {
				parts = append(parts, url.QueryEscape(k)+"="+v)
			}
		}
		parts = append(parts, "zz"+strconv.Itoa(g.pick(9))+"="+hostileParams[g.pick(len(hostileParams))])
		if len(parts) > 1 && g.chance(0.3) {
			parts = append(parts, parts[0])
		}
		rawQuery = strings.Join(parts, "&")
	}
	if has("header") {
		ids := []string{strings.Repeat("i", 300), "王小明A123456789", "id with spaces", "../../x", ""}
		header.Set("X-Request-Id", ids[g.pick(len(ids))])
		header.Set("X-Min-Position", hostileParams[g.pick(len(hostileParams))])
	}

	body, contentType, bodyMutation := r.body(op, has("body"))
	if bodyMutation != "" {
		mutation += " (" + bodyMutation + ")"
	}
	if has("content-type") {
		types := []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
			"application/json; charset=big5", "application/xml", "application/problem+json", "*/*", "application/json;;;"}
		contentType = types[g.pick(len(types))]
		if body == nil && g.chance(0.5) {
			body = []byte(`{}`)
		}
	}

	u := r.cfg.BaseURL + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, op.method, u, rd)
	if err != nil {
		rep.Unsent++
		return 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch caller {
	case "none":
	case "bogus":
		req.Header.Set("Authorization", []string{"Bearer bogus", "Basic Zm9vOmJhcg==", "Bearer ", "bearer x"}[g.pick(4)])
	default:
		req.Header.Set("Authorization", "Bearer "+r.cfg.Tokens[caller])
	}
	rep.Requests++
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			rep.Transport++
		}
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	rep.Statuses[fmt.Sprintf("%dxx", resp.StatusCode/100)]++
	r.check(rep, op, mutation, req.Method, resp, b)
	return resp.StatusCode
}

// check applies the rules to one answer.
func (r *runner) check(rep *Report, op operation, mutation, method string, resp *http.Response, body []byte) {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		var res struct {
			Position uint64 `json:"position"`
		}
		if json.Unmarshal(body, &res) == nil && res.Position > r.position {
			r.position = res.Position
		}
	}
	bad := status >= 500
	if status >= 400 && method != http.MethodHead {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		var p struct {
			Status int    `json:"status"`
			Title  string `json:"title"`
		}
		if mt != "application/problem+json" || json.Unmarshal(body, &p) != nil || p.Status != status || p.Title == "" {
			bad = true
		}
	}
	if !bad {
		return
	}
	key := fmt.Sprintf("%s %s %d", op.path, method, status)
	f := rep.findings[key]
	if f == nil {
		f = &Finding{Method: method, Route: op.path, Status: status}
		rep.findings[key] = f
	}
	f.Count++
	if len(f.Examples) < 3 {
		f.Examples = append(f.Examples, mutation)
	}
}

// paramValue returns a good value for a path or query parameter.
func (r *runner) paramValue(path string, p *openapi3.Parameter) string {
	if r.cfg.PathValues != nil {
		if vs := r.cfg.PathValues(path, p.Name); len(vs) > 0 {
			return vs[r.gen.pick(len(vs))]
		}
	}
	if p.Name == "min_position" {
		// Never ahead of the stream: such a read waits and answers 503
		// by design (the position is not there yet; retry).
		return strconv.FormatUint(r.gen.rng.Uint64N(r.position+1), 10)
	}
	return fmt.Sprint(r.gen.value(p.Name, p.Schema, 0))
}

// headerValue returns a value for a declared header, hostile if asked.
func (r *runner) headerValue(name string, hostile bool) string {
	g := r.gen
	switch name {
	case "Idempotency-Key":
		if hostile {
			return []string{strings.Repeat("k", 201), strings.Repeat("k", 200), "王", "a b", "k\t1"}[g.pick(5)]
		}
		r.idem++
		return "fuzz-" + strconv.Itoa(r.idem%50) // some repeat: replays and conflicts
	case "If-Match":
		if hostile {
			return []string{`"x"`, `W/"-1"`, `"18446744073709551616"`, "*", `""`, `"1`, "1,2"}[g.pick(7)]
		}
		return strconv.Quote(strconv.Itoa(1 + g.pick(12)))
	}
	return "x"
}

// body returns a request body for op, its content type and what was
// done to it, or nil.
func (r *runner) body(op operation, hostile bool) ([]byte, string, string) {
	g := r.gen
	if op.op == nil || op.op.RequestBody == nil || op.op.RequestBody.Value == nil {
		if hostile {
			return []byte(rawBodies[g.pick(len(rawBodies))]), "application/json", "unexpected body"
		}
		return nil, "", ""
	}
	content := op.op.RequestBody.Value.Content
	types := sortedKeys(content)
	if len(types) == 0 {
		return nil, "", ""
	}
	ct := types[g.pick(len(types))]
	if !strings.Contains(ct, "json") {
		if hostile || r.cfg.CSV == nil {
			return []byte(rawBodies[g.pick(len(rawBodies))]), ct, "raw"
		}
		return r.cfg.CSV(), ct, ""
	}
	v := g.value("", content[ct].Schema, 0)
	if !hostile {
		return marshal(v), ct, ""
	}
	b, what := g.mutateBody(v)
	return b, ct, what
}

// label names a hostile value (from this package's fixed lists, never a
// person's data) briefly, for a finding.
func label(v string) string {
	if len(v) > 16 {
		return fmt.Sprintf("%.8s…(%d bytes)", v, len(v))
	}
	return v
}
