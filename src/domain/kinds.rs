//! The resources a scenario names, in one vocabulary: each by the name the API itself gives
//! it (its documents' `data.type`), with the other spellings seen in the field (route names,
//! plurals, `stk_push`) kept as aliases that `validate` answers with the canonical word.

/// A kind of resource that a scenario's rules, callback faults or expectations name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    IncomingPayment,
    SendMoney,
    Reversal,
    Polling,
    TransactionSmsNotification,
    PaymentLink,
    WebhookEvent,
}

impl ResourceKind {
    pub const ALL: [Self; 7] = [
        Self::IncomingPayment,
        Self::SendMoney,
        Self::Reversal,
        Self::Polling,
        Self::TransactionSmsNotification,
        Self::PaymentLink,
        Self::WebhookEvent,
    ];

    /// Its canonical name: the API's `data.type`.
    pub fn name(self) -> &'static str {
        match self {
            Self::IncomingPayment => "incoming_payment",
            Self::SendMoney => "send_money",
            Self::Reversal => "reversal",
            Self::Polling => "polling",
            Self::TransactionSmsNotification => "transaction_sms_notification",
            Self::PaymentLink => "payment_link",
            Self::WebhookEvent => "webhook_event",
        }
    }

    /// Other spellings accepted for it: its route's name, plurals, what earlier versions of
    /// the scenario format wrote.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::IncomingPayment => &["incoming_payments", "stk_push", "stk_pushes", "stk"],
            Self::SendMoney => &["send_moneys", "payments", "pay", "settlement_transfers"],
            Self::Reversal => &["reversals"],
            Self::Polling => &["pollings"],
            Self::TransactionSmsNotification => &[
                "transaction_sms_notifications",
                "sms_notification",
                "sms_notifications",
                "sms",
            ],
            Self::PaymentLink => &["payment_links", "link", "links"],
            Self::WebhookEvent => &["webhook_events", "webhook", "webhooks"],
        }
    }

    /// The kind `text` names (in any case, `-` or `_`), and the alias it was written as, if it
    /// was not the canonical name.
    pub fn parse(text: &str) -> Option<(Self, Option<&'static str>)> {
        let text = text.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find_map(|kind| {
            if kind.name() == text {
                Some((kind, None))
            } else {
                kind.aliases()
                    .iter()
                    .find(|a| **a == text)
                    .map(|alias| (kind, Some(*alias)))
            }
        })
    }

    /// The statuses its documents show (`data.attributes.status`).
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Self::IncomingPayment | Self::TransactionSmsNotification => {
                &["Pending", "Success", "Failed"]
            }
            Self::SendMoney => &["Pending", "Processed", "Failed"],
            Self::PaymentLink => &["Active", "Paid", "Cancelled", "Expired"],
            Self::Polling => &["Pending", "Success"],
            // A cancelled reversal's document shows Processed (its bulk payment, Cancelled).
            Self::Reversal => &["Scheduled", "Processed"],
            Self::WebhookEvent => &[],
        }
    }

    /// Every name and alias, for a "did you mean".
    pub fn spellings() -> impl Iterator<Item = &'static str> {
        Self::ALL
            .into_iter()
            .flat_map(|k| std::iter::once(k.name()).chain(k.aliases().iter().copied()))
    }
}

/// `with_resource_type!(kind, T => body)` runs `body` with `T` the domain type of `kind`'s
/// resources (which implements `service::resource::Resource`): one arm per kind, so a kind
/// added without its type fails to compile wherever kinds are dispatched on (a due job, an
/// expectation).
macro_rules! with_resource_type {
    ($kind:expr, $T:ident => $body:expr) => {
        match $kind {
            $crate::domain::kinds::ResourceKind::IncomingPayment => {
                type $T = $crate::domain::incoming_payment::IncomingPayment;
                $body
            }
            $crate::domain::kinds::ResourceKind::SendMoney => {
                type $T = $crate::domain::send_money::SendMoney;
                $body
            }
            $crate::domain::kinds::ResourceKind::Reversal => {
                type $T = $crate::domain::reversal::Reversal;
                $body
            }
            $crate::domain::kinds::ResourceKind::Polling => {
                type $T = $crate::domain::polling::Polling;
                $body
            }
            $crate::domain::kinds::ResourceKind::TransactionSmsNotification => {
                type $T = $crate::domain::sms_notification::SmsNotification;
                $body
            }
            $crate::domain::kinds::ResourceKind::PaymentLink => {
                type $T = $crate::domain::payment_link::PaymentLink;
                $body
            }
            $crate::domain::kinds::ResourceKind::WebhookEvent => {
                type $T = $crate::domain::webhooks::WebhookEvent;
                $body
            }
        }
    };
}
pub(crate) use with_resource_type;

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceKind;

    #[test]
    fn every_spelling_names_one_kind() {
        let mut seen = std::collections::HashSet::new();
        for spelling in ResourceKind::spellings() {
            assert!(seen.insert(spelling), "{spelling} names two kinds");
        }
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(kind.name()), Some((kind, None)));
            for alias in kind.aliases() {
                assert_eq!(ResourceKind::parse(alias), Some((kind, Some(*alias))));
            }
        }
        assert_eq!(
            ResourceKind::parse(" STK-Push "),
            Some((ResourceKind::IncomingPayment, Some("stk_push")))
        );
        assert_eq!(ResourceKind::parse("stk_pushh"), None);
    }
}
