//! How results are shown and reported: tables for the terminal (every client command's), JUnit XML that CI services
//! render (GitHub Actions, GitLab, Jenkins), and the same verdicts as JSON. Shared by
//! `k2-sandbox run` and `k2-sandbox verify`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::service::verify::{Report, Verdict};

/// The command `run` ran and how it ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommandOutcome {
    /// The command line, as given.
    pub command: String,
    /// Its exit code; `None` if a signal ended it (or it could not start).
    pub code: Option<i32>,
    /// The signal that ended it.
    pub signal: Option<u8>,
    /// Why it has no code, or could not start.
    pub error: Option<String>,
    #[serde(serialize_with = "seconds")]
    pub duration: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl CommandOutcome {
    pub fn passed(&self) -> bool {
        self.code == Some(0)
    }

    fn summary(&self) -> String {
        match (self.code, &self.error) {
            (Some(0), _) => "exited with 0".into(),
            (Some(code), _) => format!("exited with {code}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "ended without an exit code".into(),
        }
    }
}

/// The verdicts as a table: one row per expectation, then what each failed one expected and
/// found.
pub fn verdicts(report: &Report, command: Option<&CommandOutcome>) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some(c) = command {
        rows.push(vec![
            verdict(c.passed()).into(),
            "(command)".into(),
            c.command.clone(),
            c.summary(),
        ]);
    }
    let mut failures = Vec::new();
    for s in &report.scenarios {
        for v in &s.expectations {
            rows.push(vec![
                verdict(v.passed).into(),
                s.scenario.clone(),
                v.name.clone(),
                one_line(&v.actual, 60),
            ]);
            if !v.passed {
                failures.push(format!(
                    "FAIL {} › {} ({}, {})\n  expected: {}\n  actual:   {}{}",
                    s.scenario,
                    v.name,
                    s.source,
                    v.field,
                    v.expected,
                    v.actual,
                    ids(v).map_or(String::new(), |ids| format!("\n  ids:      {ids}"))
                ));
            }
        }
    }
    let mut out = if rows.is_empty() {
        "no expectations: load a scenario with an `expect:` section".to_string()
    } else {
        table(&["verdict", "scenario", "expectation", "found"], &rows)
    };
    for f in failures {
        out.push_str("\n\n");
        out.push_str(&f);
    }
    let failed = report.failed + usize::from(command.is_some_and(|c| !c.passed()));
    let total = report.expectations + usize::from(command.is_some());
    out.push_str(&format!(
        "\n\n{total} checks, {} passed, {failed} failed",
        total - failed
    ));
    out
}

/// Rows as a table: a header line, then each row, columns padded to their widest cell.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return "(none)".into();
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    std::iter::once(line(header.to_vec()))
        .chain(
            rows.iter()
                .map(|r| line(r.iter().map(String::as_str).collect())),
        )
        .collect::<Vec<_>>()
        .join("\n")
}

fn verdict(passed: bool) -> &'static str {
    if passed { "PASS" } else { "FAIL" }
}

fn ids(v: &Verdict) -> Option<String> {
    (!v.ids.is_empty()).then(|| v.ids.join(", "))
}

/// `text` on one line, cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// JUnit XML: one suite per scenario with a case per expectation, and a suite for the
/// command `run` ran.
pub fn junit(report: &Report, command: Option<&CommandOutcome>) -> anyhow::Result<String> {
    let mut junit = quick_junit::Report::new("k2-sandbox");
    if let Some(c) = command {
        let mut suite = TestSuite::new("command");
        let status = if c.passed() {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{} {}", c.command, c.summary()));
            status
        };
        let mut case = TestCase::new(c.command.as_str(), status);
        case.set_classname("command").set_time(c.duration);
        suite.add_test_case(case);
        junit.add_test_suite(suite);
    }
    for s in &report.scenarios {
        let mut suite = TestSuite::new(s.scenario.as_str());
        for v in &s.expectations {
            let status = if v.passed {
                TestCaseStatus::success()
            } else {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(format!(
                        "expected {}; found {}",
                        v.expected,
                        one_line(&v.actual, 200)
                    ))
                    .set_type(v.check.as_str())
                    .set_description(format!(
                        "{} ({}, {})\nexpected: {}\nactual: {}{}",
                        v.name,
                        s.source,
                        v.field,
                        v.expected,
                        v.actual,
                        ids(v).map_or(String::new(), |ids| format!("\nids: {ids}"))
                    ));
                status
            };
            let mut case = TestCase::new(v.name.as_str(), status);
            case.set_classname(s.scenario.as_str());
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().context("writing the JUnit report")
}

/// The verdicts as JSON, with the command's outcome when there is one.
pub fn json(report: &Report, command: Option<&CommandOutcome>) -> String {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(c) = command {
        value["command"] = serde_json::to_value(c).unwrap_or_default();
        value["passed"] = serde_json::Value::Bool(report.passed && c.passed());
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Writes the reports asked for.
pub fn write(
    report: &Report,
    command: Option<&CommandOutcome>,
    junit_file: Option<&Path>,
    json_file: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(path) = junit_file {
        std::fs::write(path, junit(report, command)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = json_file {
        std::fs::write(path, json(report, command))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
