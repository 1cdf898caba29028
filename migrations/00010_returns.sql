-- +goose Up
-- Returned applications (R-MID-3): the last day to re-submit, and the
-- lapse of one not re-submitted by then. Incomplete applications accepted
-- for a special reason (R-ELIG-4): when, the items still owed, and the
-- reason, sealed with the student's key (events.Sealed JSON).
ALTER TABLE cases
    ADD COLUMN resubmit_by       date,
    ADD COLUMN lapsed_on         date,
    ADD COLUMN accepted_on       date,
    ADD COLUMN owed_items        int[],
    ADD COLUMN acceptance_reason text;
-- The lapse job's list: returned cases.
CREATE INDEX cases_returned_idx ON cases (branch, id) WHERE stage = 'returned';

-- +goose Down
DROP INDEX cases_returned_idx;
ALTER TABLE cases
    DROP COLUMN resubmit_by, DROP COLUMN lapsed_on, DROP COLUMN accepted_on,
    DROP COLUMN owed_items, DROP COLUMN acceptance_reason;
