//! How results are shown and reported: tables for the terminal (every client command's), JUnit XML that CI services
//! render (GitHub Actions, GitLab, Jenkins), and the same verdicts as JSON. Shared by
//! `k2-sandbox run` and `k2-sandbox verify`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use crate::service::verify::{Report, ScenarioVerdicts, Verdict};

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
            (Some(code), Some(error)) => format!("{error} (exit code {code})"),
            (Some(code), None) => format!("exited with {code}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "ended without an exit code".into(),
        }
    }
}

/// The verdicts as a table: one row per expectation, then what each failed one expected and
/// found. Cells wrap to the terminal's width (100 columns off a terminal, `COLUMNS` when set):
/// nothing is cut, so a CI log shows every word. The command is one line, shortened in its
/// middle; it is written out whole below when it failed.
pub fn verdicts(report: &Report, command: Option<&CommandOutcome>) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut failures = Vec::new();
    if let Some(c) = command {
        rows.push(vec![
            verdict(c.passed()).into(),
            "(command)".into(),
            shortened(&c.command, COMMAND_CHARS),
            c.summary(),
        ]);
        if !c.passed() {
            failures.push(format!(
                "FAIL (command) › {}\n  {}",
                one_line(&c.command),
                c.summary()
            ));
        }
    }
    for s in &report.scenarios {
        for v in &s.expectations {
            rows.push(vec![
                verdict(v.passed).into(),
                s.scenario.clone(),
                v.name.clone(),
                one_line(&v.actual),
            ]);
            if !v.passed {
                failures.push(failure(s, v));
            }
        }
    }
    let mut out = if rows.is_empty() {
        "no expectations: load a scenario with an `expect:` section".to_string()
    } else {
        wrapped_table(
            &["verdict", "scenario", "expectation", "found"],
            &rows,
            &[None, Some(24), Some(44), None],
            width(),
        )
    };
    for f in failures {
        out.push_str("\n\n");
        out.push_str(&f);
    }
    let failed = report.failed + usize::from(command.is_some_and(|c| !c.passed()));
    let total = report.expectations + usize::from(command.is_some());
    out.push_str(&format!(
        "\n\n{}, {} passed, {failed} failed",
        count(total, "check", "checks"),
        total - failed
    ));
    out
}

/// What a failed expectation expected, found and counted, below the table.
fn failure(s: &ScenarioVerdicts, v: &Verdict) -> String {
    format!(
        "FAIL {} › {} ({}, {})\n  expected: {}\n  actual:   {}{}",
        s.scenario,
        v.name,
        s.source,
        v.field,
        v.expected,
        v.actual,
        ids(v).map_or(String::new(), |ids| format!("\n  ids:      {ids}"))
    )
}

/// The most characters of a command the table shows.
const COMMAND_CHARS: usize = 44;

/// The width tables wrap to: the terminal's, else `COLUMNS`, else 100.
fn width() -> usize {
    use std::io::IsTerminal as _;
    let terminal = std::io::stdout()
        .is_terminal()
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(w, _)| usize::from(w.0));
    terminal
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(100)
        .max(60)
}

/// `text` on one line: every run of whitespace (newlines too) one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line of at most `max` characters: its start and its end, joined by `…`.
fn shortened(text: &str, max: usize) -> String {
    let line = one_line(text);
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= max {
        return line;
    }
    let head = (max - 1) * 2 / 3;
    let tail = max - 1 - head;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{}…{}", start.trim_end(), end.trim_start())
}

/// `text` in lines of at most `width` characters, broken at spaces (a word longer than a line
/// is broken where the line ends).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let room = if used == 0 {
                width
            } else {
                width.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            lines.push(word[..width].iter().collect());
            word.drain(..width);
        }
    }
    lines.push(line);
    lines
}

/// Rows as a table whose cells wrap: a column with a cap is at most that wide, and the last
/// column takes what is left of `width` (at least 30); a row's later lines are blank in the
/// columns that ended.
pub fn wrapped_table(
    header: &[&str],
    rows: &[Vec<String>],
    caps: &[Option<usize>],
    width: usize,
) -> String {
    let last = header.len() - 1;
    let mut widths: Vec<usize> = (0..header.len())
        .map(|i| {
            let widest = rows
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0);
            caps[i].map_or(widest, |cap| widest.min(cap.max(header[i].len())))
        })
        .collect();
    let before: usize = widths[..last].iter().map(|w| w + 2).sum();
    widths[last] = widths[last].min(width.saturating_sub(before).max(30));
    let mut out = Vec::new();
    let mut line = |cells: Vec<Vec<String>>| {
        let height = cells.iter().map(Vec::len).max().unwrap_or(1);
        for n in 0..height {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{:<w$}", c.get(n).map_or("", String::as_str)))
                .collect();
            out.push(padded.join("  ").trim_end().to_string());
        }
    };
    line(header.iter().map(|h| vec![h.to_string()]).collect());
    for row in rows {
        line(
            row.iter()
                .zip(&widths)
                .map(|(cell, w)| wrap(cell, *w))
                .collect(),
        );
    }
    out.join("\n")
}

/// `n` and its noun, singular for one: `1 rule`, `2 rules`, `1 delivery`, `0 deliveries`.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
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
                        one_line(&v.actual)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_wrap_at_spaces_and_nothing_is_cut() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        let text =
            "2: #5 POST /links/e356b2be-bfe7-4dcc-abf8-33eb326e45d0 -> 400, #6 GET /x -> 404";
        let lines = wrap(text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn a_long_command_is_one_line_with_its_start_and_end() {
        let command = format!(
            "sh -c 'python3 app.py\n  && {} && echo done'",
            "x ".repeat(300)
        );
        let short = shortened(&command, 44);
        assert_eq!(short.chars().count(), 44, "{short}");
        assert!(short.starts_with("sh -c 'python3 app.py &&"), "{short}");
        assert!(short.ends_with("&& echo done'"), "{short}");
        assert!(!short.contains('\n'));
        assert_eq!(shortened("python3 app.py", 44), "python3 app.py");
    }

    #[test]
    fn a_table_wraps_its_last_column_to_the_width() {
        let rows = vec![vec![
            "FAIL".to_string(),
            "checkout".to_string(),
            "no invalid requests".to_string(),
            "word ".repeat(40).trim_end().to_string(),
        ]];
        let table = wrapped_table(
            &["v", "s", "e", "found"],
            &rows,
            &[None, None, None, None],
            80,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines.len() > 3, "{table}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{table}");
        assert_eq!(table.matches("word").count(), 40);
        // Continuation lines start under the column they continue.
        let column = lines[1].find("word").expect("found");
        assert_eq!(lines[2].find("word"), Some(column), "{table}");
    }
}
