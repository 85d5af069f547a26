//! Reading request bodies the way Django REST Framework's parsers and `CharField` do.
//!
//! [`RequestData`] accepts JSON and form-encoded bodies (a missing body counts as empty), refuses
//! other media types with 415 and bodies over [`MAX_BODY_BYTES`] with 413, and reports malformed
//! JSON with a human message. Fields are then read with [`RequestData::char_field`], which gives
//! DRF's messages for missing, null, blank and non-string values.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload as ActixPayload};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::configuration::MAX_BODY_BYTES;
use crate::error::{ApiError, FieldErrors};

/// The parsed body of a request: field name to JSON value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestData(Map<String, Value>);

/// What a body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaType {
    Json,
    Form,
    /// No `Content-Type`: DRF treats the body as empty.
    Absent,
}

impl RequestData {
    /// Parses `body` sent with `content_type`.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, ApiError> {
        match media_type(content_type)? {
            MediaType::Absent => Ok(Self::default()),
            _ if body.iter().all(u8::is_ascii_whitespace) => Ok(Self::default()),
            MediaType::Json => match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => Ok(Self(map)),
                Ok(other) => Err(ApiError::field(
                    "non_field_errors",
                    format!(
                        "Invalid data. Expected a dictionary, but got {}.",
                        python_type_name(&other)
                    ),
                )),
                Err(error) => Err(ApiError::JsonParse(error.to_string())),
            },
            MediaType::Form => Ok(Self(
                form_urlencoded::parse(body)
                    .map(|(key, value)| (key.into_owned(), Value::String(value.into_owned())))
                    .collect(),
            )),
        }
    }

    /// A DRF `CharField` (with `trim_whitespace`): the trimmed string, or the message saying
    /// why there is none. Numbers are accepted as their text, as DRF does.
    pub fn char_field(&self, name: &str) -> Result<String, &'static str> {
        let text = match self.0.get(name) {
            None => return Err("This field is required."),
            Some(Value::Null) => return Err("This field may not be null."),
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            Some(_) => return Err("Not a valid string."),
        };
        if text.contains('\0') {
            return Err("Null characters are not allowed.");
        }
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("This field may not be blank.");
        }
        Ok(trimmed.to_owned())
    }

    /// Like [`char_field`](Self::char_field) but keeps surrounding whitespace, for new
    /// passwords (which are refused rather than silently changed when they have any).
    pub fn raw_char_field(&self, name: &str) -> Result<String, &'static str> {
        self.char_field(name)?;
        match self.0.get(name) {
            Some(Value::String(text)) => Ok(text.clone()),
            Some(Value::Number(number)) => Ok(number.to_string()),
            _ => Err("This field is required."),
        }
    }
}

/// Collects field errors so that every field is reported at once, as DRF does.
#[derive(Debug, Default)]
pub struct Fields {
    errors: FieldErrors,
}

impl Fields {
    /// Keeps the value, or records the message against `name`.
    pub fn take<T>(&mut self, name: &str, result: Result<T, &'static str>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(name, message);
                None
            }
        }
    }

    /// Records a message against `name`.
    pub fn add(&mut self, name: &str, message: impl Into<String>) {
        match self.errors.iter_mut().find(|(field, _)| field == name) {
            Some((_, messages)) => messages.push(message.into()),
            None => self.errors.push((name.to_owned(), vec![message.into()])),
        }
    }

    /// The 400 for what was recorded.
    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.errors)
    }
}

fn media_type(content_type: Option<&str>) -> Result<MediaType, ApiError> {
    let Some(content_type) = content_type.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(MediaType::Absent);
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(MediaType::Json),
        "application/x-www-form-urlencoded" => Ok(MediaType::Form),
        _ => Err(ApiError::UnsupportedMediaType(content_type.to_owned())),
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
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut ActixPayload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("(not text)").to_owned());
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            // Check the media type before reading, so a wrong type is a 415 whatever its size.
            media_type(content_type.as_deref())?;
            let too_large = ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            };
            if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
                return Err(too_large);
            }
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|_| ApiError::JsonParse("the body could not be read".into()))?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(too_large);
                }
                body.extend_from_slice(&chunk);
            }
            RequestData::parse(content_type.as_deref(), &body)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(body: &str) -> Result<RequestData, ApiError> {
        RequestData::parse(Some("application/json"), body.as_bytes())
    }

    #[test]
    fn char_field_gives_drfs_messages() {
        let data = json(
            r#"{"null": null, "blank": "  ", "list": [], "bool": true, "number": 42, "text": " hi "}"#,
        )
        .unwrap();
        assert_eq!(data.char_field("missing"), Err("This field is required."));
        assert_eq!(data.char_field("null"), Err("This field may not be null."));
        assert_eq!(
            data.char_field("blank"),
            Err("This field may not be blank.")
        );
        assert_eq!(data.char_field("list"), Err("Not a valid string."));
        assert_eq!(data.char_field("bool"), Err("Not a valid string."));
        assert_eq!(data.char_field("number"), Ok("42".into()));
        assert_eq!(data.char_field("text"), Ok("hi".into()));
        assert_eq!(data.raw_char_field("text"), Ok(" hi ".into()));
    }

    #[test]
    fn form_bodies_are_read_and_the_last_repeated_key_wins() {
        let data = RequestData::parse(
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"username=al%20ice&password=a&password=b",
        )
        .unwrap();
        assert_eq!(data.char_field("username"), Ok("al ice".into()));
        assert_eq!(data.char_field("password"), Ok("b".into()));
    }

    #[test]
    fn an_empty_body_or_no_content_type_reads_as_no_fields() {
        assert_eq!(json("").unwrap(), RequestData::default());
        assert_eq!(
            RequestData::parse(None, b"{\"username\": \"x\"}").unwrap(),
            RequestData::default()
        );
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
    fn a_json_list_is_not_a_dictionary() {
        let ApiError::Validation(fields) = json("[1, 2]").unwrap_err() else {
            panic!("expected a validation error");
        };
        assert_eq!(
            fields,
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
