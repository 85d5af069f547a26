//! Reading a note: the body is read by `apikit::RequestData`, as the auth server reads its
//! own (JSON or a form, at most `apikit::input::MAX_BODY_BYTES`, DRF's `CharField` rules and
//! messages: trimmed, not blank, no null characters); a note is at most [`NOTE_MAX_CHARS`]
//! characters.

use apikit::input::field_error;
use apikit::{HttpError, RequestData};
use claims::{NOTE_MAX_CHARS, NewNote};

/// The `text` of a new note, from the request's body.
pub fn new_note_text(data: &RequestData) -> Result<String, HttpError> {
    let NewNote { text } = data.read()?;
    if text.chars().count() > NOTE_MAX_CHARS {
        return Err(field_error(
            "text",
            format!("Ensure this field has no more than {NOTE_MAX_CHARS} characters."),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn text(body: Value) -> Result<String, HttpError> {
        let body = serde_json::to_vec(&body).unwrap();
        new_note_text(&RequestData::parse(Some("application/json"), &body).unwrap())
    }

    fn message(result: Result<String, HttpError>) -> Vec<String> {
        match result {
            Err(HttpError::Invalid(fields)) => fields[0].1.clone(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn text_follows_drf_char_field_rules() {
        assert_eq!(text(json!({"text": "  buy milk "})).unwrap(), "buy milk");
        assert_eq!(text(json!({"text": 42})).unwrap(), "42");
        assert_eq!(message(text(json!({}))), ["This field is required."]);
        assert_eq!(
            message(text(json!({"text": null}))),
            ["This field may not be null."]
        );
        assert_eq!(
            message(text(json!({"text": "   "}))),
            ["This field may not be blank."]
        );
        assert_eq!(
            message(text(json!({"text": ["a"]}))),
            ["Not a valid string."]
        );
        assert_eq!(
            message(text(json!({"text": "a\u{0}b"}))),
            ["Null characters are not allowed."]
        );
    }

    #[test]
    fn a_note_is_at_most_1000_characters() {
        assert_eq!(
            message(text(json!({"text": "x".repeat(1001)}))),
            ["Ensure this field has no more than 1000 characters."]
        );
        assert_eq!(
            text(json!({"text": "é".repeat(1000)}))
                .unwrap()
                .chars()
                .count(),
            1000
        );
    }
}
