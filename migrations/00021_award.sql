-- +goose Up
-- The award plan (R-AWD-1): the final-review score sheets, and the dated
-- facts the evidence pack counts that no other read model keeps one by
-- one (each follow-up, search and counselling of a dropout episode, each
-- co-counselling visit and the cases it covered). Codes, dates and ids
-- only: notes stay sealed in the log.
CREATE TABLE award_facts (
    position bigint NOT NULL,
    seq      int    NOT NULL, -- a visit covers several cases: one row each
    branch   text   NOT NULL,
    case_id  text   NOT NULL, -- '' for a visit that named no case
    kind     text   NOT NULL, -- follow_up | search | counselling | co_counselling
    party    text   NOT NULL, -- branch | origin_school
    on_date  date   NOT NULL,
    PRIMARY KEY (position, seq)
);
CREATE INDEX award_facts_branch_idx ON award_facts (branch, kind, on_date);

-- One row per sheet, as last corrected. reviewer and comments are sealed
-- (events.Sealed JSON) with the sheet's own data key.
CREATE TABLE award_score_sheets (
    id            text PRIMARY KEY,
    branch        text   NOT NULL,
    academic_year int    NOT NULL,
    ratings       jsonb  NOT NULL,
    total         int    NOT NULL CHECK (total BETWEEN 20 AND 100),
    reviewer      json   NOT NULL,
    comments      json,
    corrections   int    NOT NULL DEFAULT 0,
    version       bigint NOT NULL,
    position      bigint NOT NULL,
    filed_at      timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX award_score_sheets_year_idx ON award_score_sheets (branch, academic_year, filed_at, id);

-- The new read models are built from the first event: every read model
-- is emptied and the checkpoint reset (as 00014 does); a table another
-- migration has not created yet is skipped.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'case_personal', 'case_documents', 'case_timeline', 'case_visits', 'letters',
        'meetings', 'meeting_resolutions', 'projection_quarantine', 'projection_held', 'case_retention',
        'dropout_episodes', 'suspension_grounds', 'duty_cases', 'duty_enrolments', 'duties', 'roster_seats',
        'roster_waiting', 'roster_years', 'case_duplicates', 'case_suspensions', 'case_suspension_log',
        'case_adaptation_meetings', 'award_facts', 'award_score_sheets'] LOOP
        IF to_regclass(t) IS NOT NULL THEN
            EXECUTE format('TRUNCATE %I CASCADE', t);
        END IF;
    END LOOP;
END $$;
-- +goose StatementEnd
DELETE FROM projection_checkpoints WHERE name = 'read_models';

-- +goose Down
DROP TABLE award_score_sheets;
DROP TABLE award_facts;
