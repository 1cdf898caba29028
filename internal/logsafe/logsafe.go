// Package logsafe renders errors for logs without the values they may
// carry: a PostgreSQL error message can quote the offending value (a date,
// a name), so only its code, table and constraint are kept.
package logsafe

import (
	"errors"
	"fmt"

	"github.com/lib/pq"
)

// Err returns a log-safe description of err.
func Err(err error) string {
	if err == nil {
		return ""
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return fmt.Sprintf("postgres error %s (%s) table=%q constraint=%q", pqErr.Code, pqErr.Code.Name(), pqErr.Table, pqErr.Constraint)
	}
	return err.Error()
}
