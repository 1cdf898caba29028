-- +goose Up
-- The access log: who read a student's personal data, projected from the
-- CIHUI_ACCESS stream (position = stream sequence). Ids only.
CREATE TABLE access_log (
    position     bigint PRIMARY KEY,
    record_id    text NOT NULL,
    at           timestamptz NOT NULL,
    request_id   text NOT NULL DEFAULT '',
    method       text NOT NULL,
    route        text NOT NULL,
    actor_role   text NOT NULL,
    actor_school text NOT NULL DEFAULT '',
    actor_branch text NOT NULL DEFAULT '',
    actor_token  text NOT NULL DEFAULT '',
    case_ids     text[] NOT NULL
);
CREATE INDEX access_log_cases ON access_log USING gin (case_ids);
CREATE INDEX access_log_actor ON access_log (actor_token, position);
CREATE INDEX access_log_at ON access_log (at);

-- What the retention rule (學生輔導法施行細則 §10) needs of each case: a
-- read model of the referral streams, kept by the read-model projector.
CREATE TABLE case_retention (
    case_id       text PRIMARY KEY,
    person_key    text NOT NULL,
    branch        text NOT NULL,
    academic_year integer NOT NULL,
    grade         integer NOT NULL,
    stage         text NOT NULL,
    stage_on      date NOT NULL,
    on_hold       boolean NOT NULL DEFAULT false,
    hold_reason   text,
    hold_since    date,
    erased_on     date
);
CREATE INDEX case_retention_person ON case_retention (person_key);

-- +goose Down
DROP TABLE case_retention;
DROP TABLE access_log;
