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
    }
}

diesel::table! {
    /// Every refresh token issued (simplejwt's `OutstandingToken`).
    outstanding_tokens (id) {
        id -> Integer,
        user_id -> Nullable<Integer>,
        jti -> Text,
        token -> Text,
        created_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
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

diesel::joinable!(blacklisted_tokens -> outstanding_tokens (token_id));
diesel::joinable!(outstanding_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, outstanding_tokens, blacklisted_tokens);
