-- +goose Up
-- What each party still owes (issue 10; GET /v1/duties). The projector
-- keeps the facts; the reader derives, for any as_of date, the duties
-- open on that day: the periodic ones (a registration per semester, the
-- records per semester, a co-counselling visit per month) from the
-- enrolments, the others from the rows below.

-- The school and branch of every case.
CREATE TABLE duty_cases (
    case_id       text PRIMARY KEY,
    branch        text NOT NULL,
    origin_school text NOT NULL
);

-- Every enrolment: the grade at enrolment gives the graduation date; an
-- enrolment that ended earlier (suspended, left) has ended_on.
CREATE TABLE duty_enrolments (
    case_id     text PRIMARY KEY,
    branch      text NOT NULL,
    origin_school text NOT NULL,
    enrolled_on date NOT NULL,
    grade       int NOT NULL,
    ended_on    date
);
CREATE INDEX duty_enrolments_school ON duty_enrolments (branch, origin_school);

-- One row per duty: case_id '' for a school's duty (co-counselling) or a
-- branch's (the admitted list, with origin_school ''). opened_on is set
-- for a duty an event opened; a periodic duty's row holds only done_on.
CREATE TABLE duties (
    branch        text NOT NULL,
    origin_school text NOT NULL,
    case_id       text NOT NULL,
    kind          text NOT NULL,
    period        text NOT NULL,
    opened_on     date,
    due_on        date,
    done_on       date,
    cancelled_on  date,
    position      bigint NOT NULL,
    PRIMARY KEY (branch, origin_school, case_id, kind, period)
);
CREATE INDEX duties_kind ON duties (kind, branch);

-- The projection is new: rebuild every read model from the first event so
-- that it covers the events recorded before it.
TRUNCATE cases, case_personal, case_documents, case_timeline, case_visits, letters, meetings, meeting_resolutions,
         projection_quarantine, projection_held, case_retention, dropout_episodes, suspension_grounds CASCADE;
DELETE FROM projection_checkpoints WHERE name = 'read_models';

-- +goose Down
DROP TABLE duties;
DROP TABLE duty_enrolments;
DROP TABLE duty_cases;
