//! Hostile bytes against the token's contract: any text as a token's parts, any bytes or any
//! JSON as its header and claims. Each property holds for every input: no panic, and one of the
//! contract's answers.
//!
//! Each property tries `PROPTEST_CASES` inputs (256 unless set); the long run is
//! `PROPTEST_CASES=1000000 cargo test --release -p claims --test hostile_bytes`.

use claims::compact::{self, Malformed};
use claims::{Claims, Header, Rules, TokenType};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::Value;

/// A JSON value of the kinds a claim may hold, the awkward ones included: integers at both
/// ends, floats, strings, nesting.
fn claim_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    scalar.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::from),
            btree_map(".{0,4}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// A claims object: the registered names (and a few others) with any values.
fn claims_object() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        Just("exp".to_owned()),
        Just("nbf".to_owned()),
        Just("iat".to_owned()),
        Just("jti".to_owned()),
        Just("token_type".to_owned()),
        Just("user_id".to_owned()),
        Just("iss".to_owned()),
        Just("aud".to_owned()),
        Just("family_id".to_owned()),
        ".{0,6}",
    ];
    btree_map(name, claim_value(), 0..9).prop_map(|map| Value::Object(map.into_iter().collect()))
}

fn rules(leeway: i64) -> Rules {
    Rules {
        algorithm: "HS256".to_owned(),
        leeway,
        issuer: Some("issuer".to_owned()),
        audience: Some("audience".to_owned()),
    }
}

proptest! {
    #[test]
    fn base64url_decodes_any_text_or_refuses_it_and_accepts_one_spelling_only(text in ".*") {
        if let Some(bytes) = compact::decode(&text) {
            prop_assert_eq!(compact::encode(&bytes), text);
        }
    }

    #[test]
    fn any_bytes_encode_to_base64url_and_decode_back(bytes in vec(any::<u8>(), 0..512)) {
        prop_assert_eq!(compact::decode(&compact::encode(&bytes)), Some(bytes));
    }

    #[test]
    fn any_text_splits_into_three_parts_or_is_refused_as_malformed(
        text in prop_oneof![".*", "[A-Za-z0-9_=. -]{0,40}"]
    ) {
        let parts = text.trim().split('.').count();
        match compact::split(&text) {
            Ok(split) => {
                prop_assert_eq!(parts, 3);
                prop_assert_eq!(format!("{}.{}", split.signing_input, split.signature), text.trim());
            }
            Err(Malformed::Parts(counted)) => prop_assert_eq!(counted, parts),
            Err(Malformed::NotBase64url(_)) => prop_assert_eq!(parts, 3),
        }
    }

    #[test]
    fn any_bytes_as_a_header_or_claims_are_read_or_refused(bytes in vec(any::<u8>(), 0..256)) {
        let header = serde_json::from_slice::<Header>(&bytes);
        let claims = serde_json::from_slice::<Claims<Value>>(&bytes);
        if let (Ok(header), Ok(claims)) = (header, claims) {
            let _ = rules(0).violations(&header, &claims, 1_800_000_000);
        }
    }

    #[test]
    fn any_claims_get_the_contracts_answer_at_any_time(
        claims in claims_object(),
        now in any::<i64>(),
        leeway in 0i64..=86_400,
        alg in prop_oneof![
            Just("HS256".to_owned()),
            Just("none".to_owned()),
            Just("RS256".to_owned()),
            ".{0,5}",
        ],
    ) {
        let header: Header = serde_json::from_value(serde_json::json!({"alg": alg})).unwrap();
        let Ok(claims) = serde_json::from_value::<Claims<Value>>(claims) else {
            return Ok(());
        };
        let rules = rules(leeway);
        let violations = rules.violations(&header, &claims, now);
        prop_assert_eq!(rules.check(&header, &claims, now).is_ok(), violations.is_empty());
        for violation in violations.iter().chain(&rules.time_violations(&claims, now)) {
            let _ = violation.refusal();
        }
        for expected in [None, Some(TokenType::Access), Some(TokenType::Refresh)] {
            let verified = claims.verify(expected);
            prop_assert_eq!(verified.is_ok(), claims.verify_violations(expected).is_empty());
        }
        let _ = claims.user_id("user_id");
    }
}
