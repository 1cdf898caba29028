package httpfuzz

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// goodValues are plausible values for properties and parameters by name,
// so that valid requests get past the domain's checks (made-up data; the
// national IDs pass the checksum). A name not listed gets a value from its
// schema: an example, an enum member, or one within its bounds.
var goodValues = map[string][]any{
	"national_id":             {"A123456789", "B298765438", "F888888886"},
	"name":                    {"測試學生", "王小明"},
	"birth_date":              {"2012-05-01", "2011-09-30"},
	"date":                    {"2026-03-23", "2026-02-16"},
	"on":                      {"2026-02-11", "2026-02-10"},
	"from":                    {"2026-02-11", "2025-12-31"},
	"examined_on":             {"2026-02-01"},
	"cleared_on":              {"2026-02-05"},
	"issued_on":               {"2026-02-01"},
	"mid_year_reporting_date": {"2026-03-02"},
	"reporting_date":          {"2026-03-02"},
	"academic_year":           {114, 115},
	"year":                    {2026, 2025},
	"pages":                   {1, 3},
	"item":                    {1, 5, 12},
	"grade":                   {7, 8, 9},
	"relationship":            {"母", "父"},
	"semester":                {"115-1"},
	"class":                   {"8-1"},
	"origin_school":           {"034501"},
	"school":                  {"034501"},
	"documents":               {0, 2},
	"add":                     {10, 0},
}

// generator makes request bodies and parameter values from the OpenAPI
// schemas, valid or mutated, from a seeded source.
type generator struct {
	rng *rand.Rand
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// value returns a valid value of the schema for a property named name.
func (g *generator) value(name string, ref *openapi3.SchemaRef, depth int) any {
	if vs, ok := goodValues[name]; ok {
		return vs[g.pick(len(vs))]
	}
	if ref == nil || ref.Value == nil || depth > 6 {
		return "測試"
	}
	s := ref.Value
	switch {
	case len(s.Enum) > 0:
		return s.Enum[g.pick(len(s.Enum))]
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.AllOf) > 0:
		return g.value(name, s.AllOf[0], depth+1)
	case len(s.OneOf) > 0:
		return g.value(name, s.OneOf[g.pick(len(s.OneOf))], depth+1)
	}
	switch {
	case s.Type.Is("object"):
		m := map[string]any{}
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for _, p := range sortedKeys(s.Properties) {
			if required[p] || g.chance(0.7) {
				m[p] = g.value(p, s.Properties[p], depth+1)
			}
		}
		return m
	case s.Type.Is("array"):
		n := 1 + g.pick(2)
		seen := map[string]bool{}
		var out []any
		for range n {
			v := g.value(name, s.Items, depth+1)
			if k := fmt.Sprint(v); !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
		return out
	case s.Type.Is("integer"), s.Type.Is("number"):
		lo, hi := 0.0, 10.0
		if s.Min != nil {
			lo = *s.Min
		}
		if s.Max != nil {
			hi = *s.Max
		}
		if hi < lo {
			hi = lo
		}
		return int64(lo) + int64(g.pick(int(hi-lo)+1))
	case s.Type.Is("boolean"):
		return g.chance(0.5)
	}
	switch s.Format {
	case "date":
		return "2026-02-11"
	case "date-time":
		return "2026-02-11T09:00:00+08:00"
	}
	return "測試"
}

// hostile are values of every JSON type that a careless or malicious
// client sends where something else is expected.
var hostile = []any{
	"王\u0000明", "\u0007bell", "line\nbreak", "\u202etxet", "\ufeffbom", "🙂",
	strings.Repeat("長", 3000), strings.Repeat("x", 70000), "", " ", "r>", "../..", "%00", "<script>",
	"A123456789", "a123456789", "2099-01-01", "0000-00-00", "2026-02-30", "1900-01-01", "9999-12-31",
	json.Number("9223372036854775807"), json.Number("9223372036854775808"), json.Number("-9223372036854775809"),
	json.Number("18446744073709551616"), json.Number("1e308"), json.Number("-1e400"), json.Number("1.5"),
	json.Number("-1"), json.Number("0"), json.Number("2147483648"), json.Number("-0"),
	true, false, nil, []any{}, []any{nil, 1, "x"}, map[string]any{}, map[string]any{"a": map[string]any{"b": []any{}}},
}

// hostileStrings and hostileNumbers replace one leaf of a valid body.
var (
	hostileStrings = []any{"王\u0000明", "\u0007", "a\u001bb", "\u202e", strings.Repeat("長", 3000), "", " ", "\ufffd", "🙂", "a123456789", "2099-01-01", "2026-02-30"}
	hostileNumbers = []any{json.Number("9223372036854775807"), json.Number("9223372036854775808"), json.Number("-9223372036854775808"),
		json.Number("2147483648"), json.Number("-1"), json.Number("0"), json.Number("1e308"), json.Number("1.5"), json.Number("-99999999999")}
)

// randomLeaf returns a setter for a string leaf (numbers false) or a
// number leaf of v, picked uniformly at any depth, and its path.
func (g *generator) randomLeaf(v any, numbers bool) (func(any), string) {
	var sets []func(any)
	var paths []string
	isNumber := func(x any) bool {
		switch x.(type) {
		case int, int64, float64, json.Number:
			return true
		}
		return false
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if _, str := x[k].(string); str && !numbers || numbers && isNumber(x[k]) {
					sets = append(sets, func(n any) { x[k] = n })
					paths = append(paths, path+k)
				}
				walk(x[k], path+k+".")
			}
		case []any:
			for i := range x {
				if _, str := x[i].(string); str && !numbers || numbers && isNumber(x[i]) {
					sets = append(sets, func(n any) { x[i] = n })
					paths = append(paths, path+"[]")
				}
				walk(x[i], path+"[].")
			}
		}
	}
	walk(v, "")
	if len(sets) == 0 {
		return nil, ""
	}
	i := g.pick(len(sets))
	return sets[i], paths[i]
}

// rawBodies are bodies that are not a JSON object, or not JSON at all.
var rawBodies = []string{
	"", "null", "[]", "0", `"string"`, "{", `{"a":`, "{}}", `{"a":1,"a":2}`, "\x00", "\xff\xfe\xfd",
	`{"student":{"name":"\ud800"}}`, strings.Repeat("[", 10000), `{"` + strings.Repeat("k", 5000) + `":1}`,
	"西元日期,星期,是否放假,備註\r\n20260101,四,2,\r\n", "\xef\xbb\xbf{}", "<xml/>",
	`{"reason":"` + strings.Repeat("a", 1<<20) + `"}`, // over the 1 MB body limit
}

// mutateBody returns a body derived from the valid value v by one of the
// mutations, as JSON bytes, and a short name of the mutation.
func (g *generator) mutateBody(v any) ([]byte, string) {
	switch g.pick(10) {
	case 4, 5: // one string field, at any depth, hostile
		if set, path := g.randomLeaf(v, false); set != nil {
			set(hostileStrings[g.pick(len(hostileStrings))])
			return marshal(v), "hostile string " + path
		}
	case 6: // one number field hostile
		if set, path := g.randomLeaf(v, true); set != nil {
			set(hostileNumbers[g.pick(len(hostileNumbers))])
			return marshal(v), "hostile number " + path
		}
	case 0:
		return []byte(rawBodies[g.pick(len(rawBodies))]), "raw"
	case 1: // a field removed
		if m, path := g.randomObject(v); len(m) > 0 {
			k := sortedKeys(m)[g.pick(len(m))]
			delete(m, k)
			return marshal(v), "missing " + path + k
		}
	case 2: // an unknown field added
		if m, path := g.randomObject(v); m != nil {
			m["extra_"+strconv.Itoa(g.pick(100))] = hostile[g.pick(len(hostile))]
			return marshal(v), "extra field in " + path
		}
	case 3: // invalid UTF-8 or a raw control byte inside a string
		b := marshal(v)
		var opens []int // just after each opening quote
		inString := false
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '\\':
				if inString {
					i++
				}
			case '"':
				if !inString {
					opens = append(opens, i+1)
				}
				inString = !inString
			}
		}
		if len(opens) > 0 {
			pos := opens[g.pick(len(opens))]
			bad := [][]byte{{0xff}, {0xc3, 0x28}, {0xed, 0xa0, 0x80}, {0x00}, {0x1b}, {0xc0, 0x80}}[g.pick(6)]
			return append(append(append([]byte{}, b[:pos]...), bad...), b[pos:]...), "bad bytes"
		}
	}
	// a value of some field replaced by a hostile one
	if m, path := g.randomObject(v); len(m) > 0 {
		k := sortedKeys(m)[g.pick(len(m))]
		m[k] = hostile[g.pick(len(hostile))]
		return marshal(v), "hostile " + path + k
	}
	return []byte(rawBodies[g.pick(len(rawBodies))]), "raw"
}

// randomObject returns an object inside v (v itself or a nested one) and
// its path, or nil if v holds none.
func (g *generator) randomObject(v any) (map[string]any, string) {
	var objs []map[string]any
	var paths []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			objs = append(objs, x)
			paths = append(paths, path)
			for _, k := range sortedKeys(x) {
				walk(x[k], path+k+".")
			}
		case []any:
			for _, e := range x {
				walk(e, path+"[]")
			}
		}
	}
	walk(v, "")
	if len(objs) == 0 {
		return nil, ""
	}
	i := g.pick(len(objs))
	return objs[i], paths[i]
}

// hostileParams are path segments and query values that must give a 4xx.
var hostileParams = []string{
	"r>", "r*", "..", "%2e%2e", "%00", "%ff", "%c3%28", "%20", strings.Repeat("r", 300), "-1", "0",
	"99999999999999999999", "-99999999999", "1e3", "0x10", "%E7%8E%8B", "r%0a1", "a.b", "%25", "true", "null",
	"2026-13-45", "%F0%9F%99%82", "r1;drop", "%2F", strings.Repeat("%ff", 100),
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only JSON-able values are generated
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
