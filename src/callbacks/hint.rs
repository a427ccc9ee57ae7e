//! What a failed callback's record says to do about it: a sandbox inside a container cannot
//! reach a loopback address on the developer's machine.

use std::sync::OnceLock;

use url::Url;

/// What to do about a callback to `target` whose connection failed, when the sandbox runs in
/// a container and `target` is a loopback address: there it names the container itself.
pub fn loopback_hint(target: &str) -> Option<String> {
    hint_for(target, in_container())
}

fn hint_for(target: &str, in_container: bool) -> Option<String> {
    if !in_container {
        return None;
    }
    let url = Url::parse(target).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    loopback.then(|| {
        let from = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        format!(
            "inside a container {from} is the container itself: run the sandbox with \
             --callback-rewrite {from}:{port}=host.docker.internal:{port} (and on Linux \
             --add-host=host.docker.internal:host-gateway), and have the app listen on 0.0.0.0"
        )
    })
}

/// Whether this process runs in a container (Docker's or Podman's marker file).
fn in_container() -> bool {
    static IN: OnceLock<bool> = OnceLock::new();
    *IN.get_or_init(|| {
        std::path::Path::new("/.dockerenv").exists()
            || std::path::Path::new("/run/.containerenv").exists()
    })
}

#[cfg(test)]
mod tests {
    use super::hint_for;

    #[test]
    fn a_loopback_url_from_inside_a_container_gets_the_rewrite_to_use() {
        let hint = hint_for("http://localhost:5000/k2/cb", true).expect("a hint");
        assert!(
            hint.contains("--callback-rewrite localhost:5000=host.docker.internal:5000"),
            "{hint}"
        );
        assert!(hint_for("http://127.0.0.1/cb", true).is_some_and(|h| h.contains("127.0.0.1:80=")));
        assert!(hint_for("http://[::1]:8000/cb", true).is_some());
        // Not loopback, or not in a container: nothing to say.
        assert_eq!(hint_for("http://shop.example:5000/cb", true), None);
        assert_eq!(hint_for("http://localhost:5000/cb", false), None);
    }
}
