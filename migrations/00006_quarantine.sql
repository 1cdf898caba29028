-- +goose Up
-- Poison events (issue 7): an event the read models cannot apply is
-- quarantined, and the later events of its stream are held back, so that
-- every other case goes on. Neither table holds a value of the event or
-- the text of an error (it may quote personal data): only where the event
-- is, what it is, and the error's code.
CREATE TABLE projection_quarantine (
    position       bigint PRIMARY KEY,
    stream         text NOT NULL, -- the event's stream: cihui.<branch>.<type>[.<id>]
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    event_type     text NOT NULL,
    error_code     text NOT NULL, -- a PostgreSQL SQLSTATE or a fixed class (panic, decode, apply)
    attempts       int  NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    retried_at     timestamptz
);
-- At most one quarantined event per stream: the ones after it are held.
CREATE UNIQUE INDEX projection_quarantine_stream_idx ON projection_quarantine (stream);

CREATE TABLE projection_held (
    position       bigint PRIMARY KEY,
    stream         text NOT NULL,
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    event_type     text NOT NULL,
    held_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projection_held_stream_idx ON projection_held (stream, position);

-- The case whose own events are quarantined or held is stale.
ALTER TABLE cases ADD COLUMN projection_error boolean NOT NULL DEFAULT false;

-- Every number an event carries is a Go int (64 bits): the read model
-- holds all of them, so a quarantine stays the exception. Text columns
-- are unbounded text already.
ALTER TABLE cases
    ALTER COLUMN academic_year    TYPE bigint,
    ALTER COLUMN grade            TYPE bigint,
    ALTER COLUMN visit_contacts   TYPE bigint,
    ALTER COLUMN returned_missing TYPE bigint[];
ALTER TABLE case_documents
    ALTER COLUMN item  TYPE bigint,
    ALTER COLUMN pages TYPE bigint;
ALTER TABLE meetings
    ALTER COLUMN academic_year TYPE bigint;

-- +goose Down
ALTER TABLE meetings ALTER COLUMN academic_year TYPE int;
ALTER TABLE case_documents ALTER COLUMN item TYPE int, ALTER COLUMN pages TYPE int;
ALTER TABLE cases
    ALTER COLUMN academic_year TYPE int, ALTER COLUMN grade TYPE int,
    ALTER COLUMN visit_contacts TYPE int, ALTER COLUMN returned_missing TYPE int[];
ALTER TABLE cases DROP COLUMN projection_error;
DROP TABLE projection_held;
DROP TABLE projection_quarantine;
