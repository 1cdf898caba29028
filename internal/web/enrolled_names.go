package web

import (
	"html/template"
	"strconv"

	"cihui/internal/domain"
	"cihui/internal/httpapi"
)

// Names in Traditional Chinese of the enrolled life's codes: dropout
// reasons and whereabouts (R-ORG-4, R-STAT-2), the suspension grounds
// (R-SUS-1), the procedure's steps (R-SUS-2), the duties' periods.

var whereaboutsNames = map[string]string{domain.WhereaboutsUnknown: "行蹤不明", domain.WhereaboutsKnown: "非行蹤不明"}

func whereaboutsName(s string) string { return nameOr(whereaboutsNames, s) }

func dropoutReasonName(s string) string { return nameOr(domain.DropoutReasonLabels, s) }

var followUpNames = map[string]string{"follow_up": "追蹤", "search": "協尋", "counselling": "輔導"}

func followUpName(s string) string { return nameOr(followUpNames, s) }

var dropoutOutcomeNames = map[string]string{"returned": "復學", "left": "離校", "other": "其他"}

func dropoutOutcomeName(s string) string { return nameOr(dropoutOutcomeNames, s) }

// susGroundName is "(4) 中輟三週以上仍未尋獲": the number of R-SUS-1 and its words.
// n is an int, or an int64 of a procedure's grounds.
func susGroundName(n any) string {
	var g int
	switch v := n.(type) {
	case int:
		g = v
	case int64:
		g = int(v)
	}
	return "(" + strconv.Itoa(g) + ") " + domain.SuspensionGroundLabels[g]
}

var groundSourceNames = map[string]string{"detected": "依中輟日期偵測", "recorded": "已登錄佐證"}

func groundSourceName(s string) string { return nameOr(groundSourceNames, s) }

var suspensionStatusNames = map[string]string{"open": "進行中", "reported": "已送評估報告，待複審會議", "suspended": "已中止就讀", "continued": "決議繼續就讀"}

func suspensionStatusName(s string) string { return nameOr(suspensionStatusNames, s) }

var suspensionStepNames = map[string]string{"opened": "開始程序", "home": "家庭訪視", "origin_school": "原學籍學校訪視", "report": "評估報告"}

func suspensionStepName(s string) string { return nameOr(suspensionStepNames, s) }

var adaptationOutcomeNames = map[string]string{domain.AdaptationContinue: "繼續就讀", domain.AdaptationProposeEnd: "建議中止就讀"}

func adaptationOutcomeName(s string) string { return nameOr(adaptationOutcomeNames, s) }

var destinationNames = map[string]string{"origin_school": "返回原學籍學校", "social_welfare": "轉介社政單位", "judicial": "轉介司法單位"}

func destinationName(s string) string { return nameOr(destinationNames, s) }

var recordKindNames = map[string]string{"grades": "成績", "rewards_penalties": "獎懲", "attendance": "出缺勤", "learning": "學習紀錄"}

func recordKindName(s string) string { return nameOr(recordKindNames, s) }

var resultNames = map[string]string{domain.ResultAdmitted: "錄取", domain.ResultWaitlisted: "候補", domain.ResultRejected: "未錄取", domain.ResultSuspended: "中止就讀"}

func resultName(s string) string { return nameOr(resultNames, s) }

var partyNames = map[string]string{domain.PartyBranch: "分校", domain.PartyOriginSchool: "原就讀學校"}

func partyName(s string) string { return nameOr(partyNames, s) }

// subReason is one choice of a reason's closed list of sub-reasons.
type subReason struct{ Reason, Code, Label string }

// reasonChoice is a reason with its sub-reasons, for a select's optgroup.
type reasonChoice struct {
	Code, Label string
	Subs        []subReason
}

// reasonChoices are the closed lists of internal/domain/dropout.go.
func reasonChoices() []reasonChoice {
	out := make([]reasonChoice, 0, len(domain.DropoutReasons))
	for _, r := range domain.DropoutReasons {
		c := reasonChoice{Code: r, Label: domain.DropoutReasonLabels[r]}
		for _, s := range domain.DropoutSubReasons[r] {
			c.Subs = append(c.Subs, subReason{Reason: r, Code: s.Code, Label: s.Label})
		}
		out = append(out, c)
	}
	return out
}

// enrolledFuncs are the template functions of the enrolled-life pages,
// added to the pages' FuncMap (web.go).
var enrolledFuncs = template.FuncMap{
	"whereabouts":  whereaboutsName,
	"dreason":      dropoutReasonName,
	"followup":     followUpName,
	"doutcome":     dropoutOutcomeName,
	"susground":    susGroundName,
	"gsource":      groundSourceName,
	"susstatus":    suspensionStatusName,
	"susstep":      suspensionStepName,
	"adaptation":   adaptationOutcomeName,
	"destination":  destinationName,
	"recordkind":   recordKindName,
	"result":       resultName,
	"party":        partyName,
	"reasons":      reasonChoices,
	"recordKinds":  func() []string { return domain.RecordKinds },
	"results":      func() []string { return domain.Results },
	"allGrounds":   func() []int { return []int{1, 2, 3, 4, 5, 6} },
	"recordable":   func() []int { return domain.RecordableGrounds },
	"newkey":       newKey,
	"dutyLink":     dutyLink,
	"dperiod":      dutyPeriod,
	"hasInt":       func(xs []int64, n int) bool { return containsInt(xs, n) },
	"pick":         func(form map[string]string, name, def string) string { return pickValue(form, name, def) },
	"enrolledView": func(stage string) bool { return stage == "enrolled" || stage == string(domain.StageSuspended) },
	"decided":      decidedStage,
	"args":         args,
	"problemOf":    formProblem,
	"ferrOf":       ferrOf,
	"val":          val,
}

func init() {
	// The stage a committee's suspend resolution gives (R-SUS-4).
	stageNames[string(domain.StageSuspended)] = "已中止就讀"
	// The plain sentences of the enrolled life's rules (rules.go keeps
	// the others; one written there wins).
	for id, s := range enrolledRuleSentences {
		if _, ok := ruleSentences[id]; !ok {
			ruleSentences[id] = s
		}
	}
}

// enrolledRuleSentences put the enrolled life's rules of
// ../shared/spec/cihui-rules.md in plain Chinese.
var enrolledRuleSentences = map[string]string{
	"R-ENR-4": "就讀輔導會議評估學生適應；建議中止就讀者須開始中止就讀程序，由複審會議決定。",
	"R-SUS-2": "中止就讀前，分校須先完成家庭訪視及原學籍學校訪視，再將評估報告送原學籍學校。",
	"R-SUS-3": "中止就讀案須提複審會議審議，利害關係人得提出資料並列席。",
	"R-SUS-4": "中止就讀者返回原學籍學校或轉介社政、司法單位，原學籍學校須通知網絡單位。",
	"R-ORG-2": "原學籍學校須派員陪同學生報到（國小應屆畢業生得由家長陪同）。",
	"R-ORG-4": "在學學生中輟時，分校通知原學籍學校辦理通報，雙方追蹤、協尋、輔導至結案為止；日期須依序且不得晚於今天。",
	"R-ORG-5": "原學籍學校每月須到分校協同輔導學生。",
	"R-ORG-6": "中止就讀後，原學籍學校須協助學生離校返回原校。",
}

// decidedStage: the committee has decided the case (the origin school's
// duties of a result, R-SOY-7, R-ORG-2) or the student is or was enrolled.
func decidedStage(stage string) bool {
	switch stage {
	case "admitted", "waitlisted", "rejected", "enrolled", "left", "graduated", string(domain.StageSuspended):
		return true
	}
	return false
}

// args makes a template's argument of key/value pairs.
func args(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			m[k] = kv[i+1]
		}
	}
	return m
}

// formProblem is the page's problem when it answers the form named form
// (several forms share a page; the refusal is shown beside its own).
func formProblem(p page, form string) *httpapi.Problem {
	if p.Form["form"] != form {
		return nil
	}
	return p.Problem
}

// ferrOf is the API's message for a field of the form named form.
func ferrOf(p page, form, field string) string {
	if p.Form["form"] != form {
		return ""
	}
	return p.Errors[field]
}

// val is the value submitted in the form named form, else def.
func val(p page, form, field, def string) string {
	if p.Form["form"] != form {
		return def
	}
	return p.Form[field]
}

func containsInt(xs []int64, n int) bool {
	for _, x := range xs {
		if int(x) == n {
			return true
		}
	}
	return false
}

func pickValue(form map[string]string, name, def string) string {
	if v, ok := form[name]; ok {
		return v
	}
	return def
}
