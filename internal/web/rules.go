package web

import (
	"regexp"
	"strings"
)

// ruleSentences are the plain Chinese sentences shown beside a refused
// field, keyed by the rule id the API's problem names
// (../shared/spec/cihui-rules.md). Every rule of the rules page has one
// (TestEveryRuleHasAPlainSentence).
var ruleSentences = map[string]string{
	"R-ELIG-1": "學生須符合至少一項轉介條件；因家庭危機中輟者須有中輟紀錄。",
	"R-ELIG-2": "家庭危機或功能失調須為脆弱家庭、雙親歿依親或單親家庭之一。",
	"R-ELIG-3": "須有監護人同意書，且學生願意接受輔導。",
	"R-ELIG-4": "文件不全的申請，無特殊原因不予受理。",
	"R-EXCL-1": "曾受保護管束或感化教育處分之重大刑案學生，不予收容。",
	"R-EXCL-2": "應安置於特殊教育班的身心障礙學生，不予收容。",
	"R-EXCL-3": "不符收容對象（經委員會認定）。",
	"R-EXCL-4": "國九下學期轉入須有重大原因。",
	"R-CAP-1":  "同一學生同時只能有一件進行中的轉介，全校同時在學以 135 人為限。",
	"R-CAP-2":  "班級人數與班數須符合編班規定。",
	"R-SOY-1":  "期初申請由原就讀國中提出；國小應屆畢業生由國小提出，並註明將就讀的國中與年級。",
	"R-SOY-2":  "不在期初申請期間內。",
	"R-SOY-3":  "初審由分校行政團隊審查文件、家訪及面談，並函知申請學校。",
	"R-SOY-4":  "列入待討論或未通過的個案，相關人員得提出資料並列席說明。",
	"R-SOY-5":  "依申請時間先後錄取，額滿者列入候補。",
	"R-SOY-6":  "報到日須由分校指定，且為上班日。",
	"R-SOY-7":  "原就讀學校須將結果通知網絡單位；錄取名冊須報教育局備查。",
	"R-MID-1":  "不在期中申請期間內。",
	"R-MID-2":  "已有專業評估者，由原就讀學校檢附評估報告送教育局。",
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
	"R-ENR-3":  "就讀費用全額補助。",
	"R-ENR-4":  "就讀輔導會議只能建議中止就讀；中止就讀須經委員會決議。",
	"R-SUS-1":  "中止就讀須有法定事由。",
	"R-SUS-2":  "中止就讀前須家訪、訪視原校並寄送評估報告。",
	"R-SUS-3":  "中止就讀個案須提複審會議審議。",
	"R-SUS-4":  "中止就讀須指定去向：返回原校，或轉介社福、司法單位。",
	"R-ORG-1":  "原就讀學校須確保所送資料正確。",
	"R-ORG-2":  "原就讀學校須派員陪同學生報到（國小應屆畢業生得由家長陪同）。",
	"R-ORG-3":  "原就讀學校須配合註冊、成績、紀錄及輔導交接。",
	"R-ORG-4":  "中輟紀錄須在學生就讀期間、日期依序且不晚於今天；同時只能有一筆未結案的中輟。",
	"R-ORG-5":  "原就讀學校須每月到分校協同輔導。",
	"R-ORG-6":  "中止就讀後，原就讀學校須協助學生離校返回原校。",
	"R-STAT-1": "統計比率依規定公式計算，分母為 0 時無從計算。",
	"R-STAT-2": "統計類別須為規定的選項。",
	"R-AWD-1":  "評分表每項評分須為 1 到 5。",
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

// fieldRule puts one of the API's field messages in plain Chinese. The
// API's problem details carry an English message per field and no code,
// so the messages are matched whole (a number in them is carried over as
// $1, $2). TestEveryFieldMessageHasAChineseSentence reads every message
// the domain and the API can give from their source and checks it has
// one here.
type fieldRule struct {
	re *regexp.Regexp
	zh string
}

func fr(pattern, zh string) fieldRule { return fieldRule{regexp.MustCompile(pattern), zh} }

var fieldRules = []fieldRule{
	// Any field.
	fr(`^(is )?required$`, "此欄必填。"),
	fr(`^required: a date YYYY-MM-DD$`, "此欄必填，請填寫日期。"),
	fr(`^must be a date YYYY-MM-DD$`, "請填寫正確的日期（年-月-日）。"),
	fr(`^cannot be in the future$`, "日期不可晚於今天。"),
	fr(`^cannot be in the future nor more than a year ago$`, "日期不可晚於今天，也不可早於一年前。"),
	fr(`^must be within a year of today$`, "日期須在今天前後一年內。"),
	fr(`^must be a date within the last (\d+) days, not in the future$`, "日期須在最近 $1 天內，且不可晚於今天。"),
	fr(`^must be a date within the last (\d+) years$`, "日期須在最近 $1 年內。"),
	fr(`^must be in the future$`, "須為未來的時間。"),
	fr(`^at most (\d+) characters$`, "最多 $1 個字。"),
	fr(`^at most (\d+) (entries|items)$`, "最多 $1 項。"),
	fr(`^at most (\d+) bytes$`, "內容太長（最多 $1 位元組）。"),
	fr(`^at most (\d+) cases$`, "最多 $1 件個案。"),
	fr(`^at most (\d+) academic years$`, "最多 $1 個學年度。"),
	fr(`^must be valid UTF-8 text$`, "文字編碼不正確（須為 UTF-8）。"),
	fr(`^must be UTF-8 text without NUL$`, "文字編碼不正確（須為 UTF-8，且不可包含空字元）。"),
	fr(`^(must not contain NUL or control characters|must be text without control characters)$`, "不可包含控制字元。"),
	fr(`^must be a single line without tabs or control characters$`, "須為單行文字，不可包含定位或控制字元。"),
	fr(`^must be an integer from (-?\d+) to (-?\d+)$`, "須為 $1 到 $2 的整數。"),
	fr(`^must be a non-negative integer$`, "須為 0 或正整數。"),
	fr(`^must be a positive integer$`, "須為正整數。"),
	fr(`^must be one of .+`, "請從選項中選擇。"),
	fr(`^each must be one of .+`, "每一項都須從選項中選擇。"),
	fr(`^must be true or false$`, "請選擇是或否。"),
	fr(`^must be of type .+`, "資料格式不正確。"),
	fr(`^unknown field$`, "不認得的欄位。"),
	fr(`^too many$`, "項目太多。"),
	fr(`^listed twice$`, "重複列出。"),
	fr(`^must be a code of 1 to 32 letters, digits, '_' or '-'$`, "代碼須為 1 到 32 個英文字母、數字、底線或連字號。"),
	fr(`^must be an id of \[A-Za-z0-9_-\]`, "代碼格式不正確。"),
	fr(`^invalid cursor`, "分頁位置無效，請從第一頁重新查詢。"),
	fr(`^(the body could not be read as the expected JSON object|the body is not valid JSON|the body must be UTF-8 JSON|the body must hold exactly one JSON object|a JSON body is required)$`, "送出的資料格式不正確。"),
	// The student and the referral.
	fr(`^not a valid national ID or resident certificate number$`, "身分證統一編號或居留證號碼不正確（請檢查檢查碼）。"),
	fr(`^must be M or F$`, "請選擇性別。"),
	fr(`^must be 7, 8 or 9`, "年級須為 7、8 或 9 年級。"),
	fr(`^must be the birth date of a junior-high student \(aged (\d+) to (\d+)\)$`, "出生日期須為國中學生的年齡（$1 至 $2 歲）。"),
	fr(`^must be start_of_year or mid_year$`, "請選擇期初或期中轉介。"),
	fr(`^must be assessed or direct$`, "期中轉介方式須為已評估或直接轉介。"),
	fr(`^only a mid_year referral has a channel$`, "只有期中轉介要填轉介方式。"),
	fr(`^a graduating grade-6 pupil is referred on the start_of_year route`, "國小應屆畢業生須以期初方式轉介（R-SOY-1）。"),
	fr(`^required for a graduating grade-6 pupil: the junior high the pupil will attend`, "國小應屆畢業生須填寫將就讀的國中（R-SOY-1）。"),
	fr(`^required: the reason for the referral`, "必填：轉介原因。"),
	fr(`^must be a 6-digit Ministry of Education school code`, "須為教育部 6 位數學校代碼，例如 034501。"),
	fr(`^no such branch school is configured$`, "沒有這所分校。"),
	fr(`^"unknown" stands alone$`, "「不明」不可與其他選項同時勾選。"),
	fr(`^give family_background or identity to correct$`, "請填寫要更正的家庭背景或身分。"),
	fr(`^must be a referral id`, "個案編號格式不正確。"),
	fr(`^required: a referral id`, "必填：個案編號。"),
	fr(`^must be a meeting id`, "會議編號格式不正確。"),
	fr(`^must be a score sheet id`, "評分表編號格式不正確。"),
	fr(`^must be a token id$`, "憑證編號格式不正確。"),
	fr(`^must be a version such as`, "版本號碼格式不正確。"),
	// Years, semesters, windows and calendars.
	fr(`^must be an ROC academic year`, "須為民國學年度，例如 114。"),
	fr(`^required: (an|the) ROC academic year`, "必填：民國學年度，例如 114。"),
	fr(`^keys must be ROC academic years`, "須以民國學年度標示。"),
	fr(`^must be an AD year such as`, "須為西元年，例如 2026。"),
	fr("^must be from `from` to `from`\\+29$", "結束學年度不可早於起始學年度，且最多相隔 29 年。"),
	fr(`^must fall within a year of the academic year$`, "日期須在該學年度前後一年內。"),
	fr(`^year offsets must be -1, 0 or 1$`, "年度差須為 -1、0 或 1。"),
	fr(`^must be a month from 1 to 12$`, "月份須為 1 到 12。"),
	fr(`^must be a month from 1 to 7`, "期初會議須在學年度開始（8 月 1 日）前的 1 到 7 月召開。"),
	fr(`^must be a month-day that exists every year$`, "須為每年都有的日期（不可為 2 月 29 日）。"),
	fr(`^must be <ROC year>-<1\|2>`, "學期須寫成「民國年-1」或「民國年-2」，例如 115-1。"),
	fr(`^kinds are start_of_year, march, october and december$`, "會議類別須為期初、三月、十月或十二月。"),
	fr(`^opens and closes are required$`, "須填寫申請期間的開始與結束日。"),
	fr(`^the window must not close before it opens$`, "申請期間的結束日不可早於開始日。"),
	fr(`^the file is the calendar of another year$`, "檔案是其他年度的行事曆。"),
	fr(`^required, e\.g\. 颱風停班停課$`, "必填：停班原因，例如颱風停班停課。"),
	fr(`^must be the code in the path$`, "須與網址中的代碼相同。"),
	// Documents, visits and reviews.
	fr(`^(each )?must be a checklist item 1–12`, "須為檢核表第 1 至 12 項（R-DOC-1）。"),
	fr(`^items are checked by the branch school$`, "文件由分校社工檢核。"),
	fr(`^items are submitted by the origin school$`, "文件由原就讀學校繳交。"),
	fr(`^only for item (\d+)$`, "僅適用於第 $1 項。"),
	fr(`^required for the household registration transcript`, "戶籍謄本須填核發日期（一個月內核發，R-DOC-1）。"),
	fr(`^required when submitting an item$`, "繳交文件時必填。"),
	fr(`^required: true \(符合\) or false \(不符合\)$`, "必填：符合或不符合。"),
	fr(`^name the checklist items still owed$`, "請列出尚未繳交的文件項目。"),
	fr(`^required: the special reason`, "必填：受理文件不全申請的特殊原因。"),
	fr(`^dates cannot be in the future nor more than (\d+) years old, and cure follows the examination$`, "日期不可晚於今天，也不可早於 $1 年前；治癒日期須在檢查之後。"),
	fr(`^must be contact, visit, interview or report$`, "紀錄類別須為聯繫、家訪、面談或評估報告。"),
	fr(`^required for discuss and not_eligible$`, "列入待討論或不符資格時須說明理由。"),
	fr(`^cannot be before the application was received$`, "不可早於收件日期。"),
	// Meetings and resolutions.
	fr(`^required for reject$`, "不予錄取時必填。"),
	fr(`^only a reject cites a finding`, "只有不予錄取的決議可引用委員會認定（R-EXCL-3）。"),
	fr(`^must be R-EXCL-3 or absent$`, "只能引用 R-EXCL-3，或不填。"),
	fr(`^only a suspend resolution has a destination$`, "只有中止就讀的決議要填去向。"),
	fr(`^name who attends, or the documents submitted$`, "請填寫列席人員或所提資料。"),
	fr(`^required when the bureau files$`, "由教育局提出時必填。"),
	fr(`^the former name of reporting_date: give one of them$`, "與報到日重複，只填其中一個。"),
	fr(`^required, e\.g\. declined_place or left$`, "必填：原因，例如放棄名額或離開。"),
	// Enrolment and classes.
	fr(`^must be a class (of grade \d+ )?such as`, "班級須寫成年級-班，例如 8-1（R-CAP-2）。"),
	fr(`^must be a class of grade (\d+) within the branch's norms`, "須為 $1 年級在編班規定內的班級（R-CAP-2）。"),
	fr(`^cannot be before the enrolment$`, "不可早於入學日期。"),
	fr(`^not in the year's proposal$`, "不在本學年度的編班提案中。"),
	fr(`^must not exceed max_classes_per_grade$`, "不可超過每個年級的最多班數。"),
	fr(`^must not exceed max_per_class$`, "不可超過每班最多人數。"),
	// 中止就讀.
	fr(`^at least one ground of R-SUS-1`, "至少須有一項中止就讀事由（R-SUS-1 第 1 至 6 款）。"),
	fr(`^at most the six grounds of R-SUS-1$`, "最多六項事由。"),
	fr(`^each ground is a number of R-SUS-1 from 1 to 6$`, "每項事由須為 R-SUS-1 第 1 至 6 款。"),
	fr(`^each ground once$`, "每項事由只列一次。"),
	fr(`^must be 1, 2, 3 or 6`, "須為第 1、2、3 或 6 款（第 4、5 款由中輟紀錄判定）。"),
	fr(`^only a propose_end outcome opens the procedure with grounds$`, "只有建議中止就讀時要附事由。"),
	fr(`^cannot be before the procedure opened`, "不可早於中止就讀程序開始的日期。"),
	fr(`^cannot be before the visits$`, "不可早於家訪及原校訪視。"),
	fr(`^required: the evidence of the ground`, "必填：事由的佐證。"),
	fr(`^required: the major reason for the transfer`, "必填：轉學的重大原因（R-EXCL-4）。"),
	// Dropouts and duties.
	fr(`^must be a dropout episode number 1–(\d+)$`, "須為中輟紀錄編號 1 至 $1。"),
	fr(`^name the records sent: `, "請填寫寄送的紀錄種類。"),
	fr(`^name the cases the visit covered$`, "請填寫這次訪視的個案。"),
	// The award.
	fr(`^must be a rating from 1 to 5`, "評分須為 1 到 5。"),
	fr(`^unknown criterion: use `, "不認得的評分項目。"),
	fr(`^a correction keeps the sheet's academic year: leave it out$`, "更正評分表時不填學年度（沿用原學年度）。"),
	// People and sign-in.
	fr(`^must be daily, weekly or off$`, "須為每日、每週或關閉。"),
	fr(`^an origin_school token needs a school code$`, "原就讀學校的憑證須有學校代碼。"),
	fr(`^unknown role$`, "不認得的角色。"),
	fr(`^the person does not hold this role in this school or branch$`, "此人在這所學校或分校沒有這個角色。"),
	fr(`^e-mail address and password are required$`, "請填寫電子郵件與密碼。"),
	fr(`^is required to change a password$`, "變更密碼時必填。"),
	fr(`^is not the current password$`, "目前的密碼不正確。"),
	fr(`^is not the current code of the authenticator$`, "驗證器的代碼不正確。"),
	fr(`^must be at least (\d+) characters$`, "至少 $1 個字元。"),
	fr(`^must be at most (\d+) characters$`, "最多 $1 個字元。"),
	fr(`^is too common or too easy to guess; choose another$`, "密碼太常見或太容易猜到，請換一個。"),
	// Last: a closed list of codes, such as "must be a, b or c".
	fr(`^must be \w+(, \w+)*( or \w+)?$`, "請從選項中選擇。"),
}

// fieldSentence returns the plain Chinese sentence of an API field
// message, or "" for a message it does not know (the page then shows the
// API's message alone).
func fieldSentence(msg string) string {
	for _, f := range fieldRules {
		if m := f.re.FindStringSubmatchIndex(msg); m != nil {
			return string(f.re.ExpandString(nil, f.zh, msg, m))
		}
	}
	return ""
}
