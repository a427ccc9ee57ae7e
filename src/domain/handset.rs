//! The virtual customer: every STK push is a prompt on a simulated phone, answered as a real
//! subscriber would — pay (enter the PIN), a wrong PIN, cancel, no answer until it expires, or
//! a phone that cannot be reached. Each failure carries the result text M-PESA gives it.
//!
//! Without instructions a phone pays after `--callback-delay-ms`. Magic numbers fail in a
//! fixed way, so CI needs no extra calls; any number's behaviour can be set at runtime.

use super::Invalid;
use super::incoming_payment::Outcome;
use super::phone::PhoneNumber;

/// How a subscriber answers a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Pay,
    WrongPin,
    Cancel,
    Timeout,
    Unreachable,
    InsufficientFunds,
}

impl Answer {
    pub const ALL: [Self; 6] = [
        Self::Pay,
        Self::WrongPin,
        Self::Cancel,
        Self::Timeout,
        Self::Unreachable,
        Self::InsufficientFunds,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::WrongPin => "wrong_pin",
            Self::Cancel => "cancel",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::InsufficientFunds => "insufficient_funds",
        }
    }

    /// Accepts `wrong_pin` and `wrong-pin` alike.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let wanted = text.trim().replace('-', "_").to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| {
                Invalid(format!(
                    "Unknown answer {text:?}: use one of {}{}",
                    Self::ALL.map(Self::as_str).join(", "),
                    crate::suggest::did_you_mean(&wanted, Self::ALL.map(Self::as_str))
                ))
            })
    }

    /// The result the answer produces, with M-PESA's result text for failures.
    pub fn outcome(self) -> Outcome {
        let error = match self {
            Self::Pay => return Outcome::Paid,
            // Daraja result code 2001; the reference's own failed example.
            Self::WrongPin => "The initiator information is invalid.",
            // 1032
            Self::Cancel => "Request cancelled by user",
            // 1019
            Self::Timeout => "Transaction has expired",
            // 1037
            Self::Unreachable => "DS timeout user cannot be reached",
            // 1 (Daraja ends it with a period; the reference, everywhere else, does not)
            Self::InsufficientFunds => "The balance is insufficient for the transaction",
        };
        Outcome::Failed(error.to_string())
    }
}

/// What a phone does with a prompt unless answered through the control plane first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer this way when the result falls due.
    Auto(Answer),
    /// Wait for an answer from the control plane; expire after the STK timeout.
    Manual,
}

impl Behaviour {
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if text.trim().eq_ignore_ascii_case("manual") {
            Ok(Self::Manual)
        } else {
            Answer::parse(text).map(Self::Auto)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto(a) => a.as_str(),
            Self::Manual => "manual",
        }
    }
}

/// The documented magic numbers (docs/control-plane.md).
pub const MAGIC_NUMBERS: [(&str, Behaviour); 6] = [
    ("+254700000001", Behaviour::Auto(Answer::Cancel)),
    ("+254700000002", Behaviour::Auto(Answer::WrongPin)),
    ("+254700000003", Behaviour::Auto(Answer::Timeout)),
    ("+254700000004", Behaviour::Auto(Answer::Unreachable)),
    ("+254700000005", Behaviour::Auto(Answer::InsufficientFunds)),
    ("+254700000009", Behaviour::Manual),
];

/// A magic number's behaviour; every other number pays.
pub fn default_behaviour(phone: &PhoneNumber) -> Behaviour {
    MAGIC_NUMBERS
        .iter()
        .find(|(n, _)| *n == phone.as_str())
        .map_or(Behaviour::Auto(Answer::Pay), |(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_fail_and_others_pay() {
        let phone = |p: &str| PhoneNumber::parse(Some(p)).expect("valid");
        assert_eq!(
            default_behaviour(&phone("0700000001")),
            Behaviour::Auto(Answer::Cancel)
        );
        assert_eq!(default_behaviour(&phone("254700000009")), Behaviour::Manual);
        assert_eq!(
            default_behaviour(&phone("+254712345678")),
            Behaviour::Auto(Answer::Pay)
        );
    }

    #[test]
    fn answers_parse_with_dashes_or_underscores() {
        assert_eq!(Answer::parse("wrong-pin"), Ok(Answer::WrongPin));
        assert_eq!(Behaviour::parse("MANUAL"), Ok(Behaviour::Manual));
        assert!(Answer::parse("dance").is_err());
    }
}
