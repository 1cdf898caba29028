-- +goose Up
-- 中止就讀 (R-SUS-2..4) and adaptation meetings (R-ENR-4). One row per
-- case for its latest suspension procedure (a new procedure after a
-- continue resolution replaces it; the timeline keeps the history); the
-- procedure's log (opening, visits, report) and the adaptation meetings,
-- their free text sealed as in the events (R-DOC-2: social workers open
-- it; an erasure clears it).
CREATE TABLE case_suspensions (
    case_id         text PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    status          text NOT NULL,           -- open | reported | suspended | continued
    grounds         int[] NOT NULL,
    source          text NOT NULL,           -- social_worker | adaptation_meeting
    opened_on       date NOT NULL,
    home_visit_on   date,
    school_visit_on date,
    report_on       date,
    appealed        boolean NOT NULL DEFAULT false,
    attendees       text[],
    meeting_id      text,
    decided_on      date,
    destination     text,                    -- origin_school | social_welfare | judicial
    position        bigint NOT NULL
);
CREATE INDEX case_suspensions_reported_idx ON case_suspensions (case_id) WHERE status = 'reported';

CREATE TABLE case_suspension_log (
    position bigint PRIMARY KEY,
    case_id  text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind     text NOT NULL,                  -- opened | home | origin_school | report
    on_date  date NOT NULL,
    note     json                            -- sealed
);
CREATE INDEX case_suspension_log_case_idx ON case_suspension_log (case_id, position);

CREATE TABLE case_adaptation_meetings (
    position bigint PRIMARY KEY,
    case_id  text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    on_date  date NOT NULL,
    outcome  text NOT NULL,
    notes    json                            -- sealed
);
CREATE INDEX case_adaptation_meetings_case_idx ON case_adaptation_meetings (case_id, position);

ALTER TABLE meeting_resolutions ADD COLUMN destination text;

-- +goose Down
ALTER TABLE meeting_resolutions DROP COLUMN destination;
DROP TABLE case_adaptation_meetings;
DROP TABLE case_suspension_log;
DROP TABLE case_suspensions;
