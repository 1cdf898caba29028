-- +goose Up
-- The family situation of the application form, opened from the sealed
-- event like the rest of the personal data.
ALTER TABLE case_personal
    ADD COLUMN crisis_type      text NOT NULL DEFAULT '',
    ADD COLUMN exclusion_reason text NOT NULL DEFAULT '',
    ADD COLUMN family           jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE case_personal DROP COLUMN crisis_type, DROP COLUMN exclusion_reason, DROP COLUMN family;
