//! Reading a note from a request body: JSON only, at most [`MAX_BODY_BYTES`], with DRF's
//! `CharField` rules and messages for `text`.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use claims::NOTE_MAX_CHARS;
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::NotesError;

/// The largest body read, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Reads the body, refusing it as soon as it grows past [`MAX_BODY_BYTES`].
pub async fn read_body(mut payload: web::Payload) -> Result<BytesMut, NotesError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| NotesError::JsonParse("the body could not be read".into()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(NotesError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The `text` of a new note, from a JSON body.
pub fn new_note_text(req: &HttpRequest, body: &[u8]) -> Result<String, NotesError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(NotesError::UnsupportedMediaType(content_type.to_owned()));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| NotesError::JsonParse(e.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(field_error(
            "non_field_errors",
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                type_name(&value)
            ),
        ));
    };
    text_field(fields.get("text"))
}

/// DRF's `CharField(max_length=1000)`: numbers become text, surrounding whitespace is trimmed.
pub fn text_field(value: Option<&Value>) -> Result<String, NotesError> {
    let text = match value {
        None => return Err(field_error("text", "This field is required.")),
        Some(Value::Null) => return Err(field_error("text", "This field may not be null.")),
        Some(Value::String(text)) => text.trim().to_owned(),
        Some(Value::Number(number)) => number.to_string(),
        Some(_) => return Err(field_error("text", "Not a valid string.")),
    };
    if text.is_empty() {
        return Err(field_error("text", "This field may not be blank."));
    }
    if text.chars().count() > NOTE_MAX_CHARS {
        return Err(field_error(
            "text",
            format!("Ensure this field has no more than {NOTE_MAX_CHARS} characters."),
        ));
    }
    Ok(text)
}

fn field_error(field: &str, message: impl Into<String>) -> NotesError {
    NotesError::Invalid(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
}

/// Python's name for the JSON value's type, as DRF's message says it.
fn type_name(value: &Value) -> &'static str {
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(result: Result<String, NotesError>) -> Vec<String> {
        match result {
            Err(NotesError::Invalid(fields)) => fields["text"].clone(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn text_follows_drf_char_field_rules() {
        assert_eq!(text_field(Some(&json!("  buy milk "))).unwrap(), "buy milk");
        assert_eq!(text_field(Some(&json!(42))).unwrap(), "42");
        assert_eq!(message(text_field(None)), ["This field is required."]);
        assert_eq!(
            message(text_field(Some(&json!(null)))),
            ["This field may not be null."]
        );
        assert_eq!(
            message(text_field(Some(&json!("   ")))),
            ["This field may not be blank."]
        );
        assert_eq!(
            message(text_field(Some(&json!(["a"])))),
            ["Not a valid string."]
        );
        assert_eq!(
            message(text_field(Some(&json!("x".repeat(1001))))),
            ["Ensure this field has no more than 1000 characters."]
        );
        assert_eq!(
            text_field(Some(&json!("é".repeat(1000))))
                .unwrap()
                .chars()
                .count(),
            1000
        );
    }
}
