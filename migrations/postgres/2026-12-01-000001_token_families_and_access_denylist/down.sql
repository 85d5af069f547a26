DROP TABLE denied_access_tokens;
ALTER TABLE outstanding_tokens DROP COLUMN family_id;
DROP TABLE token_families;
