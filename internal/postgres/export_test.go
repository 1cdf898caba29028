package postgres

// MaxConns is maxConns, for the tests.
const MaxConns = maxConns
