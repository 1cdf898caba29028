package web

import "strings"

// ruleSentences are the plain Chinese sentences shown beside a refused
// field, keyed by the rule id the API's problem names
// (../shared/spec/cihui-rules.md).
var ruleSentences = map[string]string{
	"R-ELIG-1": "學生須符合至少一項轉介條件；因家庭危機中輟者須有中輟紀錄。",
	"R-ELIG-2": "家庭危機或功能失調須為脆弱家庭、雙親歿依親或單親家庭之一。",
	"R-ELIG-3": "須有監護人同意書，且學生願意接受輔導。",
	"R-ELIG-4": "文件不全的申請，無特殊原因不予受理。",
	"R-EXCL-3": "不符收容對象（經委員會認定）。",
	"R-EXCL-4": "國九下學期轉入須有重大原因。",
	"R-CAP-1":  "同一學生同時只能有一件進行中的轉介，全校同時在學以 135 人為限。",
	"R-CAP-2":  "班級人數與班數須符合編班規定。",
	"R-SOY-2":  "不在期初申請期間內。",
	"R-SOY-5":  "依申請時間先後錄取，額滿者列入候補。",
	"R-SOY-6":  "報到日須由分校指定，且為上班日。",
	"R-MID-1":  "不在期中申請期間內。",
	"R-MID-3":  "資料不全者退件；補件須在申請期間內。",
	"R-MID-4":  "家訪及評估報告須於收件後 10 個工作天內完成。",
	"R-MID-5":  "初審後須函知申請學校。",
	"R-MTG-1":  "每學年召開四次複審會議。",
	"R-MTG-2":  "議程須列入建議、待討論及未通過的個案。",
	"R-MTG-3":  "每一個案只作一項決議。",
	"R-DOC-1":  "檢核表文件須齊全並逐項檢核。",
	"R-DOC-2":  "輔導紀錄屬敏感資料，僅限必要角色閱覽。",
	"R-ENR-1":  "報到時須附最近兩個月內的健康檢查報告。",
	"R-ENR-2":  "學生每學期須於原校註冊。",
	"R-SUS-1":  "中止就讀須有法定事由。",
	"R-STAT-2": "統計類別須為規定的選項。",
}

// RuleSentence returns the plain sentence of a rule id (the first id of a
// list such as "R-MID-1, R-SOY-2").
func RuleSentence(rule string) string {
	first, _, _ := strings.Cut(rule, ",")
	first = strings.TrimSpace(first)
	if s, ok := ruleSentences[first]; ok {
		return s
	}
	if first == "" {
		return ""
	}
	return "此操作不符合規定。"
}
