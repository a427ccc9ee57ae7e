//! `--callback-rewrite FROM=TO`: a callback URL's host (and port) swapped at delivery, so an
//! app on the developer's machine that registers `http://localhost:5000/cb` is reached from a
//! sandbox in a container (`localhost:5000=host.docker.internal:5000`). The delivery log keeps
//! the URL asked for beside the one used.

use url::Url;

/// One `FROM=TO` rule: a host, with or without a port, for another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    from: (String, Option<u16>),
    to: (String, Option<u16>),
}

impl std::str::FromStr for Rewrite {
    type Err = String;

    /// `localhost:5000=host.docker.internal:5000`, `localhost=app` (any port, kept).
    fn from_str(rule: &str) -> Result<Self, String> {
        let (from, to) = rule.split_once('=').ok_or_else(|| {
            format!("{rule:?} is not FROM=TO, e.g. localhost:5000=host.docker.internal:5000")
        })?;
        Ok(Self {
            from: authority(from)?,
            to: authority(to)?,
        })
    }
}

/// `FROM=TO` as given (hosts normalised), for the start-up log.
impl std::fmt::Display for Rewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |(host, port): &(String, Option<u16>)| match port {
            Some(port) => format!("{host}:{port}"),
            None => host.clone(),
        };
        write!(f, "{}={}", side(&self.from), side(&self.to))
    }
}

/// `host[:port]`, as a URL would hold it.
fn authority(text: &str) -> Result<(String, Option<u16>), String> {
    let text = text.trim();
    let url = Some(text)
        .filter(|t| !t.is_empty() && !t.contains(['/', '?', '#', '@']))
        .and_then(|t| Url::parse(&format!("http://{t}/")).ok())
        .filter(|u| u.path() == "/" && u.username().is_empty() && u.host_str().is_some())
        .ok_or_else(|| format!("{text:?} is not a host or host:port"))?;
    Ok((url.host_str().unwrap_or_default().to_string(), url.port()))
}

/// The URL a callback to `target` is sent to under `rules` (the first that matches), or
/// `None` when none does.
pub fn rewritten(rules: &[Rewrite], target: &str) -> Option<String> {
    if rules.is_empty() {
        return None;
    }
    let mut url = Url::parse(target).ok()?;
    let host = url.host_str()?.to_string();
    let port = url.port_or_known_default();
    let rule = rules.iter().find(|r| {
        r.from.0.eq_ignore_ascii_case(&host) && r.from.1.is_none_or(|p| Some(p) == port)
    })?;
    url.set_host(Some(&rule.to.0)).ok()?;
    if let Some(port) = rule.to.1 {
        url.set_port(Some(port)).ok()?;
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::{Rewrite, rewritten};

    fn rules(text: &[&str]) -> Vec<Rewrite> {
        text.iter().map(|r| r.parse().expect("a rule")).collect()
    }

    #[test]
    fn a_rule_swaps_the_host_and_port_it_names_and_nothing_else() {
        let r = rules(&["localhost:5000=host.docker.internal:5000", "127.0.0.1=app"]);
        assert_eq!(
            rewritten(&r, "http://localhost:5000/k2/cb?order=1").as_deref(),
            Some("http://host.docker.internal:5000/k2/cb?order=1")
        );
        // Another port of localhost: no rule.
        assert_eq!(rewritten(&r, "http://localhost:6000/cb"), None);
        // A rule without a port matches any, and keeps it.
        assert_eq!(
            rewritten(&r, "http://127.0.0.1:8000/cb").as_deref(),
            Some("http://app:8000/cb")
        );
        assert_eq!(rewritten(&r, "https://shop.example/cb"), None);
        assert_eq!(rewritten(&[], "http://localhost:5000/cb"), None);
    }

    #[test]
    fn a_malformed_rule_says_what_is_expected() {
        assert!(
            "localhost:5000"
                .parse::<Rewrite>()
                .unwrap_err()
                .contains("FROM=TO"),
        );
        assert!(
            "localhost:5000=/path"
                .parse::<Rewrite>()
                .unwrap_err()
                .contains("host:port"),
        );
        assert!("a:b:c=d".parse::<Rewrite>().is_err());
    }
}
