//! How long a text field of a request may be, like a real payments API: every string at most
//! [`MAX_TEXT_CHARS`] characters, free text [`MAX_FREE_TEXT_CHARS`], URLs [`MAX_URL_CHARS`],
//! and metadata keys [`MAX_KEY_CHARS`]. Checked once, on the whole request body, before the
//! body is read into its request type, so no endpoint can forget a field.

use serde_json::Value;

use super::Invalid;
use super::interned::Interned;

/// Names, references, numbers, codes: any text field not listed below.
pub const MAX_TEXT_CHARS: usize = 255;
/// `description`, `message`, `note` and `notes`.
pub const MAX_FREE_TEXT_CHARS: usize = 1000;
/// `callback_url` and `url`.
pub const MAX_URL_CHARS: usize = 2048;
/// Any object key, metadata's included.
pub const MAX_KEY_CHARS: usize = 64;

/// The most characters the field named `key` may hold.
pub fn max_chars(key: &str) -> usize {
    match key {
        "callback_url" | "url" => MAX_URL_CHARS,
        "description" | "message" | "note" | "notes" => MAX_FREE_TEXT_CHARS,
        _ => MAX_TEXT_CHARS,
    }
}

/// Whether any string or key of the JSON text `body` is long enough that [`check`] could
/// refuse it: a string over [`MAX_TEXT_CHARS`] bytes or a key over [`MAX_KEY_CHARS`] bytes, as
/// written (an escape only makes the text longer than what it stands for). One pass over the
/// bytes; when false, the body needs no tree to be checked.
pub fn may_exceed(body: &[u8]) -> bool {
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < body.len() && body[end] != b'"' {
            end += if body[end] == b'\\' { 2 } else { 1 };
        }
        let len = end.min(body.len()) - start;
        let mut next = end + 1;
        while next < body.len() && body[next].is_ascii_whitespace() {
            next += 1;
        }
        let key = body.get(next) == Some(&b':');
        if len > if key { MAX_KEY_CHARS } else { MAX_TEXT_CHARS } {
            return true;
        }
        i = end + 1;
    }
    false
}

/// Checks every string and key in `body`; the first one too long is named by its path
/// (`subscriber.first_name`, `destinations[2].nickname`).
pub fn check(body: &Value) -> Result<(), Invalid> {
    check_at(body, &mut String::new(), "")
}

fn check_at(value: &Value, path: &mut String, key: &str) -> Result<(), Invalid> {
    match value {
        Value::String(text) => {
            let max = max_chars(key);
            if longer_than(text, max) {
                return Err(Invalid(format!(
                    "{path} is too long: at most {max} characters"
                )));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_at(item, path, key)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if longer_than(k, MAX_KEY_CHARS) {
                    return Err(Invalid(format!(
                        "The key {path} is too long: at most {MAX_KEY_CHARS} characters"
                    )));
                }
                check_at(v, path, k)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

/// Whether `text` has more than `max` characters. Bytes bound characters from above, so
/// only a text longer in bytes is counted.
pub fn longer_than(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

/// A callback or webhook URL: http or https with a host, no credentials, and no control
/// characters (a URL parser drops CR, LF and tab silently, so the URL called would differ
/// from the one logged).
pub fn check_url(text: &str, field: &str) -> Result<(), Invalid> {
    // A URL checked before passes again (an application sends the same one or two with
    // every request; parsing one costs about 5,500 instructions).
    static PASSED: Interned<Box<str>, 64> = Interned::new();
    if PASSED.contains(&text, |u| **u == *text) {
        return Ok(());
    }
    if text.chars().any(char::is_control) {
        return Err(Invalid(format!(
            "{field} is invalid: it contains a control character (CR, LF or tab)"
        )));
    }
    let url = url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| Invalid::malformed(field))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid(format!(
            "{field} is invalid: it must not carry a user name or password"
        )));
    }
    PASSED.get(&text, |u| **u == *text, || text.into());
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_long_strings_or_keys_need_the_full_check() {
        let short = br#"{"a": "b", "k": ["x", 1, {"n": "\"quoted\""}]}"#;
        assert!(!may_exceed(short));
        let long_value = format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_TEXT_CHARS + 1));
        assert!(may_exceed(long_value.as_bytes()));
        let long_key = format!(r#"{{"{}" : 1}}"#, "k".repeat(MAX_KEY_CHARS + 1));
        assert!(may_exceed(long_key.as_bytes()));
        // A value as long as a long key is fine; escaped quotes do not end a string.
        let value = format!(r#"{{"a": "{}"}}"#, "v".repeat(MAX_KEY_CHARS + 1));
        assert!(!may_exceed(value.as_bytes()));
        let escaped = format!(r#"{{"a": "{}"}}"#, "\\\"".repeat(MAX_TEXT_CHARS));
        assert!(may_exceed(escaped.as_bytes()));
        // What `check` refuses, the scan flags.
        for body in [long_value, long_key] {
            let value: Value = serde_json::from_str(&body).expect("json");
            assert!(check(&value).is_err());
        }
    }

    #[test]
    fn the_first_field_too_long_is_named_by_its_path() {
        let ok = json!({"subscriber": {"first_name": "x".repeat(255)}, "notes": "n".repeat(1000)});
        assert_eq!(check(&ok), Ok(()));
        let long = json!({"subscriber": {"first_name": "x".repeat(256)}});
        assert_eq!(
            check(&long),
            Err(Invalid(
                "subscriber.first_name is too long: at most 255 characters".into()
            ))
        );
        let nested = json!({"destinations": [{}, {"nickname": "é".repeat(256)}]});
        assert_eq!(
            check(&nested).map_err(|e| e.0),
            Err("destinations[1].nickname is too long: at most 255 characters".into())
        );
        // Characters, not bytes.
        assert_eq!(check(&json!({"name": "é".repeat(255)})), Ok(()));
        let url =
            json!({"_links": {"callback_url": format!("https://x.test/{}", "a".repeat(2100))}});
        assert!(check(&url).is_err());
        let key = json!({"metadata": {"k".repeat(65): 1}});
        assert!(check(&key).is_err_and(|e| e.0.starts_with("The key metadata.kkk")));
    }

    #[test]
    fn urls_with_credentials_or_line_breaks_are_refused() {
        assert!(check_url("https://example.com/cb", "Callback url").is_ok());
        for bad in [
            "https://example.com/cb\r\nX-Injected: 1",
            "https://exam\nple.com/cb",
            "https://user:secret@example.com/cb",
            "https://user@example.com/cb",
            "ftp://example.com/cb",
            "not a url",
        ] {
            assert!(check_url(bad, "Callback url").is_err(), "{bad:?}");
            // Refused again: only a URL that passed is remembered.
            assert!(check_url(bad, "Callback url").is_err(), "{bad:?}");
        }
        // Remembered once it passed.
        assert!(check_url("https://example.com/cb", "Callback url").is_ok());
    }
}
