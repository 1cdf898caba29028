-- +goose Up
-- An admin asks for a quarantined event to be applied again through the
-- API (POST /v1/projections/quarantine/…/retry, issue 15): the API marks
-- it, and the running projector, which alone applies events, retries the
-- marked events with the held-back ones of their streams and clears the
-- mark. The admin's person id is kept beside it (who asked, not a value).
ALTER TABLE projection_quarantine
    ADD COLUMN retry_requested_at timestamptz,
    ADD COLUMN retry_requested_by text;

-- +goose Down
ALTER TABLE projection_quarantine
    DROP COLUMN retry_requested_at,
    DROP COLUMN retry_requested_by;
