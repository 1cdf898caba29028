-- +goose Up
-- Every change of a branch's settings, written in the same transaction as
-- the branches row it changes: who (token id and role), when, before and
-- after. PostgreSQL's branches table stays the source of truth.
CREATE TABLE branch_changes (
    seq        bigserial PRIMARY KEY,
    code       text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    actor_role text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    before     jsonb,
    after      jsonb NOT NULL
);
CREATE INDEX branch_changes_code ON branch_changes (code, seq);

-- +goose Down
DROP TABLE branch_changes;
