//! The sandbox's pages (the dashboard, the checkout) in real headless Chromium, and what a page
//! on another site can do to the sandbox (Debian's `chromium` and `chromium-driver`, which
//! `scripts/test` installs), driven over WebDriver. Screenshots go to
//! `target/screenshots/`.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::helpers::*;

/// A headless Chromium session, and the chromedriver it runs under.
struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

impl Browser {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let driver = tokio::process::Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver runs: scripts/test installs Debian's chromium and chromium-driver");
        let capabilities = json!({
            // The console's messages, for `console_errors`.
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--window-size=1280,860", "--disable-gpu"]
            }
        });
        let mut last = None;
        for _ in 0..100 {
            // Plain HTTP to the local chromedriver: no TLS needed.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.as_object().expect("object").clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        _driver: driver,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last:?}");
    }

    /// The text of `css`, once it satisfies `ready` (within 10 s).
    async fn wait_text(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                seen = element.text().await.unwrap_or_default();
                if ready(&seen) {
                    return seen;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never got ready; last text: {seen:?}");
    }

    /// Clicks `css`; found again if the page re-rendered it in between (a panel follows the
    /// live feed, so an element may be replaced while it is being clicked).
    async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..50 {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.click().await {
                    Ok(()) => return,
                    Err(e) => last = Some(e),
                },
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css}: {last:?}");
    }

    /// The console's errors since the last call: uncaught exceptions, `console.error`, failed
    /// loads. A 4xx answer to one of the page's calls is not one: the tests provoke them
    /// (a broken scenario, a bad instant, a refused token) and the page shows them; Chromium
    /// logs each all the same. A 4xx for the page's own files is.
    async fn console_errors(&self) -> Vec<String> {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("the browser's log");
        log.as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_string())
            .filter(|m| {
                let (url, what) = m.split_once(" - ").unwrap_or_default();
                let answered = what.contains("the server responded with a status of 4");
                !answered || url.contains("/_sandbox/ui/")
            })
            .collect()
    }

    async fn assert_no_console_errors(&self) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }

    /// A browser on the dashboard at `url`, its live stream connected.
    async fn dashboard(url: &str) -> Self {
        let browser = Self::start().await;
        browser.client.goto(url).await.expect("open");
        browser.wait_text("#status", |t| t == "live").await;
        browser
    }

    /// Ends a test: no console error on the way, then the browser closed.
    async fn finish(self) {
        self.assert_no_console_errors().await;
        self.client.close().await.expect("close");
    }

    /// Runs `script` in the page and returns what it returns.
    async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .expect("script runs")
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots");
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(format!("{dir}/{name}.png"), png).expect("write");
    }
}

/// chromedriver's log endpoint (`goog:loggingPrefs`), which WebDriver itself does not have.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

#[tokio::test]
async fn the_activity_feed_shows_requests_and_prompts_live_without_a_reload() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.expect("open");
    assert_eq!(
        browser.client.current_url().await.expect("url").as_str(),
        app.url("/_sandbox/ui/")
    );
    browser.wait_text("#status", |t| t == "live").await;

    let token = app.token().await;
    let mut request = stk_request("http://127.0.0.1:9/cb");
    request["subscriber"]["phone_number"] = json!("+254700000009");
    let location = app
        .create("/api/v2/incoming_payments", &token, &request)
        .await;
    let id = location.rsplit('/').next().expect("id").to_string();
    let feed = browser
        .wait_text("#feed", |t| {
            t.contains(&format!(
                "STK prompt on +254700000009 waiting (incoming payment {id})"
            ))
        })
        .await;
    assert!(
        feed.contains("POST /api/v2/incoming_payments → 201"),
        "{feed}"
    );
    assert!(feed.contains("POST /oauth/token → 200"), "{feed}");
    // Newest first.
    let first = browser
        .wait_text("#feed tr:first-child", |t| !t.is_empty())
        .await;
    assert!(first.contains("STK prompt"), "{first}");

    // A refused request shows its error.
    let refused = app
        .get_with_token(&app.url("/api/v2/incoming_payments/nope"), "bad")
        .await;
    assert_eq!(refused.status(), 401);
    browser
        .wait_text("#feed", |t| {
            t.contains("GET /api/v2/incoming_payments/nope → 401")
                && t.contains("The access token is invalid")
        })
        .await;
    // The page's own requests (its icon, its assets) are not the app's: none is in the feed.
    assert!(!feed.contains("favicon"), "{feed}");
    // The header links to the OpenAPI document.
    let href = browser
        .eval("return document.querySelector('header a.api-doc').href")
        .await;
    assert_eq!(href, json!(app.url("/_sandbox/openapi.json")));
    let doc: serde_json::Value = app
        .client
        .get(href.as_str().expect("a URL"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    browser.screenshot("dashboard-activity").await;
    browser.finish().await;
}

#[tokio::test]
async fn the_admin_token_prompt_gates_the_dashboard() {
    let app = spawn_app_with(|args| args.admin_token = Some("s3cret".into())).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&app.url("/_sandbox/ui/"))
        .await
        .expect("open");
    browser
        .wait_text("#status", |t| t == "admin token needed")
        .await;
    let feed_hidden = browser
        .client
        .find(Locator::Css("#activity"))
        .await
        .expect("activity")
        .attr("hidden")
        .await
        .expect("attr");
    assert!(
        feed_hidden.is_some(),
        "nothing of the control plane shows without the token"
    );
    browser.screenshot("dashboard-token").await;

    let input = browser
        .client
        .find(Locator::Css("#token-input"))
        .await
        .expect("input");
    input.send_keys("s3cret").await.expect("type");
    browser
        .client
        .find(Locator::Css("#token-form button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    browser.wait_text("#status", |t| t == "live").await;
    app.token().await;
    browser
        .wait_text("#feed", |t| t.contains("POST /oauth/token → 200"))
        .await;
    browser.finish().await;
}

#[tokio::test]
async fn pay_on_the_phone_panel_then_replay_the_delivered_callback() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    browser.click("#tab-phone").await;
    browser
        .wait_text("#prompts", |t| t.contains("No prompt is waiting."))
        .await;

    let token = app.token().await;
    let mut request = stk_request(&receiver.url);
    request["subscriber"]["phone_number"] = json!("+254700000009");
    app.create("/api/v2/incoming_payments", &token, &request)
        .await;
    // The prompt appears on the handset without a reload.
    let handset = browser
        .wait_text("#prompts", |t| t.contains("+254700000009"))
        .await;
    assert!(
        handset.contains("Pay KES 20,000.00 to till K000000? Enter your M-PESA PIN."),
        "{handset}"
    );
    browser.screenshot("dashboard-phone").await;
    browser
        .click("#prompts .handset .answers button:first-child")
        .await;
    browser
        .wait_text("#prompts", |t| t.contains("No prompt is waiting."))
        .await;
    let received = receiver.wait_for(1).await;
    let signature = received[0].header("x-kopokopo-signature").to_string();

    browser.click("#tab-callbacks").await;
    let deliveries = browser
        .wait_text("#deliveries", |t| t.contains("delivered"))
        .await;
    assert!(deliveries.contains("incoming_payment"), "{deliveries}");
    assert!(
        deliveries.contains(&format!("X-KopoKopo-Signature: {signature}")),
        "{deliveries}"
    );
    browser.screenshot("dashboard-callbacks").await;
    browser.click("#deliveries tr:first-child button").await;
    let replayed = receiver.wait_for(2).await;
    assert_eq!(replayed[1].body, replayed[0].body, "byte for byte");
    browser
        .wait_text("#deliveries", |t| t.matches("delivered").count() == 2)
        .await;
    browser.finish().await;
}

#[tokio::test]
async fn the_money_and_clock_panels_set_a_balance_and_move_the_clock() {
    let app = spawn_virtual_app().await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;

    browser.click("#tab-clock").await;
    browser
        .wait_text("#clock-now", |t| t == "2026-05-01T10:00:00.000+03:00")
        .await;
    browser.click("[data-advance='1d']").await;
    browser
        .wait_text("#clock-now", |t| t == "2026-05-02T10:00:00.000+03:00")
        .await;
    browser
        .wait_text("#clock-mode", |t| t == "(virtual, 86400 s ahead)")
        .await;
    let to = browser
        .client
        .find(Locator::Css("#clock-to"))
        .await
        .expect("input");
    to.send_keys("2026-04-01T00:00:00+03:00")
        .await
        .expect("type");
    browser.click("#clock-form button").await;
    browser
        .wait_text("#clock-error", |t| {
            t == "The clock only moves forward: that instant has passed"
        })
        .await;
    assert_eq!(
        app.control("/_sandbox/clock").await["now"],
        "2026-05-02T10:00:00.000+03:00"
    );

    browser.click("#tab-money").await;
    browser
        .wait_text("#balances", |t| t.contains("company KES 1,000,000.00"))
        .await;
    let account = browser
        .client
        .find(Locator::Css("#balance-account"))
        .await
        .expect("input");
    account.send_keys("000000").await.expect("type");
    let amount = browser
        .client
        .find(Locator::Css("#balance-amount"))
        .await
        .expect("input");
    amount.send_keys("2500.50").await.expect("type");
    browser.click("#balance-form button").await;
    browser
        .wait_text("#balances", |t| t.contains("till 000000 KES 2,500.50"))
        .await;
    browser
        .wait_text("#ledger", |t| t.contains("balance set"))
        .await;
    assert_eq!(
        app.control("/_sandbox/balances").await["tills"]["000000"],
        "2500.5"
    );
    browser.screenshot("dashboard-money").await;
    browser.finish().await;
}

#[tokio::test]
async fn a_broken_scenario_pasted_in_the_scenarios_panel_shows_its_line_then_a_good_one_loads() {
    let app = spawn_app().await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    browser.click("#tab-scenarios").await;
    browser
        .wait_text("#scenario-list", |t| t.contains("No scenario loaded."))
        .await;

    let text = browser
        .client
        .find(Locator::Css("#scenario-text"))
        .await
        .expect("textarea");
    text.send_keys("name: qa\nfaults:\n  - endpoint: POTS /api/v2/polling\n    status: 503\n")
        .await
        .expect("type");
    browser.click("#scenario-form button").await;
    browser
        .wait_text("#scenario-message", |t| {
            t == "Line 3, column 15: faults[0].endpoint: POTS is not an HTTP method (did you mean `POST`?)"
        })
        .await;
    let marked = browser
        .wait_text("#scenario-lines li.bad", |t| !t.is_empty())
        .await;
    assert_eq!(marked, "  - endpoint: POTS /api/v2/polling");
    browser.screenshot("dashboard-scenario-problem").await;
    assert_eq!(
        app.control("/_sandbox/scenarios").await["scenarios"],
        json!([])
    );

    text.clear().await.expect("clear");
    text.send_keys("name: qa\nfaults:\n  - endpoint: POST /api/v2/polling\n    status: 503\n")
        .await
        .expect("type");
    browser.click("#scenario-form button").await;
    browser
        .wait_text("#scenario-loaded", |t| t == "Loaded qa.")
        .await;
    let list = browser
        .wait_text("#scenario-list", |t| t.contains("qa"))
        .await;
    assert!(list.contains("(dashboard)"), "{list}");
    assert!(list.contains("0 / 1 / 0"), "{list}");
    browser.click("#scenario-list button").await;
    browser
        .wait_text("#scenario-list", |t| t.contains("No scenario loaded."))
        .await;
    browser.finish().await;
}

#[tokio::test]
async fn the_trigger_panel_fires_a_webhook_to_the_subscribers() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received", "url": receiver.url, "scope": "company"}),
    )
    .await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    browser.click("#tab-trigger").await;
    let amount = browser
        .client
        .find(Locator::Css("#trigger-amount"))
        .await
        .expect("input");
    amount.send_keys("250").await.expect("type");
    browser.click("#trigger-form button").await;
    let result = browser
        .wait_text("#trigger-result", |t| t.starts_with("Fired "))
        .await;
    assert!(
        result.starts_with("Fired buygoods_transaction_received "),
        "{result}"
    );
    assert!(result.ends_with(": 1 delivery queued."), "{result}");
    let event = receiver.wait_for(1).await[0].json();
    assert_eq!(event["event"]["resource"]["amount"], "250.0");
    assert!(
        result.contains(&format!(
            "(reference {})",
            event["event"]["resource"]["reference"]
                .as_str()
                .expect("reference")
        )),
        "{result}"
    );

    // A refusal shows the sandbox's message.
    let transaction = browser
        .client
        .find(Locator::Css("#trigger-transaction"))
        .await
        .expect("input");
    transaction.send_keys("NOPE").await.expect("type");
    let select = browser
        .client
        .find(Locator::Css("#trigger-type"))
        .await
        .expect("select");
    select
        .select_by_value("buygoods_transaction_reversed")
        .await
        .expect("select");
    browser.click("#trigger-form button").await;
    browser
        .wait_text("#trigger-result", |t| {
            t.starts_with("No received buygoods transaction NOPE")
        })
        .await;
    browser.screenshot("dashboard-trigger").await;
    browser.finish().await;
}

#[tokio::test]
async fn every_panel_works_at_phone_width_by_keyboard_without_console_errors() {
    let app = spawn_app().await;
    let browser = Browser::start().await;
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("phone width");
    browser
        .client
        .goto(&app.url("/_sandbox/ui/"))
        .await
        .expect("open");
    browser.wait_text("#status", |t| t == "live").await;
    app.token().await;
    browser
        .wait_text("#feed", |t| t.contains("POST /oauth/token → 200"))
        .await;
    let panels = [
        ("tab-activity", "activity"),
        ("tab-phone", "phone"),
        ("tab-callbacks", "callbacks"),
        ("tab-money", "money"),
        ("tab-clock", "clock-panel"),
        ("tab-scenarios", "scenarios"),
        ("tab-trigger", "trigger"),
        ("tab-applications", "applications"),
    ];
    // The keyboard alone: focus the first tab, then the right arrow walks every panel.
    browser
        .eval("document.getElementById('tab-activity').focus()")
        .await;
    for (i, (tab, panel)) in panels.iter().enumerate() {
        if i > 0 {
            browser
                .client
                .active_element()
                .await
                .expect("focus")
                .send_keys("\u{E014}") // ArrowRight
                .await
                .expect("key");
        }
        let state = browser
            .eval(&format!(
                "const tab = document.getElementById('{tab}'), panel = document.getElementById('{panel}');
                 return {{focused: document.activeElement === tab,
                          selected: tab.getAttribute('aria-selected'),
                          shown: !panel.hidden,
                          others: [...document.querySelectorAll('[role=tabpanel]')].filter(p => !p.hidden).length,
                          overflow: document.documentElement.scrollWidth - window.innerWidth,
                          unlabelled: [...panel.querySelectorAll('input, select, textarea, button')]
                            .filter(c => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                                         && !c.textContent.trim() && c.type !== 'hidden')
                            .map(c => c.outerHTML)}};"
            ))
            .await;
        assert_eq!(state["focused"], true, "{tab}: {state}");
        assert_eq!(state["selected"], "true", "{tab}: {state}");
        assert_eq!(state["shown"], true, "{tab}: {state}");
        assert_eq!(state["others"], 1, "one panel at a time: {state}");
        assert!(
            state["overflow"].as_i64().expect("px") <= 0,
            "{tab} scrolls sideways at phone width: {state}"
        );
        assert_eq!(
            state["unlabelled"],
            json!([]),
            "{tab}: controls need labels"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        browser.assert_no_console_errors().await;
    }
    browser.click("#tab-phone").await;
    browser.screenshot("dashboard-phone-width").await;
    browser.finish().await;
}

#[tokio::test]
async fn a_payment_link_is_paid_end_to_end_on_its_page() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let token = app.token().await;
    let location = app
        .create(
            "/api/v2/payment_links",
            &token,
            &json!({
                "till_number": "112233", "currency": "KES", "amount": 1250,
                "payment_reference": "INV-2041", "note": "Two bags of coffee",
                "_links": {"callback_url": receiver.url}
            }),
        )
        .await;
    let link = app.link_url(&location, &token).await;
    let browser = Browser::start().await;
    browser
        .client
        .set_window_size(420, 860)
        .await
        .expect("phone width");
    browser.client.goto(&link).await.expect("open");
    let page = browser.wait_text("main", |t| t.contains("Pay")).await;
    assert!(page.contains("KES 1,250.00"), "{page}");
    assert!(page.contains("INV-2041"), "{page}");
    assert!(page.contains("Two bags of coffee"), "{page}");
    browser.screenshot("checkout").await;

    // A number M-PESA would refuse: the problem shows next to the field.
    let phone = browser
        .client
        .find(Locator::Css("#phone"))
        .await
        .expect("field");
    phone.send_keys("0712").await.expect("type");
    browser.click("form button").await;
    let problem = browser.wait_text("#phone-error", |t| !t.is_empty()).await;
    assert!(problem.to_lowercase().contains("phone"), "{problem}");

    // A phone that waits for its owner: "check your phone", followed live.
    let phone = browser
        .client
        .find(Locator::Css("#phone"))
        .await
        .expect("field");
    phone.clear().await.expect("clear");
    phone.send_keys("0700000009").await.expect("type");
    browser.click("form button").await;
    browser
        .wait_text("main", |t| t.contains("Check your phone"))
        .await;
    browser.eval("window.stillTheSamePage = true").await;
    browser.screenshot("checkout-waiting").await;
    let answered = app
        .client
        .post(app.url("/_sandbox/prompts/0700000009/pay"))
        .send()
        .await
        .expect("answer");
    assert_eq!(answered.status(), 200);
    let paid = browser.wait_text("main", |t| t.contains("Paid")).await;
    assert!(paid.contains("KES 1,250.00 received. Thank you."), "{paid}");
    assert!(paid.contains("+254700000009"), "{paid}");
    assert_eq!(
        browser
            .eval("return window.stillTheSamePage === true")
            .await,
        true,
        "followed without a reload"
    );
    let callback = receiver.wait_for(1).await.remove(0);
    assert!(callback.signature_verifies(API_KEY));
    let receipt = callback.json()["data"]["attributes"]["payment_link"]["transaction_reference"]
        .as_str()
        .expect("reference")
        .to_string();
    assert!(paid.contains(&receipt), "{paid}");
    browser.screenshot("checkout-paid").await;
    // Its Content-Security-Policy let its own script run and blocked nothing of its own.
    browser.assert_no_console_errors().await;
    browser.finish().await;
}

#[tokio::test]
async fn the_phone_panel_sets_how_a_number_answers_and_shows_the_sms_it_received() {
    let app = spawn_virtual_app().await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    browser.click("#tab-phone").await;
    let magic = browser
        .wait_text("#handsets", |t| t.contains("magic number"))
        .await;
    assert!(
        magic.contains("+254700000009 manual magic number"),
        "{magic}"
    );
    browser.wait_text("#sms", |t| t == "No SMS yet.").await;

    let phone = browser
        .client
        .find(Locator::Css("#handset-phone"))
        .await
        .expect("field");
    phone.send_keys("0711111111").await.expect("type");
    browser
        .client
        .find(Locator::Css("#handset-behaviour"))
        .await
        .expect("select")
        .select_by_value("cancel")
        .await
        .expect("select");
    browser.click("#handset-form button").await;
    browser
        .wait_text("#handsets", |t| t.contains("+254711111111 cancel you"))
        .await;
    let settings = app.control("/_sandbox/handsets").await;
    assert_eq!(
        settings["settings"],
        json!([{"phone_number": "+254711111111", "behaviour": "cancel", "client_id": null}])
    );
    // A number M-PESA would refuse is refused, and said so.
    phone.clear().await.expect("clear");
    phone.send_keys("12").await.expect("type");
    browser.click("#handset-form button").await;
    browser.wait_text("#handset-error", |t| !t.is_empty()).await;

    // An SMS notification for a received payment shows as a message on the phone, live.
    let token = app.token().await;
    let hooks = CallbackReceiver::start(Behaviour::Accept).await;
    app.create(
        "/api/v2/webhook_subscriptions",
        &token,
        &json!({"event_type": "buygoods_transaction_received", "url": hooks.url, "scope": "company"}),
    )
    .await;
    paid_stk_push(&app, &token, "+254712345678", 100).await;
    let event_id = hooks.wait_for(1).await[0].json()["id"]
        .as_str()
        .expect("event id")
        .to_string();
    app.create(
        "/api/v1/transaction_sms_notifications",
        &token,
        &json!({"webhook_event_reference": event_id, "message": "Asante for shopping with us",
                "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
    )
    .await;
    app.advance("1s").await;
    let sms = browser
        .wait_text("#sms", |t| t.contains("Asante for shopping with us"))
        .await;
    assert!(sms.contains("To +254712345678"), "{sms}");
    browser.screenshot("dashboard-phone-settings").await;
    browser.finish().await;
}

#[tokio::test]
async fn an_activity_item_opens_its_request_states_and_callbacks() {
    let app = spawn_app().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    let token = app.token().await;
    let location = app
        .create(
            "/api/v2/incoming_payments",
            &token,
            &stk_request(&receiver.url),
        )
        .await;
    let id = location.rsplit('/').next().expect("id").to_string();
    let received = receiver.wait_for(1).await;
    let signature = received[0].header("x-kopokopo-signature").to_string();
    app.get_json(&location, &token).await;
    browser
        .wait_text("#feed", |t| {
            t.contains(&format!("GET /api/v2/incoming_payments/{id} → 200"))
        })
        .await;

    // The create: its request body and its (empty) answer.
    browser
        .click("#feed tr[data-kind=request] td.what button[data-path='/api/v2/incoming_payments']")
        .await;
    let detail = browser
        .wait_text("#detail-body", |t| t.contains("Response 201"))
        .await;
    assert!(
        detail.contains("POST /api/v2/incoming_payments"),
        "{detail}"
    );
    assert!(
        detail.contains("\"phone_number\": \"+254999999999\""),
        "{detail}"
    );

    // The result: its states and the callback it caused, with the signature received.
    browser
        .click("#feed tr[data-kind=resource] td.what button")
        .await;
    let detail = browser
        .wait_text("#detail-body", |t| t.contains("delivered"))
        .await;
    assert!(detail.contains(&format!("Resource {id}")), "{detail}");
    assert!(
        detail.contains(&format!("incoming_payment {id} → Success")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("delivered: {}", receiver.url)),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("X-KopoKopo-Signature: {signature}")),
        "{detail}"
    );
    assert!(
        detail.contains("→ 200 in"),
        "an attempt with its status: {detail}"
    );
    browser.screenshot("dashboard-detail").await;
    browser.click("#detail-close").await;
    browser.finish().await;
}

#[tokio::test]
async fn the_application_switch_scopes_the_feed_and_the_clock_to_one_tenant() {
    let app = spawn_shared_app().await;
    let a = app.token_of("job-a", "secret-a").await;
    app.token_of("job-b", "secret-b").await;
    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    browser.click("#tab-applications").await;
    let list = browser
        .wait_text("#application-list", |t| t.contains("job-b"))
        .await;
    assert!(list.contains("job-a auto-provisioned"), "{list}");
    assert!(list.contains(&format!("{CLIENT_ID} configured")), "{list}");
    browser.screenshot("dashboard-applications").await;
    browser.click("button[aria-label='Show only job-a']").await;
    let scoped = browser
        .eval("return document.getElementById('scope').value")
        .await;
    assert_eq!(scoped, "job-a");
    browser.wait_text("#status", |t| t == "live").await;

    // Another application's requests stay out of the feed; job-a's show.
    browser.click("#tab-activity").await;
    app.token_of("job-b", "secret-b").await;
    app.get_with_token(&app.url("/api/v2/incoming_payments/x"), &a)
        .await;
    let feed = browser
        .wait_text("#feed", |t| t.contains("/api/v2/incoming_payments/x"))
        .await;
    // (job-a's own token request is in its history; job-b's never shows.)
    assert!(!feed.contains("job-b"), "{feed}");

    // The Clock panel moves job-a's clock only.
    browser.click("#tab-clock").await;
    browser
        .wait_text("#clock-whose", |t| t.starts_with("job-a's clock"))
        .await;
    browser.click("[data-advance='1h']").await;
    browser
        .wait_text("#clock-mode", |t| t == "(virtual, 3600 s ahead)")
        .await;
    assert_eq!(
        app.control("/_sandbox/clock?client_id=job-a").await["advanced_ms"],
        3_600_000
    );
    assert_eq!(
        app.control("/_sandbox/clock?client_id=job-b").await["advanced_ms"],
        0
    );
    assert_eq!(app.control("/_sandbox/clock").await["advanced_ms"], 0);
    browser.finish().await;
}

/// Opened after the fact, the dashboard shows what already happened (requests, results,
/// callback attempts, webhooks, SMS), keeps it across a reload and a filter change, and the
/// Callbacks panel filters by state and URL and shows each delivery's resource, attempts and
/// body.
#[tokio::test]
async fn the_dashboard_remembers_what_happened_before_it_opened() {
    let app = spawn_app().await;
    let token = app.token().await;
    let receiver = CallbackReceiver::start(Behaviour::Accept).await;
    let location = app
        .create(
            "/api/v2/incoming_payments",
            &token,
            &stk_request(&receiver.url),
        )
        .await;
    let id = location.rsplit('/').next().expect("id").to_string();
    receiver.wait_for(1).await;
    app.get_json(&location, &token).await;
    // A callback nobody answers: exhausted later, pending now.
    let mut dead = stk_request("http://127.0.0.1:9/dead-end");
    dead["subscriber"]["phone_number"] = json!("+254711222333");
    app.create("/api/v2/incoming_payments", &token, &dead).await;
    app.trigger(json!({"type": "customer_created"})).await;

    let browser = Browser::dashboard(&app.url("/_sandbox/ui/")).await;
    let feed = browser
        .wait_text("#feed", |t| {
            t.contains(&format!("incoming_payment {id} → Success"))
        })
        .await;
    assert!(
        feed.contains("POST /api/v2/incoming_payments → 201"),
        "{feed}"
    );
    assert!(feed.contains("POST /oauth/token → 200"), "{feed}");
    assert!(
        feed.contains(&format!("attempt 1 to {} → 200 (delivered)", receiver.url)),
        "{feed}"
    );
    assert!(feed.contains("customer_created"), "{feed}");
    browser.screenshot("dashboard-history").await;

    // A reload keeps it; a filter shows the kind it names, history included.
    browser.client.refresh().await.expect("reload");
    browser
        .wait_text("#feed", |t| {
            t.contains(&format!("incoming_payment {id} → Success"))
        })
        .await;
    browser
        .client
        .find(Locator::Css("#kind-filter"))
        .await
        .expect("select")
        .select_by_value("callback")
        .await
        .expect("select");
    let callbacks = browser
        .wait_text("#feed", |t| {
            !t.contains("POST /oauth/token") && t.contains("attempt 1")
        })
        .await;
    assert!(!callbacks.contains("customer_created"), "{callbacks}");
    // The resource's detail lists its result from the history.
    browser.click("#feed tr:last-child button.item").await;
    let detail = browser
        .wait_text("#detail-body", |t| t.contains("Callbacks"))
        .await;
    assert!(detail.contains("Success"), "{detail}");
    assert!(
        detail.contains(&format!("GET /api/v2/incoming_payments/{id} → 200")),
        "the status poll is in its history: {detail}"
    );

    // The Callbacks panel: resource, every attempt, the body; filtered by URL and by state.
    browser.click("#tab-callbacks").await;
    let all = browser
        .wait_text("#deliveries", |t| {
            t.contains("dead-end") && t.contains("delivered")
        })
        .await;
    assert!(all.contains(&id), "{all}");
    browser
        .click("#deliveries tr:last-child details summary")
        .await;
    browser
        .wait_text("#deliveries", |t| t.contains("\"status\": \"Success\""))
        .await;
    browser.screenshot("dashboard-callbacks-panel").await;
    let url = browser
        .client
        .find(Locator::Css("#callback-url"))
        .await
        .expect("input");
    url.send_keys("dead-end").await.expect("type");
    browser.click("#callback-filter button").await;
    browser
        .wait_text("#deliveries", |t| {
            t.contains("dead-end") && !t.contains(&id)
        })
        .await;
    browser
        .client
        .find(Locator::Css("#callback-state"))
        .await
        .expect("select")
        .select_by_value("delivered")
        .await
        .expect("select");
    browser
        .wait_text("#deliveries", |t| t.contains("No callback matches."))
        .await;

    // The header clock ticks on a real clock.
    let first = browser.wait_text("#clock", |t| t.contains("20")).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = browser.wait_text("#clock", |t| !t.is_empty()).await;
    assert_ne!(first, later, "the clock ticks");
    assert!(!later.contains("virtual"), "{later}");
    browser.assert_no_console_errors().await;
    browser.finish().await;
}

/// A web page elsewhere, as a developer might happen to visit one while a sandbox runs: served
/// from `http://localhost:PORT` (another site than the sandbox's `127.0.0.1`), it tries what a
/// page can do without CORS to the sandbox, prompt and link its query names, in the order its
/// `do=action,...` names: read the journal, answer a waiting prompt, load a scenario, pay a link
/// with the checkout's own form, reset the world. Each is a request Chromium really sends
/// (`no-cors` fetches, a form post into a frame). And what a developer's own web app does
/// (`app`): a token, then an STK push and a balance set, each preflighted (JSON, a bearer,
/// `PUT`), reading the push's `Location`. Its origin, and the server to stop.
async fn page_elsewhere() -> (String, tokio::task::JoinHandle<()>) {
    const PAGE: &str = r#"<!doctype html><title>elsewhere</title>
<iframe name="sink" id="sink"></iframe>
<form id="pay" method="post" target="sink">
  <input name="phone_number" value="0700000009">
</form>
<script>
const asked = new URLSearchParams(location.search);
const S = asked.get('sandbox');
const results = {};
const actions = {
  read: async () => {
    try { results.read = 'read ' + (await (await fetch(S + '/_sandbox/requests')).text()).length; }
    catch (e) { results.read = 'blocked'; }
  },
  prompt: () => fetch(S + '/_sandbox/prompts/' + asked.get('prompt') + '/pay',
                      {method: 'POST', mode: 'no-cors'}),
  scenario: () => fetch(S + '/_sandbox/scenarios',
                        {method: 'POST', mode: 'no-cors', body: 'name: planted\n'}),
  pay: () => new Promise(done => {
    const form = document.getElementById('pay');
    form.action = asked.get('link');
    document.getElementById('sink').onload = done;
    setTimeout(done, 5000);
    form.submit();
  }),
  reset: () => fetch(S + '/_sandbox/reset', {method: 'POST', mode: 'no-cors'}),
  app: async () => {
    try {
      const token = await (await fetch(S + '/oauth/token', {method: 'POST',
        body: new URLSearchParams({grant_type: 'client_credentials',
          client_id: 'sandbox-client-id', client_secret: 'sandbox-client-secret'})})).json();
      const pushed = await fetch(S + '/api/v2/incoming_payments', {method: 'POST',
        headers: {'Authorization': 'Bearer ' + token.access_token,
                  'Content-Type': 'application/json'},
        body: asked.get('stk')});
      const balance = await fetch(S + '/_sandbox/balances', {method: 'PUT',
        headers: {'Content-Type': 'application/json'}, body: '{"balance": "5"}'});
      results.app = [pushed.status, pushed.headers.get('Location'), balance.status].join(' ');
    } catch (e) { results.app = 'blocked'; }
  },
};
(async () => {
  for (const name of asked.get('do').split(',')) {
    try { await actions[name](); } catch (e) { results[name] = String(e); }
  }
  window.finished = results;
})();
</script>"#;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("addr").port();
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html(PAGE) }),
    );
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serves");
    });
    (format!("http://localhost:{port}"), server)
}

/// The page elsewhere pointed at `app`'s prompt and link, left to try `actions`; what it
/// could read once it has tried them all.
async fn run_page(
    browser: &Browser,
    origin: &str,
    app: &TestApp,
    world: &Waiting,
    actions: &str,
) -> Value {
    let mut url = url::Url::parse(origin).expect("origin");
    url.query_pairs_mut()
        .append_pair("sandbox", &app.base)
        .append_pair("prompt", &world.prompt)
        .append_pair("link", &world.link)
        .append_pair("stk", &stk_request("http://127.0.0.1:9/cb").to_string())
        .append_pair("do", actions);
    browser.client.goto(url.as_str()).await.expect("open");
    for _ in 0..150 {
        let finished = browser.eval("return window.finished || null").await;
        if !finished.is_null() {
            return finished;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page never finished {actions}");
}

/// A prompt waiting on a phone (its STK push's location and id) and a link on its checkout.
struct Waiting {
    push: String,
    prompt: String,
    link: String,
}

impl Waiting {
    async fn in_(app: &TestApp) -> Self {
        let token = app.token().await;
        let mut request = stk_request("http://127.0.0.1:9/cb");
        request["subscriber"]["phone_number"] = json!("+254700000009");
        let push = app
            .create("/api/v2/incoming_payments", &token, &request)
            .await;
        let prompt = push.rsplit('/').next().expect("id").to_string();
        let location = app
            .create(
                "/api/v2/payment_links",
                &token,
                &json!({"till_number": "112233", "currency": "KES", "amount": 100,
                        "payment_reference": "INV-1",
                        "_links": {"callback_url": "http://127.0.0.1:9/cb"}}),
            )
            .await;
        let link = app.link_url(&location, &token).await;
        Self { push, prompt, link }
    }

    /// What became of it: the push's status (or the HTTP status once it is gone), whether a
    /// scenario named `planted` is loaded, and the status of the link's checkout.
    async fn now(&self, app: &TestApp) -> (String, bool, Value) {
        let token = app.token().await;
        let response = app.get_with_token(&self.push, &token).await;
        let push = if response.status() == reqwest::StatusCode::OK {
            let body: Value = response.json().await.expect("json");
            body["data"]["attributes"]["status"].to_string()
        } else {
            response.status().to_string()
        };
        let planted = app
            .control("/_sandbox/scenarios")
            .await
            .to_string()
            .contains("\"planted\"");
        let checkout = app
            .client
            .get(format!("{}/status", self.link))
            .send()
            .await
            .expect("status")
            .json::<Value>()
            .await
            .expect("json");
        (push, planted, checkout["checkout"]["status"].clone())
    }
}

/// The attack #38 describes, from a real page on another site in real Chromium: it can
/// neither read the journal nor change anything. The same page from an origin named with
/// `--cors-origin` does each (so the refusals are the sandbox's, not the page's mistakes).
#[tokio::test]
async fn a_page_on_another_site_can_neither_read_nor_change_the_sandbox() {
    let (origin, server) = page_elsewhere().await;
    let browser = Browser::start().await;
    let every = "read,prompt,scenario,pay,app,reset";

    let app = spawn_virtual_app().await;
    let world = Waiting::in_(&app).await;
    let results = run_page(&browser, &origin, &app, &world, every).await;
    assert_eq!(results["read"], "blocked", "{results}");
    assert_eq!(results["app"], "blocked", "{results}");
    assert_eq!(app.balances().await["company"], "1000000.0");
    assert_eq!(
        world.now(&app).await,
        ("\"Pending\"".into(), false, Value::Null),
        "nothing changed"
    );
    assert_eq!(
        app.control("/_sandbox/prompts").await["prompts"][0]["id"],
        json!(world.prompt)
    );

    let listed = spawn_app_with(|args| {
        args.clock = Some(FIXED_CLOCK.parse().expect("fixed clock"));
        args.cors_origin = vec![origin.clone()];
    })
    .await;
    let world = Waiting::in_(&listed).await;
    let results = run_page(
        &browser,
        &origin,
        &listed,
        &world,
        "read,prompt,scenario,pay,app",
    )
    .await;
    assert!(
        results["read"]
            .as_str()
            .is_some_and(|r| r.starts_with("read ")),
        "{results}"
    );
    let app_did = results["app"].as_str().unwrap_or_default();
    let pushed = format!("201 {}/api/v2/incoming_payments/", listed.base);
    assert!(
        app_did.starts_with(&pushed) && app_did.ends_with(" 200"),
        "{results}"
    );
    assert_eq!(listed.balances().await["company"], "5.0");
    assert_eq!(
        world.now(&listed).await,
        ("\"Success\"".into(), true, json!("Pending")),
        "each action acted"
    );
    run_page(&browser, &origin, &listed, &world, "reset").await;
    assert_eq!(world.now(&listed).await.0, "404 Not Found", "reset");

    browser.client.close().await.expect("close");
    server.abort();
}
