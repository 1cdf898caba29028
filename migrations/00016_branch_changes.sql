-- +goose Up
-- Every change of a branch's settings, written in the same transaction as
-- the branches row it changes: who (token id and role), when, before and
-- after. PostgreSQL's branches table stays the source of truth. seq counts
-- a branch's changes (1, 2, …), taken under the branch row's lock: no
-- sequence object, so a backup restores the table as it is.
CREATE TABLE branch_changes (
    code       text NOT NULL,
    seq        bigint NOT NULL CHECK (seq > 0),
    changed_at timestamptz NOT NULL DEFAULT now(),
    actor_role text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    before     jsonb,
    after      jsonb NOT NULL,
    PRIMARY KEY (code, seq)
);

-- +goose Down
DROP TABLE branch_changes;
