//! Connections driven with raw sockets: half-sent requests, idle keep-alive, the connection
//! cap, oversized heads and bodies, bodies on routes that ignore them, and shutdown with clients that
//! never finish.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Guards against a hang; what is awaited comes well within it.
const HANG: Duration = Duration::from_secs(15);

/// A sandbox with short connection timeouts, and its address.
async fn spawn_impatient_app(
    configure: impl FnOnce(&mut k2_sandbox::config::ServeArgs),
) -> (TestApp, SocketAddr) {
    let app = spawn_app_with(|args| {
        args.header_timeout_ms = 300;
        args.body_timeout_ms = 300;
        args.idle_timeout_ms = 500;
        configure(args);
    })
    .await;
    let addr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    (app, addr)
}

/// One HTTP/1.1 response read off a raw socket: status, lower-cased headers, body.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Reads one response (with a Content-Length body) from `stream`; `None` if the connection
/// closes first.
async fn read_response(stream: &mut TcpStream) -> Option<RawResponse> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(HANG, stream.read(&mut chunk))
            .await
            .expect("no hang")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(RawResponse {
        status,
        headers,
        body,
    })
}

/// A connection to `addr` that has sent `bytes` (a whole request, or part of one).
async fn send_raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    stream
}

/// Whether the server closes `stream` (EOF or reset) within the hang guard.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(HANG, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_half_sent_request_line_is_closed_after_the_header_timeout() {
    let (_app, addr) = spawn_impatient_app(|_| {}).await;
    let mut stream = send_raw(addr, b"GET /_sandbox/health HTTP/1.1\r\n").await;
    assert!(closed_by_server(&mut stream).await);

    let mut headers = send_raw(
        addr,
        b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nAccept: applic",
    )
    .await;
    assert!(closed_by_server(&mut headers).await);

    // A connection that never sends a byte is not kept either.
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    assert!(closed_by_server(&mut silent).await);
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_gets_a_json_408() {
    let (_app, addr) = spawn_impatient_app(|_| {}).await;
    let mut stream = send_raw(
        addr,
        b"POST /_sandbox/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"a\":",
    )
    .await;
    let response = read_response(&mut stream).await.expect("an answer");
    assert_eq!(response.status, 408);
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(
        response.json(),
        serde_json::json!({"error_code": 408, "error_message": "The request body did not arrive within 300 ms"})
    );
    assert!(closed_by_server(&mut stream).await);
}

#[tokio::test]
async fn a_client_that_writes_its_whole_oversized_body_before_reading_gets_the_413() {
    let app = spawn_app_with(|args| args.max_body_bytes = 1024).await;
    let addr: SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let body = vec![b'x'; 4 * 1024 * 1024];
    let expected = serde_json::json!({"error_code": 413, "error_message": "Request body is too large: the limit is 1024 bytes"});
    for round in 0..10 {
        // Declared too large: refused before reading, yet the write does not meet a reset.
        let head = format!(
            "POST /_sandbox/scenarios HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut stream = send_raw(addr, head.as_bytes()).await;
        stream
            .write_all(&body)
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let response = read_response(&mut stream).await.expect("an answer");
        assert_eq!(response.status, 413, "round {round}");
        assert_eq!(response.header("connection"), Some("close"));
        assert_eq!(response.json(), expected);

        // Chunked: found too large while reading.
        let mut stream = send_raw(
            addr,
            b"POST /_sandbox/scenarios HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .await;
        for chunk in body.chunks(64 * 1024) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            stream
                .write_all(&framed)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
        stream
            .write_all(b"0\r\n\r\n")
            .await
            .expect("the last chunk");
        let response = read_response(&mut stream).await.expect("an answer");
        assert_eq!(response.status, 413, "round {round}");
        assert_eq!(response.json(), expected);
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let (_app, addr) = spawn_impatient_app(|_| {}).await;
    let mut stream = send_raw(addr, b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let response = read_response(&mut stream).await.expect("an answer");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), None, "kept alive");
    assert!(closed_by_server(&mut stream).await);
}

#[tokio::test]
async fn routes_that_ignore_their_body_keep_the_connection_usable() {
    let (app, addr) = spawn_impatient_app(|_| {}).await;
    let token = app.token().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // Large, and sent after the head, so that it is not already buffered with it.
    let body = format!(r#"{{"ignored": "{}"}}"#, "x".repeat(64 * 1024));
    for path in [
        "/_sandbox/reset",
        "/_sandbox/health",
        "/_sandbox/callbacks/replay",
        "/oauth/token/info",
    ] {
        let method = if path.ends_with("health") || path.ends_with("info") {
            "GET"
        } else {
            "POST"
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        tokio::time::sleep(Duration::from_millis(50)).await;
        stream.write_all(body.as_bytes()).await.expect("write");
        let response = read_response(&mut stream)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: the connection closed"));
        assert_ne!(response.header("connection"), Some("close"), "{path}");
        assert!(response.status < 500, "{path}: {}", response.status);
        // The next request on the same connection is answered.
        stream
            .write_all(b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let next = read_response(&mut stream)
            .await
            .unwrap_or_else(|| panic!("after {path}: the connection closed"));
        assert_eq!(next.status, 200, "after {path}");
    }
}

#[tokio::test]
async fn past_the_connection_cap_a_connection_gets_a_json_503_and_health_recovers() {
    let (app, addr) = spawn_impatient_app(|args| {
        args.max_connections = 2;
        args.header_timeout_ms = 60_000;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let s = send_raw(addr, b"GET /_sandbox/health HTTP/1.1\r\n").await;
        held.push(s);
    }
    // Once the server has taken both, a third connection is refused; until then (a busy CI
    // machine may accept late) it is served, and we try again.
    let mut response = None;
    for _ in 0..100 {
        let mut third = send_raw(
            addr,
            b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        let answer = read_response(&mut third).await.expect("an answer");
        if answer.status == 503 {
            response = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = response.expect("a 503 once both connections are held");
    assert_eq!(response.status, 503);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(response.header("connection"), Some("close"));
    assert_eq!(
        response.json(),
        serde_json::json!({"error_code": 503,
            "error_message": "The sandbox is serving its limit of 2 connections: retry shortly"})
    );
    drop(held);
    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(r) = app.client.get(app.url("/_sandbox/health")).send().await
            && r.status() == 200
        {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(healthy, "health answers once the held connections are gone");
}

#[tokio::test]
async fn oversized_uris_and_headers_get_the_api_json_error() {
    let (_app, addr) = spawn_impatient_app(|_| {}).await;
    let exchange = |request: Vec<u8>| async move {
        let mut stream = send_raw(addr, &request).await;
        read_response(&mut stream).await.expect("an answer")
    };
    let long_uri = format!(
        "GET /_sandbox/health?{} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(60 * 1024)
    );
    let response = exchange(long_uri.into_bytes()).await;
    assert_eq!(response.status, 414);
    assert_eq!(
        response.json(),
        serde_json::json!({"error_code": 414, "error_message": "Request URI is too long: the limit is 8192 bytes"})
    );

    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let response =
        exchange(format!("GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n{many}\r\n").into_bytes())
            .await;
    assert_eq!(response.status, 431);
    assert_eq!(
        response.json()["error_message"],
        "Too many request headers: the limit is 100"
    );

    let big = format!(
        "GET /_sandbox/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40 * 1024)
    );
    let response = exchange(big.into_bytes()).await;
    assert_eq!(response.status, 431);
    assert_eq!(
        response.json()["error_message"],
        "Request headers are too large: the limit is 32768 bytes"
    );
}

#[tokio::test]
async fn sigterm_ends_within_the_grace_period_whatever_clients_are_doing() {
    let mut sandbox = SandboxProcess::start(&["--shutdown-grace-ms", "500"]).await;
    let _half_line = send_raw(sandbox.addr, b"GET /_sandbox/health HTTP/1.1\r\n").await;
    let _short_body = send_raw(
        sandbox.addr,
        b"POST /_sandbox/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{",
    )
    .await;
    let mut idle = send_raw(
        sandbox.addr,
        b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(read_response(&mut idle).await.expect("answer").status, 200);

    sandbox.signal("TERM");
    // Grace (0.5 s) plus a second, with room for a slow CI machine; a hang is the failure.
    assert_eq!(sandbox.exit_within(Duration::from_secs(10)).await, Some(0));
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let mut sandbox = SandboxProcess::start(&["--shutdown-grace-ms", "600000"]).await;
    let _half_line = send_raw(sandbox.addr, b"GET /_sandbox/health HTTP/1.1\r\n").await;
    // A later connection answered means the server has accepted the first one.
    let mut later = send_raw(
        sandbox.addr,
        b"GET /_sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(read_response(&mut later).await.expect("answer").status, 200);
    sandbox.signal("TERM");
    // The first signal waits for the half-sent request, up to the ten-minute grace.
    assert_eq!(sandbox.exit_within(Duration::from_millis(300)).await, None);
    sandbox.signal("INT");
    assert_eq!(sandbox.exit_within(HANG).await, Some(130));
}
