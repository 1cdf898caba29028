package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// apiSources are the packages whose field messages reach a page through
// the API's problem details.
var apiSources = []string{"../domain", "../httpapi", "../app", "../auth", "../postgres", "../projections"}

// fieldMessages reads every field message the domain and the API can give
// from their source: the second argument of a Check's Set, the values of
// an Invalid(map…) literal, a DateIn's message, the messages of
// TextProblem and the msg… constants. A message built at run time has
// each computed part replaced by a sample: "1" for a number, "a, b or c"
// for anything else (a list of choices, a date).
func fieldMessages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, root := range apiSources {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			add := func(e ast.Expr) {
				if s, ok := sample(e); ok {
					out[s] = fset.Position(e.Pos()).String()
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.GenDecl:
					for _, sp := range x.Specs {
						if vs, ok := sp.(*ast.ValueSpec); ok && x.Tok == token.CONST {
							for i, name := range vs.Names {
								if (strings.HasPrefix(name.Name, "msg") || strings.HasPrefix(name.Name, "Msg")) && i < len(vs.Values) {
									add(vs.Values[i])
								}
							}
						}
					}
				case *ast.FuncDecl:
					if strings.HasSuffix(x.Name.Name, "Problem") && x.Body != nil {
						ast.Inspect(x.Body, func(n ast.Node) bool {
							if r, ok := n.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
								if s, ok := sample(r.Results[0]); ok && s != "" {
									out[s] = fset.Position(r.Pos()).String()
								}
							}
							return true
						})
					}
				case *ast.CallExpr:
					sel, _ := x.Fun.(*ast.SelectorExpr)
					name := ""
					if sel != nil {
						name = sel.Sel.Name
					} else if id, ok := x.Fun.(*ast.Ident); ok {
						name = id.Name
					}
					switch {
					case name == "Set" && len(x.Args) == 2 && sel != nil && checkReceivers[types.ExprString(sel.X)]:
						add(x.Args[1])
					case name == "DateIn" && len(x.Args) == 5:
						add(x.Args[4])
					case name == "Invalid":
						for _, a := range x.Args {
							if cl, ok := a.(*ast.CompositeLit); ok {
								for _, el := range cl.Elts {
									if kv, ok := el.(*ast.KeyValueExpr); ok {
										add(kv.Value)
									}
								}
							}
						}
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// checkReceivers are the names a *domain.Check goes by where its Set is
// called (an echo.Context's and a header's Set are not field messages).
var checkReceivers = map[string]bool{"c": true, "ck": true, "q.ck": true}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// sample evaluates a message expression with samples for its computed
// parts; ok is false for an expression that is not text.
func sample(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.ParenExpr:
		return sample(x.X)
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		l, ok := sample(x.X)
		if !ok {
			l = computed(x.X)
		}
		r, ok := sample(x.Y)
		if !ok {
			r = computed(x.Y)
		}
		return l + r, true
	case *ast.CallExpr:
		if types.ExprString(x.Fun) == "fmt.Sprintf" && len(x.Args) > 0 {
			if f, ok := sample(x.Args[0]); ok {
				return verb.ReplaceAllString(f, "1"), true
			}
		}
	}
	return "", false
}

func computed(e ast.Expr) string {
	if c, ok := e.(*ast.CallExpr); ok && strings.HasPrefix(types.ExprString(c.Fun), "strconv.") {
		return "1"
	}
	return "a, b or c"
}

// Every field message the domain and the API can give is shown in plain
// Traditional Chinese beside the API's English (issue 15).
func TestEveryFieldMessageHasAChineseSentence(t *testing.T) {
	msgs := fieldMessages(t)
	if len(msgs) < 100 {
		t.Fatalf("only %d field messages found in the source: the scan is broken", len(msgs))
	}
	var missing []string
	for m, where := range msgs {
		if fieldSentence(m) == "" {
			missing = append(missing, strconv.Quote(m)+" ("+where+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no Chinese sentence for the field message %s", m)
	}
}

// The sentences carry a message's numbers over, and an unknown message
// gets none (the page then shows the API's alone).
func TestFieldSentence(t *testing.T) {
	for msg, want := range map[string]string{
		"at most 200 characters":                                         "最多 200 個字。",
		"must be an integer from 1 to 500":                               "須為 1 到 500 的整數。",
		"must be one of unknown or known":                                "請從選項中選擇。",
		"must be a dropout episode number 1–1000":                        "須為中輟紀錄編號 1 至 1000。",
		"must be the birth date of a junior-high student (aged 9 to 21)": "出生日期須為國中學生的年齡（9 至 21 歲）。",
		"required":                     "此欄必填。",
		"something the API never says": "",
	} {
		if got := fieldSentence(msg); got != want {
			t.Errorf("fieldSentence(%q) = %q, want %q", msg, got, want)
		}
	}
}

// specFile is the rules page, beside the repository (../shared), or where
// CIHUI_SPEC points.
func specFile() string {
	if p := os.Getenv("CIHUI_SPEC"); p != "" {
		return p
	}
	return "../../../shared/spec/cihui-rules.md"
}

var ruleDef = regexp.MustCompile(`\*\*(R-[A-Z]+-\d+)\*\*`)
var ruleCited = regexp.MustCompile(`"(R-[A-Z]+-\d+)"`)

// Every rule of the rules page, and every rule the API's code cites in a
// problem, has its plain Chinese sentence.
func TestEveryRuleHasAPlainSentence(t *testing.T) {
	ids := map[string]string{}
	if b, err := os.ReadFile(specFile()); err == nil {
		for _, m := range ruleDef.FindAllStringSubmatch(string(b), -1) {
			ids[m[1]] = "the rules page"
		}
		if len(ids) < 40 {
			t.Fatalf("only %d rules read from %s", len(ids), specFile())
		}
	} else {
		t.Logf("the rules page is not at %s (%v): checking the rules the code cites", specFile(), err)
	}
	for _, root := range apiSources {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			for _, m := range ruleCited.FindAllStringSubmatch(string(b), -1) {
				ids[m[1]] = path
			}
			return err
		})
	}
	for id, where := range ids {
		if _, ok := ruleSentences[id]; !ok {
			t.Errorf("rule %s (%s) has no plain sentence", id, where)
		}
	}
	for id := range ruleSentences {
		if _, ok := ids[id]; !ok && len(ids) > 40 {
			t.Errorf("a sentence for %s, which the rules page does not define", id)
		}
	}
}
