DROP TABLE denied_access_tokens;
DROP INDEX outstanding_tokens_family_id;
ALTER TABLE outstanding_tokens DROP COLUMN family_id;
DROP TABLE token_families;
