//! The API's JSON bytes as Rails, which serves the real API, writes them: compact, with `<`,
//! `>`, `&`, U+2028 and U+2029 inside strings escaped as `\u003c`, `\u003e`, `\u0026`,
//! `\u2028`, `\u2029` (ActiveSupport's encoder, whose `escape_html_entities_in_json` Rails
//! turns on). Every document the API shows and every callback and webhook body goes through
//! here, so a receiver that verifies the signature over `parsed.to_json` in Rails gets the very
//! bytes that were signed (docs/fidelity.md). Outside strings compact JSON holds none of these
//! characters, so escaping the whole text escapes exactly the strings, metadata's raw JSON
//! included.

use serde::Serialize;

/// `value` as the API's JSON bytes.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Wire types and JSON values have string keys only: serialising cannot fail.
    escape(serde_json::to_vec(value).expect("wire types always serialise"))
}

/// [`to_vec`] as text.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // Escaping replaces ASCII characters and whole 3-byte sequences with ASCII: still UTF-8.
    String::from_utf8(to_vec(value)).expect("escaped JSON is UTF-8")
}

/// Whether `json` holds a character Rails escapes. The usual document holds none: two SIMD
/// scans and no copy.
fn needs_escaping(json: &[u8]) -> bool {
    memchr::memchr3(b'<', b'>', b'&', json).is_some()
        || memchr::memchr_iter(0xE2, json).any(|i| line_separator(&json[i..]).is_some())
}

/// At a U+2028 or U+2029 (`E2 80 A8`, `E2 80 A9`): its escape.
fn line_separator(at: &[u8]) -> Option<&'static [u8]> {
    match at {
        [0xE2, 0x80, 0xA8, ..] => Some(b"\\u2028"),
        [0xE2, 0x80, 0xA9, ..] => Some(b"\\u2029"),
        _ => None,
    }
}

fn escape(json: Vec<u8>) -> Vec<u8> {
    if !needs_escaping(&json) {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 32);
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        let escaped: Option<&[u8]> = match byte {
            b'<' => Some(b"\\u003c"),
            b'>' => Some(b"\\u003e"),
            b'&' => Some(b"\\u0026"),
            0xE2 => line_separator(&json[i..]),
            _ => None,
        };
        match escaped {
            Some(escape) => {
                out.extend_from_slice(escape);
                // A line separator is three bytes.
                i += if byte == 0xE2 { 3 } else { 1 };
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn rails_escapes_are_written_and_everything_else_is_left_as_serde_writes_it() {
        let value =
            json!({"note": "Fish & chips <b>\u{2028}\u{2029}", "city": "Nairobi €", "n": 1});
        assert_eq!(
            super::to_string(&value),
            r#"{"note":"Fish \u0026 chips \u003cb\u003e\u2028\u2029","city":"Nairobi €","n":1}"#
        );
        // Read back, the same values.
        let back: serde_json::Value = serde_json::from_slice(&super::to_vec(&value)).expect("JSON");
        assert_eq!(back, value);
        // Nothing to escape: the bytes serde wrote.
        let plain = json!({"a": "b\n\"c\"", "e": "\u{2027}"});
        assert_eq!(
            super::to_vec(&plain),
            serde_json::to_vec(&plain).expect("JSON")
        );
    }
}
