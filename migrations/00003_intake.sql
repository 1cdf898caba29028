-- +goose Up
-- Intake to first review: home visit, return and re-submission, first
-- review and the letters it sends.
ALTER TABLE cases
    ADD COLUMN dropout_record    boolean NOT NULL DEFAULT false,
    ADD COLUMN received_position bigint NOT NULL DEFAULT 0,
    ADD COLUMN returned_missing  int[],
    ADD COLUMN visit_contacts    int NOT NULL DEFAULT 0,
    ADD COLUMN visit_visited     boolean NOT NULL DEFAULT false,
    ADD COLUMN visit_interviewed boolean NOT NULL DEFAULT false,
    ADD COLUMN visit_report_on   date,
    ADD COLUMN review_outcome    text,
    ADD COLUMN reviewed_on       date;
ALTER TABLE case_documents
    ADD COLUMN submitted_on      date,
    ADD COLUMN with_dropout_file boolean NOT NULL DEFAULT false;
-- The open home visits, in order of receipt (R-MID-3).
CREATE INDEX cases_visit_queue_idx ON cases (branch, received_on, received_position)
    WHERE visit_report_on IS NULL AND review_outcome IS NULL AND stage = 'intake';

-- The home-visit log; notes are personal and shown to social workers only.
CREATE TABLE case_visits (
    position  bigint PRIMARY KEY,
    case_id   text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind      text NOT NULL,
    on_date   date NOT NULL,
    note      text
);
CREATE INDEX case_visits_case_idx ON case_visits (case_id, position);

-- Letters to schools (no personal data: students are named by alias).
CREATE TABLE letters (
    position      bigint PRIMARY KEY,
    case_id       text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    to_school     text NOT NULL,
    student_alias text NOT NULL,
    subject       text NOT NULL,
    outcome       text NOT NULL,
    next_step     text NOT NULL,
    meeting       text NOT NULL DEFAULT '',
    issued_on     date NOT NULL
);
CREATE INDEX letters_school_idx ON letters (to_school, position);

-- +goose Down
DROP TABLE letters;
DROP TABLE case_visits;
DROP INDEX cases_visit_queue_idx;
ALTER TABLE case_documents DROP COLUMN submitted_on, DROP COLUMN with_dropout_file;
ALTER TABLE cases
    DROP COLUMN dropout_record, DROP COLUMN received_position, DROP COLUMN returned_missing, DROP COLUMN visit_contacts,
    DROP COLUMN visit_visited, DROP COLUMN visit_interviewed, DROP COLUMN visit_report_on,
    DROP COLUMN review_outcome, DROP COLUMN reviewed_on;
