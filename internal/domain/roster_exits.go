package domain

import (
	"cihui/internal/domain/calendar"
	"cihui/internal/events"
)

// planWithdrawal plans POST …/withdrawal (R-SUS-1 decision on leaving):
// only a place not yet taken up is given up this way. An admitted student
// declines the place (the seat's last day is the day before today, and
// the freed place is offered to the first on the waiting list, R-SOY-5);
// a waiting case leaves the list. An enrolled student leaves only by a
// committee resolution (R-ENR-4, R-SUS-2..4) or by graduating.
func planWithdrawal(r *Referral, roster *Roster, first *Referral, capacity int, reason events.Sealed, today, reportBy calendar.Date) (ReleasePlan, error) {
	switch r.Stage {
	case StageEnrolled:
		return ReleasePlan{}, RuleError("R-SUS-1", "an enrolled student leaves only by a committee resolution (中止就讀 or another exit, R-SUS-1 decision, R-ENR-4) or by graduating on Jul 31; withdrawal is for a place not yet taken up")
	case StageWaitlisted:
		if !roster.isWaiting(r.ID) {
			return ReleasePlan{}, Errorf(EConflict, "the case is not on the waiting list")
		}
		return ReleasePlan{
			Case:   []events.Event{events.PlaceReleased{Reason: reason, EndState: EndingWithdrawn}},
			Roster: []events.Event{events.WaitlistLeft{CaseID: r.ID, Ending: EndingWithdrawn}},
		}, nil
	case StageAdmitted:
	default:
		return ReleasePlan{}, Errorf(EConflict, "the case holds no place (%s)", r.Stage)
	}
	seat, ok := roster.Seats[r.ID]
	if !ok {
		return ReleasePlan{}, Errorf(EConflict, "the roster holds no place for the case")
	}
	work := roster.Clone()
	last := today.AddDays(-1)
	rel, err := work.EndSeat(r.ID, last, EndingDeclined)
	if err != nil {
		return ReleasePlan{}, err
	}
	released := events.PlaceReleased{Reason: reason, EndState: EndingDeclined}
	if !last.Before(seat.From) {
		released.Last = &last
	}
	p := ReleasePlan{Case: []events.Event{released}, Roster: []events.Event{rel}}
	if first != nil && first.ID != r.ID {
		// The freed place goes to the first waiting case if a seat is free
		// on every day of its range (R-CAP-1) and its transfer in is
		// allowed (R-EXCL-4); otherwise it stays free.
		if offer, ok, err := work.TakeSeat(first, today, capacity); err == nil && ok {
			if reportBy.IsZero() {
				return ReleasePlan{}, RuleError("R-SOY-6", "the freed place is offered to the first on the waiting list: give the reporting date (reporting_date), a working day on or after %s", today)
			}
			p.Roster = append(p.Roster, offer)
			p.Offered = first.ID
			p.OfferEvents = []events.Event{admittedEvent(first, first.Admission.MeetingID, reportBy, true)}
		}
	}
	return p, nil
}

func (r *Roster) isWaiting(caseID string) bool {
	for _, w := range r.Waiting {
		if w.CaseID == caseID {
			return true
		}
	}
	return false
}

// transferRefused is the Rejected event of a case the committee admitted
// but whose transfer in would take effect in grade 9's second semester
// without a recorded major reason (R-EXCL-4).
func transferRefused(r *Referral, meetingID string, reason events.Sealed) events.Rejected {
	return events.Rejected{MeetingID: meetingID, Reason: reason, Letter: events.Letter{
		ToSchool: r.OriginSchool, StudentAlias: Alias(r.ID), Subject: "慈輝班轉介就讀複審結果通知",
		Outcome:  "九年級第二學期學生，非有重大事由不得轉入（R-EXCL-4），本案不予錄取",
		NextStep: "如有重大事由，請敘明後重新提出。請原學籍學校通知個案網絡單位（R-SOY-7）。"}}
}

// ValidateMajorReason checks a major reason (R-EXCL-4): free text about
// the student, sealed before it is recorded, required.
func ValidateMajorReason(reason string) error {
	var c Check
	c.Text("reason", reason, MaxNoteLen, false)
	if !c.Has("reason") && isBlank(reason) {
		c.Set("reason", "required: the major reason for the transfer (R-EXCL-4)")
	}
	return c.Err()
}

// RecordMajorReason records a major reason that allows a grade-9 transfer
// in the second semester (R-EXCL-4): by the social worker, or by the
// origin school for its student, while the case is open.
func (r *Referral) RecordMajorReason(a events.Actor, reason events.Sealed) (events.MajorReasonRecorded, error) {
	if a.Role != RoleSocialWorker && a.Role != RoleOriginSchool {
		return events.MajorReasonRecorded{}, Errorf(EForbidden, "a major reason is recorded by the origin school or the branch school")
	}
	switch r.Stage {
	case StageRejected, StageLeft, StageLapsed, StageGraduated:
		return events.MajorReasonRecorded{}, Errorf(EConflict, "the case has ended (%s)", r.Stage)
	}
	return events.MajorReasonRecorded{Reason: reason}, nil
}
