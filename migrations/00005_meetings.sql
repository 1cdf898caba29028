-- +goose Up
-- Second-review meetings, their resolutions, and admission on the cases.
CREATE TABLE meetings (
    id            text PRIMARY KEY,
    branch        text NOT NULL,
    academic_year int  NOT NULL,
    kind          text NOT NULL,
    date          date NOT NULL,
    title         text NOT NULL,
    status        text NOT NULL,
    closed_on     date,
    version       bigint NOT NULL,
    position      bigint NOT NULL
);
CREATE INDEX meetings_branch_idx ON meetings (branch, date, id);

CREATE TABLE meeting_resolutions (
    meeting_id text NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    case_id    text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    resolution text NOT NULL,
    outcome    text,
    position   bigint NOT NULL,
    PRIMARY KEY (meeting_id, case_id)
);

ALTER TABLE cases
    ADD COLUMN application_position bigint NOT NULL DEFAULT 0,
    ADD COLUMN appealed             boolean NOT NULL DEFAULT false,
    ADD COLUMN attendees            text[],
    ADD COLUMN admission_meeting    text,
    ADD COLUMN report_by            date,
    ADD COLUMN waitlisted_position  bigint,
    ADD COLUMN health_examined_on   date,
    ADD COLUMN infectious           boolean NOT NULL DEFAULT false,
    ADD COLUMN health_cleared_on    date,
    ADD COLUMN enrolled_on          date,
    ADD COLUMN class                text,
    ADD COLUMN registrations        text[];
UPDATE cases SET application_position = position WHERE version = 1;
CREATE INDEX cases_docket_idx ON cases (branch, application_position)
    WHERE stage IN ('recommended', 'to_discuss', 'not_eligible');

-- +goose Down
DROP INDEX cases_docket_idx;
ALTER TABLE cases
    DROP COLUMN application_position, DROP COLUMN appealed, DROP COLUMN attendees, DROP COLUMN admission_meeting,
    DROP COLUMN report_by, DROP COLUMN waitlisted_position, DROP COLUMN health_examined_on, DROP COLUMN infectious,
    DROP COLUMN health_cleared_on, DROP COLUMN enrolled_on, DROP COLUMN class, DROP COLUMN registrations;
DROP TABLE meeting_resolutions;
DROP TABLE meetings;
