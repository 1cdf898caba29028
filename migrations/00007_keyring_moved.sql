-- +goose Up
-- Data keys moved to the CIHUI_KEYS JetStream stream, where destroying a
-- key overwrites it. A fresh or already migrated database drops the old
-- table here; one that still holds keys keeps it until the API has moved
-- them (in Go, at start: it needs NATS and the master key), and the API
-- then drops it itself.
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('data_keys') IS NOT NULL AND NOT EXISTS (SELECT 1 FROM data_keys) THEN
        DROP TABLE data_keys;
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
CREATE TABLE IF NOT EXISTS data_keys (
    key_id       text PRIMARY KEY,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
