-- +goose Up
-- The dated roster (R-CAP-1 decision): each seat with its first and last
-- day, so capacity answers for any date; the waiting list in order; the
-- academic years rolled over with their class proposal; and each case's
-- end state (declined, withdrawn, graduated, lapsed, …) with its reason.
CREATE TABLE roster_seats (
    branch      text   NOT NULL,
    case_id     text   NOT NULL,
    seq         bigint NOT NULL, -- position of the SeatTaken
    from_on     date   NOT NULL,
    last_on     date,            -- NULL: open-ended
    grade       int,
    grade_year  int,
    class       text,
    enrolled_on date,
    ending      text,            -- NULL: not released (last_on is then the planned graduation)
    PRIMARY KEY (branch, case_id, seq)
);
CREATE INDEX roster_seats_open_idx ON roster_seats (branch, case_id) WHERE ending IS NULL;
CREATE INDEX roster_seats_range_idx ON roster_seats (branch, from_on, last_on);

CREATE TABLE roster_waiting (
    branch               text   NOT NULL,
    case_id              text   NOT NULL,
    application_position bigint NOT NULL,
    PRIMARY KEY (branch, case_id)
);
CREATE INDEX roster_waiting_order_idx ON roster_waiting (branch, application_position);

CREATE TABLE roster_years (
    branch    text  NOT NULL,
    year      int   NOT NULL,
    began_on  date  NOT NULL,
    summary   jsonb NOT NULL, -- advanced, graduated, lapsed (case ids)
    proposal  jsonb NOT NULL, -- the class proposal
    confirmed boolean NOT NULL DEFAULT false,
    PRIMARY KEY (branch, year)
);

ALTER TABLE cases
    ADD COLUMN end_state  text,
    ADD COLUMN end_reason text,
    ADD COLUMN ended_on   date;

-- The new read models are built from the first event: every read model
-- is emptied and the projector's checkpoint reset (it rebuilds them all
-- from the log, as `projector rebuild` does). The list is the
-- projector's readModelTables; a table another migration has not created
-- yet is skipped.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['cases', 'case_personal', 'case_documents', 'case_timeline', 'case_visits', 'letters',
        'meetings', 'meeting_resolutions', 'projection_quarantine', 'projection_held', 'case_retention',
        'dropout_episodes', 'suspension_grounds', 'duty_cases', 'duty_enrolments', 'duties', 'roster_seats', 'roster_waiting', 'roster_years', 'case_duplicates'] LOOP
        IF to_regclass(t) IS NOT NULL THEN
            EXECUTE format('TRUNCATE %I CASCADE', t);
        END IF;
    END LOOP;
END $$;
-- +goose StatementEnd
DELETE FROM projection_checkpoints WHERE name = 'read_models';

-- +goose Down
ALTER TABLE cases DROP COLUMN end_state, DROP COLUMN end_reason, DROP COLUMN ended_on;
DROP TABLE roster_years;
DROP TABLE roster_waiting;
DROP TABLE roster_seats;
