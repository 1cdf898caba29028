-- +goose Up
-- Dropout episodes (中輟, R-ORG-4) and the suspension grounds staff record
-- (R-SUS-1 (1), (2), (3), (6)). Codes and dates only: the notes and the
-- evidence are free text about a student and stay sealed in the log.
-- Grounds (4) and (5) are computed from these dates for any as-of date.
CREATE TABLE dropout_episodes (
    case_id          text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    episode          int  NOT NULL CHECK (episode > 0),
    first_day_absent date NOT NULL,
    whereabouts      text NOT NULL,
    reason           text NOT NULL,
    sub_reason       text NOT NULL DEFAULT '',
    reported_on      date,
    found_on         date,
    returned_on      date,
    closed_on        date,
    outcome          text,
    follow_ups       int  NOT NULL DEFAULT 0,
    last_follow_up   date,
    position         bigint NOT NULL,
    PRIMARY KEY (case_id, episode)
);

CREATE TABLE suspension_grounds (
    position bigint PRIMARY KEY,
    case_id  text NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    ground   int  NOT NULL,
    on_date  date NOT NULL
);
CREATE INDEX suspension_grounds_case_idx ON suspension_grounds (case_id, position);

-- +goose Down
DROP TABLE suspension_grounds;
DROP TABLE dropout_episodes;
