-- +goose Up
-- Every change or removal of an API token notifies the channel
-- cihui_token_changed with the token's id, committed with the change: the
-- API's verified-token cache drops the token at once (issue 13). Whoever
-- revokes (the API, the token command, plain SQL), the notice is sent.
-- +goose StatementBegin
CREATE FUNCTION cihui_token_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cihui_token_changed', OLD.id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_changed AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION cihui_token_changed();

-- A TRUNCATE removes every token: the cache drops them all.
-- +goose StatementBegin
CREATE FUNCTION cihui_tokens_truncated() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('cihui_token_changed', '*');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_truncated AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION cihui_tokens_truncated();

-- +goose Down
DROP TRIGGER api_tokens_truncated ON api_tokens;
DROP FUNCTION cihui_tokens_truncated();
DROP TRIGGER api_tokens_changed ON api_tokens;
DROP FUNCTION cihui_token_changed();
