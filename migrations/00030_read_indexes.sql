-- +goose Up
-- Indexes of the reads under load (issue 13): a case detail reads its
-- letters by case (a scan of every letter before), and a list without a
-- school or branch scope (an admin's, a social worker's of the default
-- branch) pages in order of receipt without sorting every case.
CREATE INDEX letters_case_idx ON letters (case_id, position);
CREATE INDEX cases_received_idx ON cases (received_on, id);

-- +goose Down
DROP INDEX cases_received_idx;
DROP INDEX letters_case_idx;
