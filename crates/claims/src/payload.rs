//! What a token carries: [`Claims`], typed where this project gives a claim a meaning, and the
//! rest kept as they came.
//!
//! Reading is lenient about types and remembers what it could not type: a `jti` that is a
//! number, an `exp` that is a string. Whether that refuses the token is decided by the checks
//! ([`crate::check`]), in PyJWT's order, so that an expired token with a malformed `jti` is
//! "expired" (as PyJWT says) and not "invalid".
//!
//! The claims nobody here defines are kept as values of the reader's own JSON type `V` (the
//! server, the notes service and the frontend use `serde_json::Value`); this crate needs only
//! serde to read them.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::TokenType;

/// The latest time a NumericDate may name: 9999-12-31T23:59:59Z. Python's `datetime` (and so
/// simplejwt) cannot go further, and no token needs to.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// The earliest: 0001-01-01T00:00:00Z.
pub const MIN_NUMERIC_DATE: i64 = -62_135_596_800;

/// The claims the contract gives a type, to say which one came malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// `token_type`: "access" or "refresh".
    TokenType,
    /// `exp`: a NumericDate.
    Exp,
    /// `iat`: a NumericDate.
    Iat,
    /// `nbf`: a NumericDate.
    Nbf,
    /// `jti`: a string.
    Jti,
    /// `sub`: a string.
    Sub,
    /// `iss`: a string.
    Iss,
    /// `aud`: a string or an array of strings.
    Aud,
    /// `family_id`: a string.
    FamilyId,
}

impl Registered {
    /// The claim's name in a token.
    pub fn name(self) -> &'static str {
        match self {
            Registered::TokenType => "token_type",
            Registered::Exp => "exp",
            Registered::Iat => "iat",
            Registered::Nbf => "nbf",
            Registered::Jti => "jti",
            Registered::Sub => "sub",
            Registered::Iss => "iss",
            Registered::Aud => "aud",
            Registered::FamilyId => "family_id",
        }
    }

    fn of(name: &str) -> Option<Self> {
        Some(match name {
            "token_type" => Registered::TokenType,
            "exp" => Registered::Exp,
            "iat" => Registered::Iat,
            "nbf" => Registered::Nbf,
            "jti" => Registered::Jti,
            "sub" => Registered::Sub,
            "iss" => Registered::Iss,
            "aud" => Registered::Aud,
            "family_id" => Registered::FamilyId,
            _ => return None,
        })
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// The payload of a token. Times are whole seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims<V> {
    /// `"access"` or `"refresh"` (anything else counts as malformed).
    pub token_type: Option<TokenType>,
    /// Expiry: the token is expired when `exp <= now - leeway`.
    pub exp: Option<i64>,
    /// Issued at.
    pub iat: Option<i64>,
    /// Not before.
    pub nbf: Option<i64>,
    /// The token's unique id (32 hex characters when this server mints it).
    pub jti: Option<String>,
    /// Subject: whom the token is about (this project names its user in `user_id` instead).
    pub sub: Option<String>,
    /// Issuer, when the server is configured with one.
    pub iss: Option<String>,
    /// Audience: one string is written as a string, several as an array.
    pub aud: Option<Vec<String>>,
    /// The family of every token of one log in, with reuse detection on.
    pub family_id: Option<String>,
    /// Every other claim, in the order it came: the user id claim, the password fingerprint,
    /// and whatever else a token carries.
    pub other: Vec<(String, V)>,
    malformed: u16,
}

impl<V> Default for Claims<V> {
    fn default() -> Self {
        Self {
            token_type: None,
            exp: None,
            iat: None,
            nbf: None,
            jti: None,
            sub: None,
            iss: None,
            aud: None,
            family_id: None,
            other: Vec::new(),
            malformed: 0,
        }
    }
}

/// What a token's user id claim holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserId {
    /// A user id, as text: an integer (or a string Python's `int()` reads as one, such as
    /// `"01"` or `" +1"`, which Django's `User.objects.get(id=...)` finds) written out in
    /// decimal, or any other non-empty string as it came.
    Id(String),
    /// Something no user can have: an empty string, a float, a boolean, a list...
    Unusable,
}

impl UserId {
    fn of_text(text: &str) -> Self {
        let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
        match trimmed.parse::<i128>() {
            Ok(number) => Self::Id(number.to_string()),
            Err(_) if text.is_empty() => Self::Unusable,
            Err(_) => Self::Id(text.to_owned()),
        }
    }
}

impl<V> Claims<V> {
    /// Whether `claim` was present but not of its type.
    pub fn is_malformed(&self, claim: Registered) -> bool {
        self.malformed & claim.bit() != 0
    }

    /// Any other claim, as it came.
    pub fn get(&self, claim: &str) -> Option<&V> {
        self.other
            .iter()
            .rev()
            .find(|(name, _)| name == claim)
            .map(|(_, value)| value)
    }

    /// Sets another claim, in place when it is there already, else at the end.
    pub fn insert(&mut self, claim: &str, value: V) {
        match self.other.iter_mut().find(|(name, _)| name == claim) {
            Some(entry) => entry.1 = value,
            None => self.other.push((claim.to_owned(), value)),
        }
    }

    /// Sets the user id under `claim` (in [`Claims::sub`] when `claim` is `sub`).
    pub fn set_user_id(&mut self, claim: &str, id: String)
    where
        V: From<String>,
    {
        if claim == Registered::Sub.name() {
            self.sub = Some(id);
        } else {
            self.insert(claim, V::from(id));
        }
    }

    /// What a token made from this one carries over: every claim but simplejwt's
    /// `no_copy_claims` (`token_type`, `exp`, `iat`, `jti`) and `aud` and `iss`, which the
    /// minting server writes from its settings.
    pub fn carried(&self) -> Self
    where
        V: Clone,
    {
        Self {
            nbf: self.nbf,
            sub: self.sub.clone(),
            family_id: self.family_id.clone(),
            other: self.other.clone(),
            ..Self::default()
        }
    }

    /// The user id under `claim` (`JWT_USER_ID_CLAIM`, `user_id` by default; `sub` is read
    /// from [`Claims::sub`]), when the token has one.
    pub fn user_id(&self, claim: &str) -> Option<UserId>
    where
        for<'a> &'a V: Deserializer<'a>,
    {
        if claim == Registered::Sub.name() {
            if self.is_malformed(Registered::Sub) {
                return Some(UserId::Unusable);
            }
            return self.sub.as_deref().map(UserId::of_text);
        }
        let value = self.get(claim)?;
        Some(match ScalarSeed(Expect::UserId).deserialize(value) {
            Ok(Scalar::Text(id)) => UserId::of_text(&id),
            _ => UserId::Unusable,
        })
    }

    /// Another claim's text, when it is a string.
    pub fn text(&self, claim: &str) -> Option<String>
    where
        for<'a> &'a V: Deserializer<'a>,
    {
        match ScalarSeed(Expect::Text).deserialize(self.get(claim)?) {
            Ok(Scalar::Text(text)) => Some(text),
            _ => None,
        }
    }

    fn set(&mut self, claim: Registered, value: Scalar) {
        self.malformed &= !claim.bit();
        self.clear(claim);
        let mut malformed = false;
        match (claim, value) {
            (Registered::TokenType, Scalar::Text(kind)) => {
                self.token_type = match kind.as_str() {
                    "access" => Some(TokenType::Access),
                    "refresh" => Some(TokenType::Refresh),
                    _ => {
                        malformed = true;
                        None
                    }
                }
            }
            (Registered::Exp, Scalar::Time(at)) => self.exp = Some(at),
            (Registered::Iat, Scalar::Time(at)) => self.iat = Some(at),
            (Registered::Nbf, Scalar::Time(at)) => self.nbf = Some(at),
            (Registered::Jti, Scalar::Text(text)) => self.jti = Some(text),
            (Registered::Sub, Scalar::Text(text)) => self.sub = Some(text),
            (Registered::Iss, Scalar::Text(text)) => self.iss = Some(text),
            (Registered::FamilyId, Scalar::Text(text)) => self.family_id = Some(text),
            (Registered::Aud, Scalar::Audience(audience)) => self.aud = Some(audience),
            _ => malformed = true,
        }
        if malformed {
            self.malformed |= claim.bit();
        }
    }

    /// Forgets `claim`: a repeated claim keeps only its last value, typed or not.
    fn clear(&mut self, claim: Registered) {
        match claim {
            Registered::TokenType => self.token_type = None,
            Registered::Exp => self.exp = None,
            Registered::Iat => self.iat = None,
            Registered::Nbf => self.nbf = None,
            Registered::Jti => self.jti = None,
            Registered::Sub => self.sub = None,
            Registered::Iss => self.iss = None,
            Registered::Aud => self.aud = None,
            Registered::FamilyId => self.family_id = None,
        }
    }

    fn expect(claim: Registered) -> Expect {
        match claim {
            Registered::Exp | Registered::Iat | Registered::Nbf => Expect::Time,
            Registered::Aud => Expect::Audience,
            _ => Expect::Text,
        }
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Claims<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor(std::marker::PhantomData))
    }
}

struct ClaimsVisitor<V>(std::marker::PhantomData<V>);

impl<'de, V: Deserialize<'de>> Visitor<'de> for ClaimsVisitor<V> {
    type Value = Claims<V>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut claims = Claims::default();
        while let Some(name) = map.next_key::<String>()? {
            match Registered::of(&name) {
                Some(claim) => {
                    let value = map.next_value_seed(ScalarSeed(Claims::<V>::expect(claim)))?;
                    claims.set(claim, value);
                }
                None => {
                    let value = map.next_value()?;
                    claims.insert(&name, value);
                }
            }
        }
        Ok(claims)
    }
}

impl<V: Serialize> Serialize for Claims<V> {
    /// simplejwt's order: `token_type`, `exp`, `iat`, `jti`, then the claims the token carries
    /// for its user, then `aud` and `iss`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(kind) = self.token_type {
            map.serialize_entry("token_type", kind.as_str())?;
        }
        for (name, at) in [("exp", self.exp), ("iat", self.iat)] {
            if let Some(at) = at {
                map.serialize_entry(name, &at)?;
            }
        }
        if let Some(jti) = &self.jti {
            map.serialize_entry("jti", jti)?;
        }
        if let Some(nbf) = self.nbf {
            map.serialize_entry("nbf", &nbf)?;
        }
        if let Some(sub) = &self.sub {
            map.serialize_entry("sub", sub)?;
        }
        for (name, value) in &self.other {
            map.serialize_entry(name, value)?;
        }
        if let Some(family) = &self.family_id {
            map.serialize_entry("family_id", family)?;
        }
        match self.aud.as_deref() {
            Some([one]) => map.serialize_entry("aud", one)?,
            Some(many) => map.serialize_entry("aud", many)?,
            None => {}
        }
        if let Some(iss) = &self.iss {
            map.serialize_entry("iss", iss)?;
        }
        map.end()
    }
}

/// The type a claim should have.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Text,
    /// RFC 7519's NumericDate: an integer or a finite float (truncated to whole seconds, as
    /// PyJWT's `int(value)` does) between the years 1 and 9999.
    Time,
    Audience,
    /// A non-empty string, or an integer.
    UserId,
}

/// A claim's value, typed as expected, or not.
enum Scalar {
    Text(String),
    Time(i64),
    Audience(Vec<String>),
    Malformed,
}

struct ScalarSeed(Expect);

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn time(seconds: i64) -> Scalar {
    if (MIN_NUMERIC_DATE..=MAX_NUMERIC_DATE).contains(&seconds) {
        Scalar::Time(seconds)
    } else {
        Scalar::Malformed
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Malformed)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
        Ok(match self.0 {
            Expect::Time => time(value),
            Expect::UserId => Scalar::Text(value.to_string()),
            Expect::Text | Expect::Audience => Scalar::Malformed,
        })
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
        match i64::try_from(value) {
            Ok(value) => self.visit_i64(value),
            Err(_) => Ok(Scalar::Malformed),
        }
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
        let whole = value.is_finite() && value.abs() <= MAX_NUMERIC_DATE as f64 + 1.0;
        Ok(match self.0 {
            Expect::Time if whole => time(value.trunc() as i64),
            _ => Scalar::Malformed,
        })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
        Ok(match self.0 {
            Expect::Text => Scalar::Text(value.to_owned()),
            Expect::UserId if !value.is_empty() => Scalar::Text(value.to_owned()),
            Expect::Audience => Scalar::Audience(vec![value.to_owned()]),
            Expect::UserId | Expect::Time => Scalar::Malformed,
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Malformed)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Malformed)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        let mut audience = matches!(self.0, Expect::Audience).then(Vec::new);
        while let Some(item) = seq.next_element_seed(ScalarSeed(Expect::Text))? {
            match (&mut audience, item) {
                (Some(audience), Scalar::Text(text)) => audience.push(text),
                _ => audience = None,
            }
        }
        Ok(audience.map_or(Scalar::Malformed, Scalar::Audience))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn read(payload: Value) -> Claims<Value> {
        serde_json::from_value(payload).unwrap()
    }

    #[test]
    fn a_token_of_this_server_reads_claim_for_claim() {
        let claims = read(
            json!({"token_type": "access", "exp": 2, "iat": 1, "jti": "ab",
                                 "user_id": "7", "family_id": "f", "aud": "students",
                                 "iss": "me", "colour": "teal"}),
        );
        assert_eq!(claims.token_type, Some(TokenType::Access));
        assert_eq!(
            (claims.exp, claims.iat, claims.nbf),
            (Some(2), Some(1), None)
        );
        assert_eq!(claims.jti.as_deref(), Some("ab"));
        assert_eq!(claims.family_id.as_deref(), Some("f"));
        assert_eq!(claims.aud, Some(vec!["students".to_owned()]));
        assert_eq!(claims.iss.as_deref(), Some("me"));
        assert_eq!(claims.user_id("user_id"), Some(UserId::Id("7".into())));
        assert_eq!(claims.get("colour"), Some(&json!("teal")));
    }

    #[test]
    fn claims_write_in_simplejwts_order_and_other_claims_as_they_came() {
        let mut claims = read(
            json!({"token_type": "access", "exp": 2, "iat": 1, "jti": "ab",
                                     "user_id": "7", "hash_password": "h", "family_id": "f"}),
        );
        claims.aud = Some(vec!["students".into()]);
        claims.iss = Some("me".into());
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"token_type":"access","exp":2,"iat":1,"jti":"ab","user_id":"7","hash_password":"h","family_id":"f","aud":"students","iss":"me"}"#
        );
    }

    #[test]
    fn a_numeric_date_is_an_integer_or_a_finite_float_within_the_year_9999() {
        for (exp, read_as) in [
            (json!(1_800_000_000), Some(1_800_000_000)),
            (json!(1_800_000_000.9), Some(1_800_000_000)),
            (json!(MAX_NUMERIC_DATE), Some(MAX_NUMERIC_DATE)),
            (json!(MIN_NUMERIC_DATE), Some(MIN_NUMERIC_DATE)),
            (json!(MAX_NUMERIC_DATE + 1), None),
            (json!(1e300), None),
            (json!(u64::MAX), None),
            (json!("1800000000"), None),
            (json!(true), None),
            (json!(null), None),
            (json!([1]), None),
            (json!({"at": 1}), None),
        ] {
            let claims = read(json!({ "exp": exp }));
            assert_eq!(claims.exp, read_as, "exp {exp}");
            assert_eq!(
                claims.is_malformed(Registered::Exp),
                read_as.is_none(),
                "{exp}"
            );
        }
    }

    #[test]
    fn a_jti_sub_or_family_that_is_not_a_string_is_malformed() {
        for value in [
            json!(42),
            json!(["a"]),
            json!({"id": 1}),
            json!(null),
            json!(true),
        ] {
            let claims = read(json!({"jti": value, "sub": value, "family_id": value}));
            assert_eq!(claims.jti, None);
            for claim in [Registered::Jti, Registered::Sub, Registered::FamilyId] {
                assert!(claims.is_malformed(claim), "{claim:?}: {value}");
            }
        }
    }

    #[test]
    fn an_audience_is_a_string_or_an_array_of_strings() {
        assert_eq!(
            read(json!({"aud": ["a", "b"]})).aud,
            Some(vec!["a".into(), "b".into()])
        );
        for aud in [json!(["a", 1]), json!(7), json!({"a": "b"})] {
            assert!(
                read(json!({ "aud": aud })).is_malformed(Registered::Aud),
                "{aud}"
            );
        }
    }

    #[test]
    fn an_unknown_token_type_is_malformed() {
        for kind in [json!("id"), json!(1), json!("Access")] {
            let claims = read(json!({ "token_type": kind }));
            assert_eq!(claims.token_type, None);
            assert!(claims.is_malformed(Registered::TokenType), "{kind}");
        }
    }

    #[test]
    fn a_user_id_is_a_non_empty_string_or_an_integer() {
        for (value, id) in [
            (json!("7"), UserId::Id("7".into())),
            (json!(7), UserId::Id("7".into())),
            (json!("ada"), UserId::Id("ada".into())),
            (json!("01"), UserId::Id("1".into())),
            (json!(" +1 "), UserId::Id("1".into())),
            (json!("-0"), UserId::Id("0".into())),
            (json!("1 2"), UserId::Id("1 2".into())),
            (json!(""), UserId::Unusable),
            (json!(7.5), UserId::Unusable),
            (json!(true), UserId::Unusable),
            (json!(["7"]), UserId::Unusable),
        ] {
            let claims = read(json!({ "uid": value }));
            assert_eq!(claims.user_id("uid"), Some(id), "{value}");
        }
        assert_eq!(read(json!({})).user_id("user_id"), None);
    }

    #[test]
    fn the_user_id_may_live_in_sub() {
        assert_eq!(
            read(json!({"sub": "7"})).user_id("sub"),
            Some(UserId::Id("7".into()))
        );
        assert_eq!(
            read(json!({"sub": 7})).user_id("sub"),
            Some(UserId::Unusable)
        );
    }

    #[test]
    fn a_token_made_from_another_carries_all_but_simplejwts_no_copy_claims_and_aud_and_iss() {
        let claims = read(
            json!({"token_type": "refresh", "exp": 2, "iat": 1, "jti": "ab",
                                 "nbf": 1, "sub": "s", "user_id": "7", "family_id": "f",
                                 "aud": "students", "iss": "me", "colour": "teal"}),
        );
        assert_eq!(
            serde_json::to_value(claims.carried()).unwrap(),
            json!({"nbf": 1, "sub": "s", "user_id": "7", "colour": "teal", "family_id": "f"})
        );
    }

    #[test]
    fn a_user_id_is_written_where_it_is_read() {
        for claim in ["user_id", "uid", "sub"] {
            let mut claims = Claims::<Value>::default();
            claims.set_user_id(claim, "7".into());
            assert_eq!(
                claims.user_id(claim),
                Some(UserId::Id("7".into())),
                "{claim}"
            );
        }
    }

    #[test]
    fn a_repeated_claim_keeps_its_last_value_as_json_readers_do() {
        let claims: Claims<Value> =
            serde_json::from_str(r#"{"jti": 1, "jti": "b", "x": 1, "x": 2}"#).unwrap();
        assert_eq!(claims.jti.as_deref(), Some("b"));
        assert!(!claims.is_malformed(Registered::Jti));
        assert_eq!(claims.other, [("x".to_owned(), json!(2))]);
        let claims: Claims<Value> = serde_json::from_str(r#"{"exp": 1, "exp": "1"}"#).unwrap();
        assert_eq!(claims.exp, None);
        assert!(claims.is_malformed(Registered::Exp));
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_not_claims() {
        for payload in ["[1]", "1", "\"a\"", "null"] {
            assert!(
                serde_json::from_str::<Claims<Value>>(payload).is_err(),
                "{payload}"
            );
        }
    }
}
