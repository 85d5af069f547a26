//! Reading request bodies the way Django REST Framework's parsers and serializers do.
//!
//! [`RequestData`] accepts JSON and form-encoded bodies (an empty body counts as no fields),
//! refuses other media types (and a body with no `Content-Type` at all) with 415 and bodies over
//! [`MAX_BODY_BYTES`] with 413, and reports malformed JSON with a human message.
//!
//! It is then read into one of the `claims` crate's request types ([`RequestData::read`]), the
//! same types the frontend sends, so each field name is written once. The auth server and the
//! notes service read every body with it, so both refuse the same bodies alike. Every field of those types
//! is a DRF `CharField`: missing, null, blank and non-string values get DRF's messages, all
//! fields are reported at once, and surrounding whitespace is trimmed.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures_util::{Stream, StreamExt};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use serde_json::{Map, Value};

use crate::error::{FieldErrors, HttpError};

/// The largest request body a service reads, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The parsed body of a request: field name to JSON value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestData(Map<String, Value>);

/// What a body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    Json,
    Form,
}

impl RequestData {
    /// Parses `body` sent with `content_type`. An empty body is no fields whatever its type, as
    /// in DRF; a body needs a type DRF parses.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, HttpError> {
        if body.is_empty() {
            return Ok(Self::default());
        }
        match media_type(content_type)? {
            MediaType::Json => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(Self(map)),
                Ok(Value::Null) => Err(field_error("non_field_errors", "No data provided")),
                Ok(other) => Err(field_error(
                    "non_field_errors",
                    format!(
                        "Invalid data. Expected a dictionary, but got {}.",
                        python_type_name(&other)
                    ),
                )),
                Err(error) => Err(HttpError::JsonParse(error.to_string())),
            },
            MediaType::Form => Ok(Self(
                form_urlencoded::parse(body)
                    .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
                    .collect(),
            )),
        }
    }

    /// The body as a request type whose fields are all strings, each read as a DRF `CharField`
    /// (trimmed).
    pub fn read<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        self.read_keeping_whitespace(&[])
    }

    /// Like [`read`](Self::read), but the fields named in `untrimmed` keep their surrounding
    /// whitespace: new passwords, which are refused rather than silently changed when they
    /// have any (Django's `strip=False`).
    pub fn read_keeping_whitespace<T: DeserializeOwned>(
        &self,
        untrimmed: &[&str],
    ) -> Result<T, HttpError> {
        T::deserialize(CharFields {
            data: &self.0,
            untrimmed,
        })
        .map_err(|error| match error {
            ReadError::Fields(fields) => HttpError::Invalid(fields),
            ReadError::Shape(why) => {
                tracing::error!(%why, "a request type cannot be read from a body");
                HttpError::Internal
            }
        })
    }
}

/// One field's error.
pub fn field_error(field: &str, message: impl Into<String>) -> HttpError {
    HttpError::Invalid(vec![(field.to_owned(), vec![message.into()])])
}

/// Reads a body to its end, refusing it as soon as it grows past `limit` bytes.
pub async fn read_limited<E>(
    mut body: impl Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    limit: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut read = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| HttpError::JsonParse("the body could not be read".into()))?;
        if read.len() + chunk.len() > limit {
            return Err(HttpError::PayloadTooLarge { limit });
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read)
}

/// The names of a request type's fields, in their order, as serde sees them (for the
/// metadata an `OPTIONS` request answers).
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(FieldNames) {
        Err(FoundNames(names)) => names,
        Ok(_) => &[],
    }
}

/// DRF's `CharField` (with `trim_whitespace` when `trim`): the string, or why there is none.
/// Numbers are accepted as their text, as DRF does.
fn char_field(data: &Map<String, Value>, name: &str, trim: bool) -> Result<String, &'static str> {
    let text = match data.get(name) {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(_) => return Err("Not a valid string."),
    };
    if text.contains('\0') {
        return Err("Null characters are not allowed.");
    }
    if text.trim().is_empty() {
        return Err("This field may not be blank.");
    }
    Ok(if trim { text.trim().to_owned() } else { text })
}

/// Why a body could not be read into a request type.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    /// Fields failed DRF's checks.
    #[error("invalid fields")]
    Fields(FieldErrors),
    /// The request type is not a struct of string fields (a bug in the type, not the request).
    #[error("cannot read a request into this type: {0}")]
    Shape(String),
}

impl de::Error for ReadError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        Self::Shape(message.to_string())
    }
}

/// A serde deserializer over a parsed body that reads each field of a struct as a `CharField`.
struct CharFields<'a> {
    data: &'a Map<String, Value>,
    untrimmed: &'a [&'a str],
}

impl<'de> Deserializer<'de> for CharFields<'_> {
    type Error = ReadError;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ReadError> {
        let mut errors: FieldErrors = Vec::new();
        let mut values = Vec::new();
        for &field in fields {
            match char_field(self.data, field, !self.untrimmed.contains(&field)) {
                Ok(value) => values.push((field, value)),
                Err(message) => errors.push((field.to_owned(), vec![message.to_owned()])),
            }
        }
        if !errors.is_empty() {
            return Err(ReadError::Fields(errors));
        }
        visitor.visit_map(de::value::MapDeserializer::new(
            values
                .into_iter()
                .map(|(field, value)| (field, value.into_deserializer())),
        ))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ReadError> {
        Err(ReadError::Shape("request types are structs".to_owned()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A deserializer that only learns the field names of the struct asked for, and hands them
/// back as its "error".
struct FieldNames;

#[derive(Debug, thiserror::Error)]
#[error("the field names of a request type")]
struct FoundNames(&'static [&'static str]);

impl de::Error for FoundNames {
    fn custom<T: std::fmt::Display>(_message: T) -> Self {
        Self(&[])
    }
}

impl<'de> Deserializer<'de> for FieldNames {
    type Error = FoundNames;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, FoundNames> {
        Err(FoundNames(fields))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FoundNames> {
        Err(FoundNames(&[]))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

fn media_type(content_type: Option<&str>) -> Result<MediaType, HttpError> {
    let content_type = content_type.map(str::trim).unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(MediaType::Json),
        "application/x-www-form-urlencoded" => Ok(MediaType::Form),
        _ => Err(HttpError::UnsupportedMediaType(content_type.to_owned())),
    }
}

fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "list",
        Value::String(_) => "str",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Object(_) => "dict",
    }
}

impl FromRequest for RequestData {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, HttpError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("(not text)").to_owned());
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let payload = payload.take();
        Box::pin(async move {
            // A body announced with its length is judged before it is read: a wrong type is a
            // 415 and an oversized one a 413, whatever it holds.
            if declared_length.is_some_and(|length| length > 0) {
                media_type(content_type.as_deref())?;
            }
            if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
                return Err(HttpError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            let body = read_limited(payload, MAX_BODY_BYTES).await?;
            RequestData::parse(content_type.as_deref(), &body)
        })
    }
}

/// A protected request's user, then its body: DRF authenticates before it reads
/// `request.data`, so a bad body never answers for a missing or refused token. (Two arguments
/// of a handler are extracted side by side: when the user's check waits, on the database or on
/// a key fetch, the body's error would come first.)
pub struct AuthenticatedBody<U>(pub U, pub RequestData);

impl<U> FromRequest for AuthenticatedBody<U>
where
    U: FromRequest + 'static,
    U::Error: Into<actix_web::Error>,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let user = U::extract(&req).await.map_err(Into::into)?;
            let data = RequestData::from_request(&req, &mut payload).await?;
            Ok(Self(user, data))
        })
    }
}

#[cfg(test)]
mod tests {
    use claims::{Credentials, RefreshRequest};

    use super::*;

    fn json(body: &str) -> Result<RequestData, HttpError> {
        RequestData::parse(Some("application/json"), body.as_bytes())
    }

    fn fields_of(error: HttpError) -> FieldErrors {
        match error {
            HttpError::Invalid(fields) => fields,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn char_fields_give_drfs_messages() {
        let data = json(
            r#"{"null": null, "blank": "  ", "list": [], "bool": true, "number": 42, "text": " hi "}"#,
        )
        .unwrap()
        .0;
        let read = |name| char_field(&data, name, true);
        assert_eq!(read("missing"), Err("This field is required."));
        assert_eq!(read("null"), Err("This field may not be null."));
        assert_eq!(read("blank"), Err("This field may not be blank."));
        assert_eq!(read("list"), Err("Not a valid string."));
        assert_eq!(read("bool"), Err("Not a valid string."));
        assert_eq!(read("number"), Ok("42".into()));
        assert_eq!(read("text"), Ok("hi".into()));
        assert_eq!(char_field(&data, "text", false), Ok(" hi ".into()));
    }

    #[test]
    fn a_body_reads_into_a_request_type_of_the_claims_crate() {
        let data = json(r#"{"username": " ada ", "password": " pw ", "extra": 1}"#).unwrap();
        let credentials: Credentials = data.read().unwrap();
        assert_eq!(credentials.username, "ada");
        assert_eq!(credentials.password, "pw");
        let kept: Credentials = data.read_keeping_whitespace(&["password"]).unwrap();
        assert_eq!(kept.password, " pw ");
    }

    #[test]
    fn every_bad_field_is_reported_in_the_types_field_order() {
        let data = json(r#"{"password": null}"#).unwrap();
        let error = data.read::<Credentials>().unwrap_err();
        assert_eq!(
            fields_of(error),
            vec![
                (
                    "username".to_owned(),
                    vec!["This field is required.".to_owned()]
                ),
                (
                    "password".to_owned(),
                    vec!["This field may not be null.".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn field_names_come_from_the_type() {
        assert_eq!(field_names::<Credentials>(), ["username", "password"]);
        assert_eq!(field_names::<RefreshRequest>(), ["refresh"]);
    }

    #[test]
    fn form_bodies_are_read_and_the_last_repeated_key_wins() {
        let data = RequestData::parse(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"username=al%20ice&password=a&password=b",
        )
        .unwrap();
        let credentials: Credentials = data.read().unwrap();
        assert_eq!(credentials.username, "al ice");
        assert_eq!(credentials.password, "b");
    }

    #[test]
    fn an_empty_body_reads_as_no_fields_whatever_its_type() {
        assert_eq!(json("").unwrap(), RequestData::default());
        assert_eq!(
            RequestData::parse(Some("text/plain"), b"").unwrap(),
            RequestData::default()
        );
        assert_eq!(
            RequestData::parse(None, b"").unwrap(),
            RequestData::default()
        );
    }

    #[test]
    fn a_body_without_a_content_type_is_an_unsupported_media_type() {
        let error = RequestData::parse(None, b"{\"username\": \"x\"}").unwrap_err();
        assert_eq!(error.to_string(), "Unsupported media type \"\" in request.");
    }

    #[test]
    fn malformed_json_gives_a_parse_error_with_the_position() {
        let error = json("{\"username\": ").unwrap_err();
        assert_eq!(
            error.to_string(),
            "JSON parse error - EOF while parsing a value at line 1 column 13"
        );
    }

    #[test]
    fn json_null_is_no_data() {
        assert_eq!(
            fields_of(json("null").unwrap_err()),
            vec![(
                "non_field_errors".to_owned(),
                vec!["No data provided".to_owned()]
            )]
        );
    }

    #[test]
    fn a_json_list_is_not_a_dictionary() {
        let error = json("[1, 2]").unwrap_err();
        assert_eq!(
            fields_of(error),
            vec![(
                "non_field_errors".to_owned(),
                vec!["Invalid data. Expected a dictionary, but got list.".to_owned()]
            )]
        );
    }

    #[test]
    fn other_media_types_are_unsupported() {
        let error = RequestData::parse(Some("text/plain"), b"hello").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Unsupported media type \"text/plain\" in request."
        );
    }
}
