-- Users, and the refresh-token state of simplejwt's token_blacklist app.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(150) NOT NULL UNIQUE,
    password VARCHAR(128) NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff BOOLEAN NOT NULL DEFAULT FALSE,
    date_joined TIMESTAMP NOT NULL,
    last_login TIMESTAMP
);

CREATE TABLE outstanding_tokens (
    id SERIAL PRIMARY KEY,
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    jti VARCHAR(255) NOT NULL UNIQUE,
    token TEXT NOT NULL,
    created_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX outstanding_tokens_user_id ON outstanding_tokens (user_id);
CREATE INDEX outstanding_tokens_expires_at ON outstanding_tokens (expires_at);

CREATE TABLE blacklisted_tokens (
    id SERIAL PRIMARY KEY,
    token_id INTEGER NOT NULL UNIQUE REFERENCES outstanding_tokens (id) ON DELETE CASCADE,
    blacklisted_at TIMESTAMP NOT NULL
);
