//! The tables, as diesel sees them (the same for SQLite and PostgreSQL).

diesel::table! {
    /// Accounts: Django's `auth_user`, trimmed to what the API uses.
    users (id) {
        id -> Integer,
        username -> Text,
        password -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        date_joined -> Timestamp,
        last_login -> Nullable<Timestamp>,
        sessions_revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Every refresh token issued (simplejwt's `OutstandingToken`), with its family.
    outstanding_tokens (id) {
        id -> Integer,
        user_id -> Nullable<Integer>,
        jti -> Text,
        token -> Text,
        created_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        family_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Revoked refresh tokens (simplejwt's `BlacklistedToken`).
    blacklisted_tokens (id) {
        id -> Integer,
        token_id -> Integer,
        blacklisted_at -> Timestamp,
    }
}

diesel::table! {
    /// One per log in: the chain of refresh tokens rotation makes from it, revoked as a whole
    /// when a rotated-out token comes back.
    token_families (id) {
        id -> Text,
        user_id -> Nullable<Integer>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        current_jti -> Text,
        previous_jti -> Nullable<Text>,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    /// Access tokens revoked before their expiry, by `jti`, kept until that expiry.
    denied_access_tokens (jti) {
        jti -> Text,
        user_id -> Nullable<Integer>,
        expires_at -> Timestamp,
        denied_at -> Timestamp,
    }
}

diesel::joinable!(blacklisted_tokens -> outstanding_tokens (token_id));
diesel::joinable!(outstanding_tokens -> users (user_id));
diesel::joinable!(outstanding_tokens -> token_families (family_id));
diesel::joinable!(token_families -> users (user_id));
diesel::joinable!(denied_access_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    outstanding_tokens,
    blacklisted_tokens,
    token_families,
    denied_access_tokens,
);
