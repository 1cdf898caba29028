-- +goose Up
-- People behind the roles (issue 14). Name and e-mail are personal data of
-- staff: they live here only, never in the event log, logs or metrics;
-- events and access records carry the person's id. roles is a JSON array
-- of {role, school, branch}: a person may hold more than one.
CREATE TABLE people (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    email        text NOT NULL DEFAULT '',
    roles        jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended','removed')),
    reminders    text NOT NULL DEFAULT 'weekly' CHECK (reminders IN ('daily','weekly','off')),
    oidc_subject text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_email ON people (lower(email)) WHERE email <> '' AND status <> 'removed';
CREATE UNIQUE INDEX people_subject ON people (oidc_subject) WHERE oidc_subject IS NOT NULL AND status <> 'removed';

-- Every change of a person, in the same transaction as the change: who,
-- when, before and after. seq counts a person's changes.
CREATE TABLE people_changes (
    person_id  text NOT NULL REFERENCES people (id),
    seq        bigint NOT NULL CHECK (seq > 0),
    changed_at timestamptz NOT NULL DEFAULT now(),
    actor_role text NOT NULL,
    actor_id   text NOT NULL DEFAULT '',
    before     jsonb,
    after      jsonb NOT NULL,
    PRIMARY KEY (person_id, seq)
);

-- Tokens belong to a person and may expire. Every existing token moves to
-- a person of its own, named after its label (its id when it has none),
-- holding the token's role; a revoked token's person is removed.
ALTER TABLE api_tokens ADD COLUMN person_id text REFERENCES people (id);
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
INSERT INTO people (id, name, roles, status, created_at, updated_at)
SELECT 'per_' || substr(md5(id), 1, 16),
       CASE WHEN label = '' THEN id ELSE label END,
       jsonb_build_array(jsonb_build_object('role', role, 'school', school, 'branch', branch)),
       CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'removed' END,
       created_at, now()
FROM api_tokens;
INSERT INTO people_changes (person_id, seq, actor_role, actor_id, after)
SELECT id, 1, 'system', 'migration-00019',
       jsonb_build_object('id', id, 'name', name, 'email', email, 'roles', roles, 'status', status, 'reminders', reminders)
FROM people;
UPDATE api_tokens SET person_id = 'per_' || substr(md5(id), 1, 16);
ALTER TABLE api_tokens ALTER COLUMN person_id SET NOT NULL;
CREATE INDEX api_tokens_person ON api_tokens (person_id);

-- The access log names the person who read (by id).
ALTER TABLE access_log ADD COLUMN actor_person text NOT NULL DEFAULT '';
CREATE INDEX access_log_person ON access_log (actor_person, position);

-- Password sign-in (issue 14): an argon2id hash (PHC string), a TOTP
-- secret once enrolled (pending until first confirmed), and the count of
-- failed attempts with the lock-out they lead to.
CREATE TABLE person_logins (
    person_id       text PRIMARY KEY REFERENCES people (id),
    password_hash   text,
    totp_secret     text,
    totp_pending    text,
    totp_last_step  bigint NOT NULL DEFAULT 0,
    failed_attempts integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Server-side sessions: the cookie holds an opaque value whose SHA-256 is
-- token_hash; id is the handle a person sees and ends sessions by. A
-- session acts in one of the person's roles.
CREATE TABLE sessions (
    id           text PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    person_id    text NOT NULL REFERENCES people (id),
    role         text NOT NULL,
    school       text NOT NULL DEFAULT '',
    branch       text NOT NULL DEFAULT '',
    csrf_secret  bytea NOT NULL,
    method       text NOT NULL CHECK (method IN ('password','oidc')),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE person_logins;
DROP INDEX access_log_person;
ALTER TABLE access_log DROP COLUMN actor_person;
DROP INDEX api_tokens_person;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN person_id;
DROP TABLE people_changes;
DROP TABLE people;
