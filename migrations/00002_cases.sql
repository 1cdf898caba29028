-- +goose Up
-- Read model: one row per referral case.
CREATE TABLE cases (
    id             text PRIMARY KEY,
    branch         text NOT NULL,
    origin_school  text NOT NULL,
    academic_year  int  NOT NULL,
    route          text NOT NULL,
    channel        text NOT NULL DEFAULT '',
    grade          int  NOT NULL,
    sex            text NOT NULL,
    grounds        text[] NOT NULL DEFAULT '{}',
    stage          text NOT NULL,
    received_on    date NOT NULL,
    person_key     text NOT NULL,
    version        bigint NOT NULL,
    position       bigint NOT NULL,
    opened_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX cases_school_idx ON cases (origin_school, received_on, id);
CREATE INDEX cases_branch_idx ON cases (branch, received_on, id);

-- Personal data, opened from the sealed events. Gone when the person's
-- data key is destroyed; a rebuild cannot bring it back.
CREATE TABLE case_personal (
    case_id           text PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    student_name      text NOT NULL,
    national_id       text NOT NULL,
    birth_date        date,
    guardian_name     text NOT NULL,
    guardian_relation text NOT NULL,
    reason            text NOT NULL
);

-- Checklist items (R-DOC-1).
CREATE TABLE case_documents (
    case_id    text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    item       int  NOT NULL CHECK (item BETWEEN 1 AND 12),
    submitted  boolean NOT NULL DEFAULT false,
    pages      int,
    issued_on  date,
    checked    boolean NOT NULL DEFAULT false,
    conforms   boolean,
    note       text,
    PRIMARY KEY (case_id, item)
);

-- The case timeline: every event, who and when, in plain words. No
-- personal data here: it is the audit trail shown to every scoped reader.
CREATE TABLE case_timeline (
    position     bigint PRIMARY KEY,
    case_id      text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    version      bigint NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    summary      text NOT NULL,
    actor_role   text NOT NULL,
    actor_school text NOT NULL DEFAULT '',
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX case_timeline_case_idx ON case_timeline (case_id, version);

-- +goose Down
DROP TABLE case_timeline;
DROP TABLE case_documents;
DROP TABLE case_personal;
DROP TABLE cases;
