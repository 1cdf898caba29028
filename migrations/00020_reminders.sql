-- +goose Up
-- The reminder digests (issue 14): one row per person and period — the
-- day for a daily digest, the week's Monday for a weekly one — claimed
-- before the mail is sent, so that no digest goes out twice for the same
-- period. Failed sends are retried with backoff and shown to admins; the
-- error is a class (never an address or a name).
CREATE TABLE reminder_sends (
    person_id       text NOT NULL REFERENCES people (id),
    period          date NOT NULL,
    frequency       text NOT NULL CHECK (frequency IN ('daily','weekly')),
    status          text NOT NULL CHECK (status IN ('sending','sent','failed','gave_up','nothing_due')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    next_attempt_at timestamptz,
    due_count       integer NOT NULL DEFAULT 0,
    overdue_count   integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (person_id, period)
);
CREATE INDEX reminder_sends_failed ON reminder_sends (status) WHERE status IN ('failed','gave_up');

-- +goose Down
DROP TABLE reminder_sends;
