use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const LINKS: &str = "/api/v2/payment_links";

fn link_request(callback: &str) -> Value {
    json!({"till_number": "112233", "currency": "KES", "amount": 350, "payment_reference": "daud",
           "note": "Notes", "metadata": {"something": "test", "something_else": "Test data"}, "_links": {"callback_url": callback}})
}

async fn cancel(app: &TestApp, location: &str, token: &str) -> reqwest::Response {
    // Clients send an empty body with a JSON content type.
    app.client
        .post(format!("{location}/cancel"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .send()
        .await
        .expect("cancel")
}

#[tokio::test]
async fn a_link_is_active_for_seven_days_and_can_be_cancelled_once() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;

    let active = app.get_json(&location, &token).await;
    let attributes = &active["data"]["attributes"];
    assert_eq!(attributes["payment_link"]["status"], "Active");
    assert_eq!(
        attributes["payment_link"]["expires_at"],
        "2026-05-08T10:00:00.000+03:00"
    );
    assert_eq!(attributes["amount"], 350);
    assert!(
        attributes["payment_link"]["link"]
            .as_str()
            .expect("link")
            .starts_with(&app.url("/links/"))
    );

    let response = cancel(&app, &location, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.expect("json"),
        json!({"message": "Payment link cancelled."})
    );
    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    assert_eq!(
        callback.json()["data"]["attributes"]["payment_link"]["status"],
        "Cancelled"
    );

    let again = cancel(&app, &location, &token).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json::<Value>().await.expect("json")["error_message"],
        "Only active payment links can be cancelled."
    );

    let unknown = cancel(
        &app,
        &app.url("/api/v2/payment_links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c"),
        &token,
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.expect("json"),
        json!({"error_code": 404, "error_message": "Payment link not found"})
    );
}

#[tokio::test]
async fn an_unpaid_link_expires_after_seven_days() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;

    app.advance("6d").await;
    assert!(receiver.received().is_empty());
    app.advance("1d").await;
    let callback = receiver.wait_for(1).await.remove(0);
    assert_eq!(
        callback.json()["data"]["attributes"]["payment_link"]["status"],
        "Expired"
    );
    let token = app.token().await; // the first one expired days ago
    assert_eq!(
        app.get_json(&location, &token).await["data"]["attributes"]["payment_link"]["status"],
        "Expired"
    );
}

/// What the checkout page polls: `GET {link}/status`.
async fn checkout_status(app: &TestApp, link: &str) -> Value {
    let response = app
        .client
        .get(format!("{link}/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// The checkout page's HTML.
async fn checkout_page(app: &TestApp, link: &str) -> String {
    let page = app.client.get(link).send().await.expect("page");
    page.text().await.expect("html")
}

async fn submit(link: &str, phone: &str) -> reqwest::Response {
    // Not following the redirect: the 303 is part of what is checked.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(link)
        .form(&[("phone_number", phone)])
        .send()
        .await
        .expect("pay")
}

#[tokio::test]
async fn a_customer_pays_a_link_on_its_page_through_a_prompt_on_their_phone() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(LINKS, &token, &link_request(&receiver.url))
        .await;
    let link = app.link_url(&location, &token).await;

    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.expect("html");
    assert!(html.contains("KES 350.00"), "{html}");
    assert!(html.contains("<label for=\"phone\">M-PESA phone number</label>"));

    // A number that does not validate: the form again, the problem next to the field.
    let wrong = submit(&link, "12345").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let html = wrong.text().await.expect("html");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    assert!(html.contains("value=\"12345\""), "{html}");
    assert!(html.contains("id=\"phone-error\""), "{html}");

    // A phone that waits for its owner (0700000009): "check your phone" until answered.
    let sent = submit(&link, "0700000009").await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sent.headers()["location"],
        link.trim_start_matches(&app.base)
    );
    app.advance("2s").await;
    let waiting = checkout_status(&app, &link).await;
    assert_eq!(waiting["status"], "Active");
    assert_eq!(waiting["view"], "Active:waiting");
    assert_eq!(waiting["checkout"]["phone_number"], "+254700000009");
    assert_eq!(waiting["checkout"]["status"], "Pending");
    let html = checkout_page(&app, &link).await;
    assert!(html.contains("Check your phone"), "{html}");
    assert!(html.contains("+254700000009"), "{html}");
    let prompts = app.control("/_sandbox/prompts").await;
    assert_eq!(prompts["prompts"][0]["amount"], "350.0", "{prompts}");

    let answered = app
        .client
        .post(app.url("/_sandbox/prompts/0700000009/pay"))
        .send()
        .await
        .expect("answer");
    assert_eq!(answered.status(), StatusCode::OK);

    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    let body = callback.json();
    let view = &body["data"]["attributes"]["payment_link"];
    assert_eq!(view["status"], "Paid");
    assert_eq!(view["sender_phone_number"], "+254700000009");
    assert!(view["transaction_reference"].as_str().is_some());
    assert_same_shape(&body, &fixture("payment_link_paid"));
    assert_eq!(app.balances().await["tills"]["112233"], "1000350.0");
    assert_eq!(checkout_status(&app, &link).await["view"], "Paid");
    let html = checkout_page(&app, &link).await;
    assert!(html.contains("<h2>Paid</h2>"), "{html}");
    assert!(
        html.contains(view["transaction_reference"].as_str().expect("reference")),
        "{html}"
    );

    let twice = submit(&link, "0712345678").await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert!(twice.text().await.expect("html").contains("<h2>Paid</h2>"));
    // Only the link called back: the prompt behind it has no callback of its own.
    assert_eq!(app.deliveries().await.len(), 1);
}

#[tokio::test]
async fn a_declined_prompt_leaves_the_link_payable_and_says_why() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = app
        .create(LINKS, &token, &link_request("https://example.com/cb"))
        .await;
    let link = app.link_url(&location, &token).await;
    // 0700000001 cancels every prompt.
    assert_eq!(
        submit(&link, "0700000001").await.status(),
        StatusCode::SEE_OTHER
    );
    app.advance("2s").await;
    let status = checkout_status(&app, &link).await;
    assert_eq!(status["status"], "Active");
    assert_eq!(status["checkout"]["status"], "Failed");
    assert_eq!(status["checkout"]["error"], "Request cancelled by user");
    assert!(
        status["view"]
            .as_str()
            .expect("view")
            .starts_with("Active:failed:")
    );
    let html = checkout_page(&app, &link).await;
    assert!(html.contains("Payment not completed"), "{html}");
    assert!(html.contains("Request cancelled by user"), "{html}");
    assert!(
        html.contains("<form method=\"post\""),
        "the form again: {html}"
    );
    // Nothing was paid.
    assert_eq!(app.balances().await["tills"]["112233"], Value::Null);
    // A second try pays.
    assert_eq!(
        submit(&link, "0712345678").await.status(),
        StatusCode::SEE_OTHER
    );
    app.advance("2s").await;
    assert_eq!(checkout_status(&app, &link).await["view"], "Paid");
}

#[tokio::test]
async fn ended_and_unknown_links_get_pages_that_say_so() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let cancelled = app
        .create(LINKS, &token, &link_request("https://example.com/cb"))
        .await;
    let cancelled_link = app.link_url(&cancelled, &token).await;
    assert_eq!(
        cancel(&app, &cancelled, &token).await.status(),
        StatusCode::OK
    );
    let expired = app
        .create(LINKS, &token, &link_request("https://example.com/cb"))
        .await;
    let expired_link = app.link_url(&expired, &token).await;
    app.advance("8d").await;
    for (link, heading) in [(&cancelled_link, "Cancelled"), (&expired_link, "Expired")] {
        let page = app.client.get(link).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "{html}");
        assert!(!html.contains("<form"), "{html}");
        assert_eq!(checkout_status(&app, link).await["status"], heading);
        assert_eq!(
            submit(link, "0712345678").await.status(),
            StatusCode::CONFLICT
        );
    }
    let unknown = app.url("/links/2eab4ca0-1724-4c90-a734-0fb5ffc4391c");
    let page = app.client.get(&unknown).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.text()
            .await
            .expect("html")
            .contains("Payment link not found")
    );
    let status = app
        .client
        .get(format!("{unknown}/status"))
        .send()
        .await
        .expect("status");
    assert_eq!(status.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        status.json::<Value>().await.expect("json"),
        json!({"error_code": 404, "error_message": "Payment link not found"})
    );
}

#[tokio::test]
async fn invalid_links_get_400s() {
    let app = spawn_app().await;
    let token = app.token().await;
    let mut no_till = link_request("http://127.0.0.1:9/cb");
    no_till["till_number"] = Value::Null;
    let mut no_amount = link_request("http://127.0.0.1:9/cb");
    no_amount["amount"] = Value::Null;
    let mut cents = link_request("http://127.0.0.1:9/cb");
    cents["amount"] = json!(350.5);
    let mut misplaced = link_request("http://127.0.0.1:9/cb");
    misplaced["callback_url"] = misplaced["_links"]["callback_url"].take();
    for (body, message) in [
        (no_till, "Till number can't be blank"),
        (no_amount, "Amount can't be blank"),
        // Paid through M-PESA, which moves whole shillings.
        (
            cents,
            "Amount must be a whole number of shillings: M-PESA moves no cents",
        ),
        (
            misplaced,
            "Callback url can't be blank: it goes in _links.callback_url, not at the top level",
        ),
    ] {
        let (status, error) = app.rejected(LINKS, &token, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["error_message"], message);
    }
}

#[tokio::test]
async fn the_control_plane_can_pay_a_link_as_a_customer() {
    let app = spawn_virtual_app().await;
    let token = app.token().await;
    let location = app
        .create(LINKS, &token, &link_request("http://127.0.0.1:9/cb"))
        .await;
    let id = location.rsplit('/').next().expect("id");
    let pay = |phone: &str| {
        app.client
            .post(app.url(&format!("/_sandbox/payment_links/{id}/pay")))
            .json(&json!({"phone_number": phone}))
            .send()
    };
    let paid = pay("+254712345678").await.expect("pay");
    assert_eq!(paid.status(), StatusCode::OK);
    let view = &app.get_json(&location, &token).await["data"]["attributes"]["payment_link"];
    assert_eq!(view["status"], "Paid");
    assert_eq!(view["sender_phone_number"], "+254712345678");
    assert_eq!(
        pay("+254712345678").await.expect("pay").status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn placeholders_and_markup_in_a_till_name_are_text_on_the_page() {
    let app = spawn_app().await;
    let hostile = "{content} {title} {view} <b>bold</b> & \"quoted\"";
    let yaml = format!(
        "name: hostile\nworld:\n  tills:\n    - {{till_number: \"112233\", name: '{hostile}'}}\n"
    );
    assert_eq!(app.load_scenario(yaml).await.status(), StatusCode::CREATED);
    let token = app.token().await;
    let location = app
        .create(LINKS, &token, &link_request("http://127.0.0.1:9/cb"))
        .await;
    let link = app.link_url(&location, &token).await;
    let html = app
        .client
        .get(&link)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let escaped = "{content} {title} {view} &#60;b&#62;bold&#60;/b&#62; &#38; &#34;quoted&#34;";
    assert!(
        html.contains(&format!("<title>Pay {escaped}</title>")),
        "{html}"
    );
    assert!(html.contains(&format!("<h1>{escaped}</h1>")), "{html}");
    // The page's own markup appears once: nothing in the name was expanded.
    assert_eq!(html.matches("<main id=\"checkout\"").count(), 1);
    assert_eq!(html.matches("<title>").count(), 1);
    assert!(!html.contains("<b>bold</b>"));
}

#[tokio::test]
async fn a_path_with_repeated_slashes_reads_as_one_as_rails_reads_it() {
    // The Ruby SDK 4.0.0's configured path starts with a slash: it sends
    // `POST //api/v2/payment_links`, which the live API (Rails) answers.
    let app = spawn_app().await;
    let token = app.token().await;
    let response = app
        .post_json(
            "//api/v2/payment_links",
            &token,
            &link_request("https://shop.test/cb"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = location(&response);
    assert!(
        location.starts_with(&app.url("/api/v2/payment_links/")),
        "{location}"
    );
    let doubled = location.replace("/api/v2/", "//api//v2///");
    let document = app.get_json(&doubled, &token).await;
    assert_eq!(document["data"]["type"], "payment_link");
    // The journal shows the route it reached.
    let journal = app.control("/_sandbox/requests").await;
    assert!(
        journal.to_string().contains("\"/api/v2/payment_links\""),
        "{journal}"
    );
}

#[tokio::test]
async fn the_pages_a_browser_opens_carry_their_security_headers() {
    let app = spawn_app().await;
    let token = app.token().await;
    let location = app
        .create(LINKS, &token, &link_request("http://127.0.0.1:9/cb"))
        .await;
    let link = app.link_url(&location, &token).await;
    for url in [link, app.url("/_sandbox/ui/")] {
        let page = app.client.get(&url).send().await.expect("page");
        let headers = page.headers();
        let policy = headers["content-security-policy"].to_str().expect("text");
        assert!(policy.contains("frame-ancestors 'none'"), "{url}: {policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{url}");
        assert_eq!(headers["x-frame-options"], "DENY", "{url}");
        if url.contains("/links/") {
            // Only its own script and style, by hash: nothing inline from data can run.
            assert!(policy.contains("script-src 'sha256-"), "{policy}");
            assert!(!policy.contains("unsafe-inline"), "{policy}");
        }
    }
}
