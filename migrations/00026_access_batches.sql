-- +goose Up
-- Access records are written in batches (group commit): one stream message
-- carries several records, told apart by their index in it.
ALTER TABLE access_log ADD COLUMN idx integer NOT NULL DEFAULT 0;
ALTER TABLE access_log DROP CONSTRAINT access_log_pkey;
ALTER TABLE access_log ADD PRIMARY KEY (position, idx);
DROP INDEX access_log_actor;
CREATE INDEX access_log_actor ON access_log (actor_token, position, idx);

-- +goose Down
DELETE FROM access_log WHERE idx > 0;
DROP INDEX access_log_actor;
CREATE INDEX access_log_actor ON access_log (actor_token, position);
ALTER TABLE access_log DROP CONSTRAINT access_log_pkey;
ALTER TABLE access_log ADD PRIMARY KEY (position);
ALTER TABLE access_log DROP COLUMN idx;
