-- +goose Up
-- Branch schools: cap, windows and committee are data (R-CAP-1, R-SOY-2, R-MID-1).
CREATE TABLE branches (
    code       text PRIMARY KEY,
    config     jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Opaque bearer tokens, stored as SHA-256 hashes only.
CREATE TABLE api_tokens (
    id          text PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    role        text NOT NULL CHECK (role IN ('origin_school','social_worker','committee','bureau','admin')),
    school      text NOT NULL DEFAULT '',
    branch      text NOT NULL DEFAULT '',
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK (role <> 'origin_school' OR school <> '')
);

-- Per-person data keys, wrapped with the master key. Destroying a key
-- (wrapped set to NULL) erases the person from the event log for good.
CREATE TABLE data_keys (
    key_id       text PRIMARY KEY,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

-- Where each projection stands in the event stream. Advanced in the same
-- transaction as the read-model changes of a batch.
CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    position   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE projection_checkpoints;
DROP TABLE data_keys;
DROP TABLE api_tokens;
DROP TABLE branches;
