-- The notes service's own table. `user_id` is the auth server's user id, as the token says:
-- no foreign key, since this service has no users table (and no access to the auth server's).
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    text TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notes_user_id ON notes (user_id, id);
