-- +goose Up
-- The statistical categories of a referral (R-STAT-2), in the clear so
-- that they survive an erasure (issue 11). Cases filed before they were
-- carried recorded none: unknown. identity lists the identity flags that
-- apply (empty: none); NULL when they were never recorded.
ALTER TABLE cases
    ADD COLUMN family_background text NOT NULL DEFAULT 'unknown',
    ADD COLUMN identity          text[];

-- A student's cases at a branch (R-CAP-1: the duplicate check finds the
-- cases filed before person streams were kept).
CREATE INDEX cases_person_idx ON cases (person_key, branch);

-- Possible duplicates flagged to the branch's social workers (R-CAP-1): a
-- student referred by another school while a referral was open. Both
-- directions are kept; no foreign keys, so that one case's event that
-- cannot apply never stops the other's.
CREATE TABLE case_duplicates (
    case_id       text NOT NULL,
    other_case_id text NOT NULL,
    position      bigint NOT NULL,
    PRIMARY KEY (case_id, other_case_id)
);

-- +goose Down
DROP TABLE case_duplicates;
DROP INDEX cases_person_idx;
ALTER TABLE cases
    DROP COLUMN family_background,
    DROP COLUMN identity;
