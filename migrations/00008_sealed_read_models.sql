-- +goose Up
-- The read models hold personal data only sealed: the projector copies the
-- sealed values of the events as they are (events.Sealed as JSON: key id,
-- nonce, ciphertext) and the API opens them for a caller who may see them.
-- No plaintext personal data reaches PostgreSQL, its WAL or its backups.
--
-- The plaintext the earlier projector wrote must go. TRUNCATE (like DROP
-- TABLE) gives every read-model table new, empty files; the old heap and
-- TOAST files are emptied when this transaction commits and unlinked at
-- the next checkpoint, so the old pages leave the data directory (no
-- VACUUM FULL needed; TestMigration00008RemovesPlaintextAndResetsCheckpoint). WAL segments written before this
-- migration still hold the old plaintext until PostgreSQL recycles them
-- after later checkpoints; WAL archives and backups taken before it hold
-- it for as long as they are kept (see README, Privacy).
--
-- The checkpoint goes back to zero: the projector rebuilds every read
-- model from the first event on its next start (a projector still running
-- notices the reset and restarts from it).
TRUNCATE cases, case_personal, case_documents, case_timeline, case_visits, letters, meetings, meeting_resolutions,
         projection_quarantine, projection_held CASCADE;
DELETE FROM projection_checkpoints WHERE name = 'read_models';

DROP TABLE case_personal;
-- A case's personal data: domain.Person sealed with the student's data
-- key, exactly as in the ReferralOpened event.
CREATE TABLE case_personal (
    case_id  text PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    personal json NOT NULL
);

-- A social worker's checklist note, sealed (R-DOC-2).
ALTER TABLE case_documents ALTER COLUMN note TYPE json USING NULL;

DROP TABLE case_visits;
-- The home-visit log; the note is sealed and shown to social workers only.
CREATE TABLE case_visits (
    position  bigint PRIMARY KEY,
    case_id   text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind      text NOT NULL,
    on_date   date NOT NULL,
    note      json
);
CREATE INDEX case_visits_case_idx ON case_visits (case_id, position);

-- +goose Down
-- Back to plaintext columns, empty: the earlier projector rebuilds them.
TRUNCATE cases, case_personal, case_documents, case_timeline, case_visits, letters, meetings, meeting_resolutions,
         projection_quarantine, projection_held CASCADE;
DELETE FROM projection_checkpoints WHERE name = 'read_models';
DROP TABLE case_visits;
CREATE TABLE case_visits (
    position  bigint PRIMARY KEY,
    case_id   text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    kind      text NOT NULL,
    on_date   date NOT NULL,
    note      text
);
CREATE INDEX case_visits_case_idx ON case_visits (case_id, position);
ALTER TABLE case_documents ALTER COLUMN note TYPE text USING NULL;
DROP TABLE case_personal;
CREATE TABLE case_personal (
    case_id           text PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    student_name      text NOT NULL,
    national_id       text NOT NULL,
    birth_date        date,
    guardian_name     text NOT NULL,
    guardian_relation text NOT NULL,
    reason            text NOT NULL,
    crisis_type       text NOT NULL DEFAULT '',
    exclusion_reason  text NOT NULL DEFAULT '',
    family            jsonb NOT NULL DEFAULT '{}'
);
