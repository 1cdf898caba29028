package pgtest

import (
	"strings"
	"testing"
)

func TestDatabaseName(t *testing.T) {
	for _, tc := range []struct {
		test string
		n    int64
		want string
	}{
		{"TestX", 1, "t1_testx"},
		{"TestA/Sub Test-é/2", 12, "t12_testa_sub_test_2"},
		{"Test/", 3, "t3_test"},
		{strings.Repeat("a", 100), 7, "t7_" + strings.Repeat("a", 60)},
	} {
		if got := databaseName(tc.test, tc.n); got != tc.want {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tc.test, tc.n, got, tc.want)
		}
	}
}
