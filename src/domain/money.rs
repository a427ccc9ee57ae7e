//! Money: exact decimals (never binary floating point), parsed from a JSON number or a
//! numeric string, since the SDKs send both.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

use super::Invalid;

/// A positive amount with at most two decimal places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(Decimal);

impl Amount {
    /// Parses `amount.value`; `field` names it in the error ("Amount").
    pub fn parse(value: Option<&Value>, field: &str) -> Result<Self, Invalid> {
        const ACCEPTED: &str = "send a number of KES, as a number or a string, greater than 0 \
                                with at most 2 decimal places (100, 99.5 or \"1500.00\")";
        let malformed = || Invalid::expected(field, ACCEPTED);
        let text = match value {
            None | Some(Value::Null) => return Err(Invalid::blank(field)),
            Some(Value::String(s)) if s.trim().is_empty() => return Err(Invalid::blank(field)),
            Some(Value::String(s)) => s.trim().to_string(),
            // serde_json keeps the literal digits of integers; floats print shortest round-trip.
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => return Err(malformed()),
        };
        let decimal = Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| malformed())?
            .normalize();
        if decimal <= Decimal::ZERO {
            return Err(Invalid(format!("{field} must be greater than 0")));
        }
        if decimal.scale() > 2 {
            return Err(Invalid(format!(
                "{field} must have at most 2 decimal places"
            )));
        }
        Ok(Self(decimal))
    }

    /// [`Amount::parse`], for money paid through M-PESA, which moves whole shillings only
    /// (an STK push, a payment link).
    pub fn whole_shillings(value: Option<&Value>, field: &str) -> Result<Self, Invalid> {
        let amount = Self::parse(value, field)?;
        if !amount.0.fract().is_zero() {
            return Err(Invalid(format!(
                "{field} must be a whole number of shillings: M-PESA moves no cents"
            )));
        }
        Ok(amount)
    }

    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// Zero, for balances (never a payment amount).
    pub fn zero() -> Self {
        Self(Decimal::ZERO)
    }

    /// A balance as it stands (zero or more), as an export writes it.
    pub fn balance(balance: Decimal) -> Self {
        Self(balance.max(Decimal::ZERO))
    }
}

/// The reference's rendering: a string with at least one decimal place, `"100.0"`, `"10.5"`.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_amount(self.0))
    }
}

/// Any decimal in the reference's string form (`"100.0"`, `"10.5"`).
pub fn format_amount(d: Decimal) -> String {
    let d = d.normalize();
    if d.scale() == 0 {
        format!("{d}.0")
    } else {
        d.to_string()
    }
}

/// ISO 4217 currency; the API is Kenyan shillings only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    Kes,
}

impl Currency {
    pub fn parse(value: Option<&str>) -> Result<Self, Invalid> {
        match value.map(str::trim) {
            None | Some("") => Err(Invalid::blank("Currency")),
            Some(c) if c.eq_ignore_ascii_case("KES") => Ok(Self::Kes),
            Some(_) => Err(Invalid(
                "Currency is not supported, only KES is accepted".into(),
            )),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Kes => "KES",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn amount(v: Value) -> Result<String, Invalid> {
        Amount::parse(Some(&v), "Amount").map(|a| a.to_string())
    }

    #[test]
    fn renders_like_the_reference() {
        assert_eq!(amount(json!(100)).as_deref(), Ok("100.0"));
        assert_eq!(amount(json!("20000")).as_deref(), Ok("20000.0"));
        assert_eq!(amount(json!("10.50")).as_deref(), Ok("10.5"));
        assert_eq!(amount(json!(0.1)).as_deref(), Ok("0.1"));
        assert_eq!(amount(json!(1e3)).as_deref(), Ok("1000.0"));
    }

    #[test]
    fn rejects_what_is_not_a_positive_amount() {
        assert_eq!(amount(json!("")), Err(Invalid::blank("Amount")));
        let malformed = Invalid(
            "Amount is invalid: send a number of KES, as a number or a string, greater than 0 \
             with at most 2 decimal places (100, 99.5 or \"1500.00\")"
                .into(),
        );
        assert_eq!(amount(json!("abc")), Err(malformed.clone()));
        assert_eq!(amount(json!(true)), Err(malformed));
        assert!(amount(json!(0)).is_err());
        assert!(amount(json!("-5")).is_err());
        assert!(amount(json!("1.005")).is_err());
        assert_eq!(Amount::parse(None, "Amount"), Err(Invalid::blank("Amount")));
    }
}
