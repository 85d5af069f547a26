-- Refresh-token families (one per log in; every rotation stays in it) for reuse detection,
-- and the denylist of access tokens revoked before their expiry.
CREATE TABLE token_families (
    id VARCHAR(32) PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    current_jti VARCHAR(255) NOT NULL,
    previous_jti VARCHAR(255),
    rotated_at TIMESTAMP,
    revoked_at TIMESTAMP,
    reason VARCHAR(32)
);
CREATE INDEX token_families_user_id ON token_families (user_id);
CREATE INDEX token_families_expires_at ON token_families (expires_at);

ALTER TABLE outstanding_tokens
    ADD COLUMN family_id VARCHAR(32) REFERENCES token_families (id) ON DELETE SET NULL;
CREATE INDEX outstanding_tokens_family_id ON outstanding_tokens (family_id);

CREATE TABLE denied_access_tokens (
    jti VARCHAR(255) PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    expires_at TIMESTAMP NOT NULL,
    denied_at TIMESTAMP NOT NULL
);
CREATE INDEX denied_access_tokens_expires_at ON denied_access_tokens (expires_at);
