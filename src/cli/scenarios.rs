//! `scenario`, `probes`, `validate` and `verify`: scenarios loaded, their probes, files
//! checked, expectations judged.

use crate::report::count;
use reqwest::Method;
use serde_json::json;

use super::client::{Client, Failure, Outcome, encode, read_as, shown_as};
use super::show::line;
use crate::config::{ListArgs, ScenarioArgs};
use crate::wire::control::{DeliveryLog, DeliveryView, Loaded, ScenarioList, Unloaded};

pub(super) async fn scenario(client: &Client, s: ScenarioArgs) -> Outcome {
    use crate::config::ScenarioAction;
    let json = s.list.json;
    match s.action {
        ScenarioAction::Load { files } => load(client, files, json).await,
        ScenarioAction::List => list(client, json).await,
        ScenarioAction::Export { name, with_secrets } => {
            export(client, &name, s.list.client_id.as_deref(), with_secrets).await
        }
        ScenarioAction::Unload { name } => {
            let path = format!("/_sandbox/scenarios/{}", encode(&name));
            let answer = client.call(Method::DELETE, &path, None).await?;
            shown_as(json, answer, |a: &Unloaded| {
                format!(
                    "unloaded {name}: {}",
                    contents(
                        a.rules,
                        a.faults,
                        a.callback_faults,
                        a.timeline,
                        "pending moment"
                    )
                )
            })
        }
    }
}

/// `scenario load FILE...`: each file all or nothing, with its notes.
async fn load(client: &Client, files: Vec<std::path::PathBuf>, json: bool) -> Outcome {
    let mut lines = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let bytes = crate::scenario::read_file(&path)
            .map_err(|e| Failure::Refused(format!("{name}: {e}")))?;
        let request = client
            .http
            .post(format!("{}/_sandbox/scenarios", client.base))
            .query(&[("source", &name)])
            .header(reqwest::header::CONTENT_TYPE, "application/yaml")
            .body(bytes);
        let answer = client.send(request).await?;
        lines.push(shown_as(json, answer, |a: &Loaded| {
            let mut shown: String = a.notes.iter().map(|n| format!("note: {n}\n")).collect();
            shown.push_str(&format!(
                "{name}: loaded {} ({})",
                a.scenarios.join(", "),
                contents(
                    a.rules,
                    a.faults,
                    a.callback_faults,
                    a.timeline,
                    "timeline moment"
                )
            ));
            shown
        })?);
    }
    Ok(lines.join("\n"))
}

/// `scenario list`.
async fn list(client: &Client, json: bool) -> Outcome {
    let answer = client.get("/_sandbox/scenarios", &[]).await?;
    shown_as(json, answer, |a: &ScenarioList| {
        let rows: Vec<Vec<String>> = a
            .scenarios
            .iter()
            .map(|s| {
                let v = &s.probe_verdicts;
                vec![
                    s.name.clone(),
                    s.source.clone(),
                    s.loaded_at.clone(),
                    format!("{}/{}/{}", s.rules, s.faults, s.callback_faults),
                    format!("{} of {}", s.timeline_pending, s.timeline),
                    format!(
                        "{} passed, {} failed, {} waiting",
                        v.passed, v.failed, v.waiting
                    ),
                ]
            })
            .collect();
        crate::report::table(
            &[
                "NAME",
                "SOURCE",
                "LOADED",
                "RULES/FAULTS/CB",
                "PENDING",
                "PROBES",
            ],
            &rows,
        )
    })
}

/// `scenario export`: the world as YAML.
async fn export(client: &Client, name: &str, client_id: Option<&str>, secrets: bool) -> Outcome {
    let mut request = client
        .http
        .get(format!("{}/_sandbox/scenarios/export", client.base))
        .query(&[("name", name)]);
    if secrets {
        request = request.query(&[("secrets", "include")]);
    }
    if let Some(c) = client_id {
        request = request.query(&[("client_id", c)]);
    }
    if let Some(token) = &client.admin_token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Unreachable(format!("cannot reach {}: {e}", client.base)))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(Failure::Refused(format!("{status}: {text}")));
    }
    Ok(text.trim_end().to_string())
}

pub(super) async fn probes(client: &Client, p: ListArgs) -> Outcome {
    let answer = client
        .get(
            "/_sandbox/callbacks",
            &[("client_id", p.client_id), ("limit", Some("1000".into()))],
        )
        .await?;
    let log: DeliveryLog = read_as(answer)?;
    let probes: Vec<&DeliveryView> = log
        .deliveries
        .iter()
        .filter(|d| d.probe.is_some())
        .collect();
    if p.json {
        return Ok(serde_json::to_string_pretty(&json!({ "probes": probes })).unwrap_or_default());
    }
    let rows: Vec<Vec<String>> = probes
        .iter()
        .filter_map(|d| d.probe.as_ref().map(|probe| (d, probe)))
        .map(|(d, probe)| {
            vec![
                probe.scenario.as_deref().unwrap_or("-").to_string(),
                probe.kind.name().into(),
                match probe.expect {
                    crate::domain::delivery::Expected::Accept => "accept".into(),
                    crate::domain::delivery::Expected::Reject => "reject".into(),
                },
                probe.outcome.map_or("-", |o| o.name()).into(),
                match probe.passed {
                    Some(true) => "PASS".into(),
                    Some(false) => "FAIL".into(),
                    None => "waiting".into(),
                },
                d.target.clone(),
            ]
        })
        .collect();
    Ok(crate::report::table(
        &["SCENARIO", "PROBE", "EXPECT", "OUTCOME", "VERDICT", "URL"],
        &rows,
    ))
}

/// Reads and checks scenario files, without a sandbox.
pub(super) fn validate(files: &[std::path::PathBuf]) -> Outcome {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let parsed = crate::scenario::read_file(path)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|bytes| crate::scenario::read(&name, &bytes).map_err(|p| p.to_string()));
        match parsed {
            Ok(scenarios) => {
                for note in scenarios.iter().flat_map(|s| &s.notes) {
                    lines.push(format!("note: {note}"));
                }
                lines.push(format!(
                    "{name}: ok ({} scenario{})",
                    scenarios.len(),
                    if scenarios.len() == 1 { "" } else { "s" }
                ));
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(lines.join("\n"))
    } else {
        for text in &lines {
            line(format_args!("{text}"));
        }
        Err(Failure::Refused(problems.join("\n")))
    }
}

/// `verify`: the running sandbox's verdicts, as a table (or JSON), and the reports asked for.
pub(super) async fn verify(client: &Client, v: crate::config::VerifyArgs) -> Outcome {
    let answer = client.get("/_sandbox/verify", &[]).await?;
    let report: crate::service::verify::Report = serde_json::from_value(answer)
        .map_err(|e| Failure::Refused(format!("an answer that is not a verdict report: {e}")))?;
    crate::report::write(&report, None, v.junit.as_deref(), v.report.as_deref())
        .map_err(|e| Failure::Refused(format!("{e:#}")))?;
    let shown = if v.json {
        crate::report::json(&report, None)
    } else {
        crate::report::verdicts(&report, None)
    };
    if report.passed {
        Ok(shown)
    } else {
        Err(Failure::Failed(shown))
    }
}

/// What a scenario holds, counted: "1 rule, 0 faults, 2 callback faults, 1 timeline moment"
/// (its moments named `moment`).
fn contents(
    rules: usize,
    faults: usize,
    callback_faults: usize,
    moments: usize,
    moment: &str,
) -> String {
    [
        count(rules, "rule", "rules"),
        count(faults, "fault", "faults"),
        count(callback_faults, "callback fault", "callback faults"),
        count(moments, moment, &format!("{moment}s")),
    ]
    .join(", ")
}
