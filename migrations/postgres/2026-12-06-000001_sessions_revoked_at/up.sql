-- When every session of the user last ended (log out everywhere, password change,
-- deactivation): tokens issued before it are refused, whether or not they belong to a family.
ALTER TABLE users ADD COLUMN sessions_revoked_at TIMESTAMP;
