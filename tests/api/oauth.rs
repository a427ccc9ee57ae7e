use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_form_encoded_token_request_returns_a_bearer_token() {
    let app = spawn_app().await;

    let response = app
        .request_token_with(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "client_credentials"),
        ])
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "token_type", "expires_in", "created_at"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body["created_at"]
            .as_str()
            .expect("string")
            .ends_with("+03:00")
    );
    // 256 random bits, base64url: 43 characters.
    assert_eq!(body["access_token"].as_str().expect("string").len(), 43);
}

#[tokio::test]
async fn the_token_response_matches_its_snapshot() {
    let app = spawn_snapshot_app().await;
    let response = app
        .request_token_with(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("grant_type", "client_credentials"),
        ])
        .await;
    let body: Value = response.json().await.expect("json");
    insta::assert_json_snapshot!("token_response", body);
}

#[tokio::test]
async fn credentials_are_accepted_as_multipart_json_query_or_basic_auth() {
    let app = spawn_app().await;
    let creds = [
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("grant_type", "client_credentials"),
    ];

    // curl -F, as in the reference
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in creds {
        form = form.text(k, v);
    }
    let multipart = app
        .client
        .post(app.url("/oauth/token"))
        .multipart(form)
        .send()
        .await
        .expect("send");

    let json_body = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}))
        .send()
        .await
        .expect("send");

    // An empty body with a JSON content type and the credentials in the query string.
    let query = app
        .client
        .post(app.url("/oauth/token"))
        .query(&creds)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("send");

    let basic = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("send");

    for (how, response) in [
        ("multipart", multipart),
        ("json", json_body),
        ("query", query),
        ("basic", basic),
    ] {
        assert_eq!(response.status(), StatusCode::OK, "{how}");
        let body: Value = response.json().await.expect("json");
        assert!(body["access_token"].is_string(), "{how}");
    }
}

#[tokio::test]
async fn wrong_credentials_or_grant_get_oauth_errors() {
    let app = spawn_app().await;
    let cases = [
        (
            vec![
                ("client_id", CLIENT_ID),
                ("client_secret", "wrong"),
                ("grant_type", "client_credentials"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![
                ("client_id", "nobody"),
                ("client_secret", CLIENT_SECRET),
                ("grant_type", "client_credentials"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
                ("grant_type", "password"),
            ],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (params, status, error) in cases {
        let response = app.request_token_with(&params).await;
        assert_eq!(response.status(), status, "{params:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], error, "{params:?}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let app = spawn_app().await;
    let token = app.token().await;

    // The Node SDK sends `Bearer null` and the credentials as JSON.
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", "Bearer null")
        .json(&json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("json"), json!({}));

    let after = app
        .get_with_token(
            &app.url("/api/v2/incoming_payments/00000000-0000-0000-0000-000000000000"),
            &token,
        )
        .await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let body: Value = after.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error_code": 401, "error_message": "The access token was revoked"})
    );
}

#[tokio::test]
async fn revoking_needs_the_client_credentials_but_not_a_known_token() {
    let app = spawn_app().await;
    let token = app.token().await;

    let wrong = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", "nope"),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let unknown = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
            ("token", "no-such-token"),
        ])
        .send()
        .await
        .expect("revoke");
    assert_eq!(unknown.status(), StatusCode::OK);

    // The first token still works.
    let info = app
        .client
        .get(app.url("/oauth/token/info"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("info");
    assert_eq!(info.status(), StatusCode::OK);
}

#[tokio::test]
async fn introspection_reports_active_and_inactive_tokens() {
    let app = spawn_snapshot_app().await;
    let token = app.token().await;
    let introspect = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth/introspect"))
                .header("authorization", "Bearer null")
                .json(&json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token": token}))
                .send()
                .await
                .expect("introspect")
        }
    };

    let active = introspect(token.clone()).await;
    assert_eq!(active.status(), StatusCode::OK);
    let body: Value = active.json().await.expect("json");
    // 2026-05-01T10:00:00+03:00 is 1777618800; the TTL is one hour.
    assert_eq!(
        body,
        json!({"active": true, "scope": "", "client_id": CLIENT_ID, "token_type": "Bearer",
               "exp": 1777622400, "iat": 1777618800})
    );

    let unknown: Value = introspect("nope".into()).await.json().await.expect("json");
    assert_eq!(unknown, json!({"active": false}));

    app.advance("1h").await;
    let expired: Value = introspect(token).await.json().await.expect("json");
    assert_eq!(expired, json!({"active": false}));
}

#[tokio::test]
async fn introspection_without_client_credentials_accepts_a_bearer_token() {
    let app = spawn_app().await;
    let token = app.token().await;
    let response = app
        .client
        .post(app.url("/oauth/introspect"))
        .bearer_auth(&token)
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("introspect");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("json")["active"],
        true
    );

    let anonymous = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("introspect");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_info_describes_the_bearer_token() {
    let app = spawn_snapshot_app().await;
    let token = app.token().await;
    app.advance("10m").await;

    let response = app
        .client
        .get(app.url("/oauth/token/info"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("info");

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"resource_owner_id": null, "scope": [], "expires_in": 3000,
               "application": {"uid": CLIENT_ID}, "created_at": 1777618800})
    );
}

#[tokio::test]
async fn a_token_expires_after_its_ttl_on_the_sandbox_clock() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let url = app.url("/api/v2/incoming_payments/00000000-0000-0000-0000-000000000000");

    app.advance("59m").await;
    assert_eq!(
        app.get_with_token(&url, &token).await.status(),
        StatusCode::NOT_FOUND
    );

    app.advance("1m").await;
    let expired = app.get_with_token(&url, &token).await;
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let body: Value = expired.json().await.expect("json");
    assert_eq!(body["error_message"], "The access token expired");

    let info = app
        .client
        .get(app.url("/oauth/token/info"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("info");
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        info.json::<Value>().await.expect("json")["error"],
        "invalid_token"
    );
}
