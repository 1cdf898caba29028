package domain

import (
	"strings"
	"testing"
)

func ratingsOf(rs ...int) map[string]int {
	out := map[string]int{}
	for i, c := range AwardCriteria {
		out[c.Code] = rs[i]
	}
	return out
}

// R-AWD-1 Decision: a rating r of a criterion of weight w gives w·r/5
// points; five 5s make 100 (and seven 1s 20).
func TestR_AWD_1_TotalIsWeightTimesRatingOverFive(t *testing.T) {
	sum := 0
	for _, c := range AwardCriteria {
		sum += c.Weight
	}
	if sum != 100 || len(AwardCriteria) != 7 {
		t.Fatalf("weights sum to %d over %d criteria", sum, len(AwardCriteria))
	}
	for _, tc := range []struct {
		ratings []int
		want    int
	}{
		{[]int{5, 5, 5, 5, 5, 5, 5}, 100},
		{[]int{1, 1, 1, 1, 1, 1, 1}, 20},
		{[]int{4, 5, 3, 4, 5, 2, 1}, 8 + 20 + 6 + 16 + 20 + 6 + 1},
		{[]int{3, 3, 3, 3, 3, 3, 3}, 60},
	} {
		scores, total := AwardScore(ratingsOf(tc.ratings...))
		if total != tc.want {
			t.Errorf("%v: total %d, want %d", tc.ratings, total, tc.want)
		}
		for i, s := range scores {
			if s.Points*5 != AwardCriteria[i].Weight*tc.ratings[i] {
				t.Errorf("%v: %s gives %d points", tc.ratings, s.Criterion, s.Points)
			}
		}
	}
}

func TestR_AWD_1_ScoreSheetValidation(t *testing.T) {
	ok := ratingsOf(5, 4, 3, 2, 1, 5, 4)
	if err := ValidateScoreSheet(ok, "評審委員", "意見\n第二行"); err != nil {
		t.Fatal(err)
	}
	bad := func(r map[string]int, reviewer, comments, field string) {
		t.Helper()
		err := ValidateScoreSheet(r, reviewer, comments)
		e, isErr := err.(*Error)
		if !isErr || e.Code != EInvalid || e.Fields[field] == "" {
			t.Errorf("want %s refused: %v", field, err)
		}
	}
	bad(ratingsOf(6, 4, 3, 2, 1, 5, 4), "x", "", "ratings.organisation")
	bad(ratingsOf(5, 4, 3, 2, 1, 5, 0), "x", "", "ratings.other")
	missing := ratingsOf(5, 4, 3, 2, 1, 5, 4)
	delete(missing, CriterionSearch)
	bad(missing, "x", "", "ratings.search")
	extra := ratingsOf(5, 4, 3, 2, 1, 5, 4)
	extra["bonus"] = 5
	bad(extra, "x", "", "ratings")
	bad(ok, "", "", "reviewer")
	bad(ok, strings.Repeat("名", MaxReviewerName+1), "", "reviewer")
	bad(ok, "a\tb", "", "reviewer")
	bad(ok, "x", strings.Repeat("字", MaxComments+1), "comments")
	bad(ok, "x", "\xff", "comments")
	if !IsScoreSheetID("s"+strings.Repeat("a", 24)) || IsScoreSheetID("r"+strings.Repeat("a", 24)) || IsScoreSheetID("s1") {
		t.Error("score sheet ids")
	}
}
