package logsafe_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lib/pq"

	"cihui/internal/logsafe"
)

func TestPostgresValuesAreDropped(t *testing.T) {
	err := fmt.Errorf("applying: %w", &pq.Error{Code: "22007", Message: `invalid input syntax for type date: "2012-99-01"`, Table: "case_personal", Detail: "Key (national_id)=(A123456789)"})
	got := logsafe.Err(err)
	if strings.Contains(got, "2012-99-01") || strings.Contains(got, "A123456789") || !strings.Contains(got, "22007") || !strings.Contains(got, "case_personal") {
		t.Fatalf("Err = %q", got)
	}
	if logsafe.Err(nil) != "" {
		t.Fatal("nil")
	}
}
