// Package migrations embeds the versioned SQL migrations of the read
// models and the API's own tables. Each file holds its Up and Down parts
// (goose annotations); they are applied at start-up and by `migrate`.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
