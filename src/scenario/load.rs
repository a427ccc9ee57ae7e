//! Reading scenario files: bytes to text within the budgets, the YAML gate (`locate`), serde
//! into the format's types, and the checks the types cannot make. Every problem names its file,
//! line, column and field; nothing here touches the running sandbox.

use super::locate;
use super::model::{Scenario, ScopeSpec};
use super::problems::{Origin, Problem, Problems};

/// Reads scenario text from bytes (a file or a request body): UTF-8 without control
/// characters, at most [`MAX_FILE_BYTES`]; then [`parse`]. Every refusal names its position.
pub fn read(file: &str, bytes: &[u8]) -> Result<Vec<Scenario>, Problems> {
    let at = |offset: usize, message: String| {
        let before = &bytes[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Problems(vec![Problem {
            file: file.to_string(),
            line: Some(line),
            column: Some(column),
            field: "(document)".into(),
            message,
        }])
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Problems(vec![Problem::of_file(
            file,
            "(file)",
            format!("larger than {MAX_FILE_BYTES} bytes, the most a scenario file may hold"),
        )]));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        at(
            e.valid_up_to(),
            "not UTF-8 text: a scenario is YAML saved as UTF-8".into(),
        )
    })?;
    // YAML allows no C0 control character but tab, line feed and carriage return.
    if let Some((offset, c)) = text
        .char_indices()
        .find(|(_, c)| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(at(
            offset,
            format!(
                "control character U+{:04X} is not allowed in YAML",
                u32::from(c)
            ),
        ));
    }
    parse(file, text)
}

/// Parses every document of a scenario file and checks what the types cannot. Reports every
/// problem it finds: the first one of each document the types reject, and every one the checks
/// find in the documents that parse.
pub fn parse(file: &str, text: &str) -> Result<Vec<Scenario>, Problems> {
    // The gate: a syntax error or a spent budget is the one problem of the file, and
    // serde_yaml_ng never sees such text.
    let spans = locate::documents(text).map_err(|e| {
        Problems(vec![Problem {
            file: file.to_string(),
            line: Some(e.line),
            column: Some(e.column),
            field: "(document)".into(),
            message: e.message,
        }])
    })?;
    let documents = spans.len();
    let mut spans = spans.into_iter();
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    // At most as many documents as the gate counted: should libyaml ever disagree with it,
    // its iterator (which repeats a syntax error forever) still ends.
    for document in serde_yaml_ng::Deserializer::from_str(text).take(documents) {
        let origin = Origin {
            file: file.to_string(),
            spans: spans.next().unwrap_or_default(),
        };
        // An empty document (`---` alone, `null`, `~`) holds no scenario and is passed over.
        match serde_path_to_error::deserialize::<_, Option<Scenario>>(document) {
            Ok(None) => {}
            Ok(Some(mut scenario)) => {
                problems.extend(
                    check(&scenario)
                        .into_iter()
                        .map(|(field, message)| origin.problem(field, message)),
                );
                scenario.origin = origin;
                scenarios.push(scenario);
            }
            Err(e) => {
                let problem = type_problem(file, e);
                // After a syntax error libyaml repeats it for every document that follows.
                if problems.last() == Some(&problem) {
                    break;
                }
                problems.push(problem);
            }
        }
    }
    if scenarios.is_empty() && problems.is_empty() {
        problems.push(Problem::of_file(
            file,
            "(document)",
            "the file holds no scenario".into(),
        ));
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(capped(file, problems))
    }
}

/// A document the format's types reject, at serde's position and path.
fn type_problem(file: &str, e: serde_path_to_error::Error<serde_yaml_ng::Error>) -> Problem {
    let field = e.path().to_string();
    let inner = e.into_inner();
    let location = inner.location();
    Problem {
        file: file.to_string(),
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        // "." is the document itself; "?" a syntax error libyaml found where the gate did not.
        field: if field == "." || field == "?" {
            "(document)".into()
        } else {
            field
        },
        message: with_suggestion(strip_location(&inner.to_string())),
    }
}

/// serde's "unknown variant `x`, expected one of `a`, `b`" (and the same for fields) with
/// the closest expected name as a "did you mean".
fn with_suggestion(message: String) -> String {
    let unknown = ["unknown variant `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix));
    let Some(rest) = unknown else {
        return message;
    };
    let Some((word, expected)) = rest.split_once('`') else {
        return message;
    };
    let candidates = expected.split('`').skip(1).step_by(2);
    let hint = crate::suggest::did_you_mean(word, candidates);
    message + &hint
}

/// At most [`MAX_PROBLEMS`], and a last line saying how many more there were.
fn capped(file: &str, mut problems: Vec<Problem>) -> Problems {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(Problem::of_file(
            file,
            "(file)",
            format!("{more} more problems not shown"),
        ));
    }
    Problems(problems)
}

/// The largest scenario file read, whether from disk or a request body.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The most problems one file reports; a file of thousands of broken documents says how many
/// more there are instead.
const MAX_PROBLEMS: usize = 50;

/// serde_yaml_ng prefixes the path ("world.handsets[0]: ") and appends " at line L column C";
/// the problem shows both separately. serde quotes the offending value, which may be a
/// megabyte long: the message is cut to [`MAX_MESSAGE_CHARS`].
fn strip_location(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let message = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => rest,
        _ => message,
    };
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &message[..cut]),
        None => message.to_string(),
    }
}

/// The longest problem message shown.
const MAX_MESSAGE_CHARS: usize = 500;

/// Checks across fields: (field, message) of every problem.
fn check(s: &Scenario) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    check_world(s, &mut problems);
    check_faults(s, &mut problems);
    check_timeline(s, &mut problems);
    check_expect(s, &mut problems);
    problems
}

fn check_world(s: &Scenario, problems: &mut Vec<(String, String)>) {
    for (i, r) in s.world.external_recipients.iter().enumerate() {
        match crate::domain::recipients::recipient_type(Some(&r.kind)) {
            Err(e) => problems.push((format!("world.external_recipients[{i}].type"), e.0)),
            Ok(kind) => {
                if let Err(e) = r.fields.external_recipient(kind) {
                    problems.push((format!("world.external_recipients[{i}]"), e.0));
                }
            }
        }
    }
    for (i, sub) in s.world.webhook_subscriptions.iter().enumerate() {
        if matches!(sub.scope, ScopeSpec::Till)
            && sub.scope_reference.as_deref().is_none_or(str::is_empty)
        {
            problems.push((
                format!("world.webhook_subscriptions[{i}].scope_reference"),
                "a till scope needs the till number".into(),
            ));
        }
    }
}

fn check_faults(s: &Scenario, problems: &mut Vec<(String, String)>) {
    for (i, fault) in s.faults.iter().enumerate() {
        let mut problem = |name: &str, message: String| {
            problems.push((format!("faults[{i}].{name}"), message));
        };
        if let Some(status) = fault.status {
            if ![429, 500, 502, 503, 504].contains(&status) {
                problem(
                    "status",
                    format!("{status} is not a fault status: use 429, 500, 502, 503 or 504"),
                );
            }
        }
        if fault.status.is_none() && fault.latency.is_none() && !fault.drop {
            problem(
                "status",
                "a fault needs a status, a latency or drop: true".into(),
            );
        }
        if fault.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            problem("probability", "a probability is between 0.0 and 1.0".into());
        }
        if let Some(message) = endpoint_problem(&fault.endpoint, "the fault could never apply") {
            problem("endpoint", message);
        }
    }
}

/// What is wrong with a fault's or an expectation's `METHOD /path` or `/path`: its form, a
/// method that is not HTTP's, or a path that reaches no API route (`so` says what follows).
fn endpoint_problem(endpoint: &str, so: &str) -> Option<String> {
    use crate::suggest::did_you_mean;
    let Some((method, path)) = crate::script::faults::endpoint(endpoint) else {
        return Some(format!("{endpoint:?} is not `METHOD /path` or `/path`"));
    };
    if let Some(method) = method.as_deref()
        && !crate::routes::METHODS.contains(&method)
    {
        return Some(format!(
            "{method} is not an HTTP method{}",
            did_you_mean(method, crate::routes::METHODS.iter().copied())
        ));
    }
    if crate::routes::reaches(method.as_deref(), &path) {
        return None;
    }
    let served_otherwise = method.is_some() && crate::routes::reaches(None, &path);
    Some(if served_otherwise {
        format!(
            "no API route answers {} {path}: it is served for other methods",
            method.unwrap_or_default()
        )
    } else {
        format!(
            "{path} is not a path of the API, so {so}{}",
            did_you_mean(&path, crate::routes::paths())
        )
    })
}

fn check_timeline(s: &Scenario, problems: &mut Vec<(String, String)>) {
    for (i, moment) in s.timeline.iter().enumerate() {
        let actions = [
            moment.event.is_some(),
            moment.answer.is_some(),
            moment.pay_link.is_some(),
            moment.jump.is_some(),
        ];
        if actions.iter().filter(|a| **a).count() != 1 {
            problems.push((
                format!("timeline[{i}]"),
                "a moment has exactly one of `event`, `answer`, `pay_link` or `jump`".into(),
            ));
        }
    }
}

fn check_expect(s: &Scenario, problems: &mut Vec<(String, String)>) {
    use crate::script::expect::CHECKS;
    let mut names = std::collections::HashSet::new();
    for (i, e) in s.expect.iter().enumerate() {
        let mut problem = |name: &str, message: String| {
            let field = if name.is_empty() {
                format!("expect[{i}]")
            } else {
                format!("expect[{i}].{name}")
            };
            problems.push((field, message));
        };
        if e.checks().len() != 1 {
            problem(
                "",
                format!(
                    "an expectation has exactly one of `{}`",
                    CHECKS.join("`, `")
                ),
            );
            continue;
        }
        if !names.insert(e.name()) {
            problem(
                "name",
                format!(
                    "another expectation is named {:?}: names tell them apart in reports",
                    e.name()
                ),
            );
        }
        if let Some(endpoint) = e.requests.as_ref().and_then(|r| r.endpoint.as_deref())
            && let Some(message) = endpoint_problem(endpoint, "no request could match it")
        {
            problem("requests.endpoint", message);
        }
        if let Some(c) = &e.callbacks {
            if c.acknowledged.is_none() && c.exhausted.is_none() {
                problem(
                    "callbacks",
                    "say `acknowledged` (all or a number), `exhausted` (a number), or both".into(),
                );
            }
            if c.within.is_some() && c.acknowledged.is_none() {
                problem(
                    "callbacks.within",
                    "`within` bounds how fast callbacks were acknowledged: add `acknowledged`"
                        .into(),
                );
            }
        }
        if let Some(r) = &e.resources
            && let Some(status) = &r.status
            && !r
                .kind
                .statuses()
                .iter()
                .any(|s| s.eq_ignore_ascii_case(status.trim()))
        {
            problem(
                "resources.status",
                format!(
                    "{} show {}, not {status:?}{}",
                    r.kind.name(),
                    r.kind.statuses().join(", "),
                    crate::suggest::did_you_mean(status, r.kind.statuses().iter().copied())
                ),
            );
        }
        if let Some(b) = &e.balance
            && b.equals.is_none()
            && b.at_least.is_none()
            && b.at_most.is_none()
        {
            problem(
                "balance",
                "say what it must be: `equals`, `at_least` or `at_most`".into(),
            );
        }
    }
}

/// The bytes of a scenario file, reading no more than one byte past [`MAX_FILE_BYTES`] (so
/// that pointing at a huge file or a device is a clear problem, not an hour of reading).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}
