package web

// Names in Traditional Chinese of the API's codes.

var stageNames = map[string]string{
	"intake": "收件審查中", "returned": "退件待補", "recommended": "初審建議就讀", "to_discuss": "初審待討論",
	"not_eligible": "初審未通過", "admitted": "已錄取", "waitlisted": "候補中", "rejected": "未錄取",
	"enrolled": "就讀中", "left": "已離開", "lapsed": "逾期失效", "graduated": "已畢業",
}

func stageName(s string) string { return nameOr(stageNames, s) }

var groundNames = map[string]string{
	"crisis_dropout": "家庭危機致中輟", "family_dysfunction": "家庭功能失調", "low_income_risk": "低收或中低收入戶且有中輟之虞",
}

func groundName(s string) string { return nameOr(groundNames, s) }

var outcomeNames = map[string]string{"recommend": "建議就讀", "discuss": "列入待討論", "not_eligible": "不符資格"}

func outcomeName(s string) string { return nameOr(outcomeNames, s) }

var visitKindNames = map[string]string{"contact": "聯繫", "visit": "家訪", "interview": "面談", "report": "評估報告完成"}

func visitKindName(s string) string { return nameOr(visitKindNames, s) }

var listNames = map[string]string{"recommended": "建議就讀", "to_discuss": "待討論", "appealed": "未通過（申請列席）", "not_passed": "未通過"}

func listName(s string) string { return nameOr(listNames, s) }

var resolutionNames = map[string]string{"admit": "錄取", "waitlist": "候補", "reject": "不予錄取"}

func resolutionName(s string) string { return nameOr(resolutionNames, s) }

func nameOr(m map[string]string, s string) string {
	if n, ok := m[s]; ok {
		return n
	}
	return s
}

var dutyNames = map[string]string{
	"home_visit": "家訪與評估報告", "registration": "每學期註冊", "records_sent": "寄送學期紀錄", "network_notice": "通知網絡單位",
	"dropout_report": "中輟通報", "accompaniment": "陪同報到", "co_counselling": "每月協同輔導", "admitted_list_filing": "錄取名冊報局備查",
	"leave_assistance": "協助離校",
}

func dutyName(s string) string { return nameOr(dutyNames, s) }

var meetingStatusNames = map[string]string{"scheduled": "已排定", "open": "開會中", "closed": "已結束"}

func meetingStatus(s string) string { return nameOr(meetingStatusNames, s) }
