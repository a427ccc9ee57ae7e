//! Kenyan mobile numbers. Accepted as `+254712345678`, `254712345678`, `0712345678` or
//! `712345678` (the SDKs' examples use all of these); held and rendered as `+254712345678`,
//! the form the reference's results show.

use std::fmt;

use super::Invalid;

/// Held as its 13 bytes, `+254` and nine digits: no allocation, and copied freely.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneNumber([u8; 13]);

impl PhoneNumber {
    pub fn parse(value: Option<&str>) -> Result<Self, Invalid> {
        let malformed = || {
            Invalid::expected(
                "Phone number",
                "use a Kenyan number as +254712345678, 254712345678 or 0712345678",
            )
        };
        let raw: String = match value.map(str::trim) {
            None | Some("") => return Err(Invalid::blank("Phone number")),
            Some(v) => v.chars().filter(|c| !matches!(c, ' ' | '-')).collect(),
        };
        let digits = raw.strip_prefix('+').unwrap_or(&raw);
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(malformed());
        }
        let subscriber = match digits.len() {
            12 if digits.starts_with("254") => &digits[3..],
            10 if digits.starts_with('0') => &digits[1..],
            9 if !raw.starts_with('+') => digits,
            _ => return Err(malformed()),
        };
        // Any nine subscriber digits: the reference's own examples use +254999999999.
        let mut held = *b"+254000000000";
        held[4..].copy_from_slice(subscriber.as_bytes());
        Ok(Self(held))
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: `parse` writes only `+` and digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_normalises_to_plus_254() {
        for input in [
            "+254712345678",
            "254712345678",
            "0712345678",
            "712345678",
            "+254 712 345 678",
        ] {
            assert_eq!(
                PhoneNumber::parse(Some(input)).map(|p| p.to_string()),
                Ok("+254712345678".to_string()),
                "{input}"
            );
        }
        assert_eq!(
            PhoneNumber::parse(Some("+254999999999")).map(|p| p.to_string()),
            Ok("+254999999999".to_string())
        );
    }

    #[test]
    fn rejects_blank_and_malformed_numbers() {
        assert_eq!(
            PhoneNumber::parse(None),
            Err(Invalid::blank("Phone number"))
        );
        for bad in ["abc", "+25471234567", "12345", "+1 555 0100"] {
            assert_eq!(
                PhoneNumber::parse(Some(bad)),
                Err(Invalid::expected(
                    "Phone number",
                    "use a Kenyan number as +254712345678, 254712345678 or 0712345678"
                )),
                "{bad}"
            );
        }
    }
}
