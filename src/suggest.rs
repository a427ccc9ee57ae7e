//! "Did you mean": the known name closest to a misspelt one, when one is close enough.

/// The candidate most like `word` (Jaro-Winkler, case-insensitive), if it is similar enough
/// to be what was meant.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `" (did you mean `x`?)"` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let methods = ["GET", "POST", "PUT", "DELETE"];
        assert_eq!(closest("POTS", methods), Some("POST"));
        assert_eq!(closest("pots", methods), Some("POST"));
        assert_eq!(closest("FETCH", methods), None);
        let kinds = ["incoming_payment", "send_money", "polling"];
        assert_eq!(
            closest("incoming_payments", kinds),
            Some("incoming_payment")
        );
        assert_eq!(closest("sms", kinds), None);
        assert_eq!(did_you_mean("poling", kinds), " (did you mean `polling`?)");
        assert_eq!(did_you_mean("zzz", kinds), "");
    }
}
