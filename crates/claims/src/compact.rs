//! The compact serialization of a JWS (RFC 7515 §7.1): `header.payload.signature`, each part
//! base64url without padding (RFC 7515 §2). Taking a token apart is part of the contract: a
//! padded part, a fourth part or a stray character is refused by every reader alike.

/// Which part of a token something is wrong with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The first part, the JOSE header.
    Header,
    /// The second part, the claims.
    Payload,
    /// The third part, the signature.
    Signature,
}

impl Part {
    /// "header", "payload" or "signature".
    pub fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

/// Why text is not a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not three parts: how many there are.
    Parts(usize),
    /// A part is not base64url without padding.
    NotBase64url(Part),
}

/// A token taken apart: the decoded header and payload bytes, and what the signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compact<'a> {
    /// The JSON of the header.
    pub header: Vec<u8>,
    /// The JSON of the claims.
    pub payload: Vec<u8>,
    /// `header.payload` as written: the bytes the signature was made over.
    pub signing_input: &'a str,
    /// The signature part, still base64url-encoded.
    pub signature: &'a str,
}

/// Takes `token` (surrounding whitespace ignored) apart into its three parts.
pub fn split(token: &str) -> Result<Compact<'_>, Malformed> {
    let token = token.trim();
    let count = token.split('.').count();
    let (Some((signing_input, signature)), 3) = (token.rsplit_once('.'), count) else {
        return Err(Malformed::Parts(count));
    };
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(Malformed::Parts(count))?;
    let header = decode(header).ok_or(Malformed::NotBase64url(Part::Header))?;
    let payload = decode(payload).ok_or(Malformed::NotBase64url(Part::Payload))?;
    if decode(signature).is_none() {
        return Err(Malformed::NotBase64url(Part::Signature));
    }
    Ok(Compact {
        header,
        payload,
        signing_input,
        signature,
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The value of one base64url character.
fn sextet(byte: u8) -> Option<u32> {
    Some(match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    } as u32)
}

/// Base64url without padding, strictly: no `=`, no other alphabet, no length that cannot be
/// whole bytes, and no stray bits in the last character (each byte string has one encoding).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut group = 0u32;
        for (index, &byte) in chunk.iter().enumerate() {
            group |= sextet(byte)? << (18 - 6 * index);
        }
        let whole = [0, 0, 1, 2, 3][chunk.len()];
        let stray = match chunk.len() {
            2 => group & 0xFFFF,
            3 => group & 0xFF,
            _ => 0,
        };
        if stray != 0 {
            return None;
        }
        out.extend_from_slice(&group.to_be_bytes()[1..=whole]);
    }
    Some(out)
}

/// Base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut group = 0u32;
        for (index, &byte) in chunk.iter().enumerate() {
            group |= u32::from(byte) << (16 - 8 * index);
        }
        for index in 0..=chunk.len() {
            out.push(ALPHABET[((group >> (18 - 6 * index)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_and_decoding_are_rfc_4648_base64url_without_padding() {
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (&[0xfb, 0xff, 0xbf][..], "-_-_"),
        ] {
            assert_eq!(encode(bytes), text);
            assert_eq!(decode(text).as_deref(), Some(bytes));
        }
    }

    #[test]
    fn padding_other_alphabets_and_stray_bits_are_refused() {
        for text in [
            "Zg==", "Zm8=", "Zm9v+", "Zm9v/", "Z", "Zh", "Zm9", "Zm:v", "Zg..",
        ] {
            assert_eq!(decode(text), None, "{text}");
        }
    }

    #[test]
    fn a_token_splits_into_its_decoded_parts_and_signing_input() {
        let token = format!(" {}.{}.sig \n", encode(b"{}"), encode(b"[1]"));
        let parts = split(&token).unwrap();
        assert_eq!(parts.header, b"{}");
        assert_eq!(parts.payload, b"[1]");
        assert_eq!(parts.signing_input, "e30.WzFd");
        assert_eq!(parts.signature, "sig");
    }

    #[test]
    fn anything_but_three_base64url_parts_is_malformed() {
        assert_eq!(split("abc"), Err(Malformed::Parts(1)));
        assert_eq!(split("a.b"), Err(Malformed::Parts(2)));
        assert_eq!(split("e30.e30.x.y"), Err(Malformed::Parts(4)));
        assert_eq!(
            split("e30=.e30.c2ln"),
            Err(Malformed::NotBase64url(Part::Header))
        );
        assert_eq!(
            split("e30.e3*.c2ln"),
            Err(Malformed::NotBase64url(Part::Payload))
        );
        assert_eq!(
            split("e30.e30.c2ln="),
            Err(Malformed::NotBase64url(Part::Signature))
        );
    }
}
