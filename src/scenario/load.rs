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
    let spans = locate::documents(text).map_err(|e| unreadable(file, text, e))?;
    let documents = spans.len();
    let mut spans = spans.into_iter();
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    let mut trees: Option<Vec<Option<serde_yaml_ng::Value>>> = None;
    // At most as many documents as the gate counted: should libyaml ever disagree with it,
    // its iterator (which repeats a syntax error forever) still ends.
    for (index, document) in serde_yaml_ng::Deserializer::from_str(text)
        .take(documents)
        .enumerate()
    {
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
                scenario.notes = located(&origin, notes(&scenario));
                scenario.origin = origin;
                scenarios.push(scenario);
            }
            Err(e) => {
                let problem = type_problem(&origin, e);
                // After a syntax error libyaml repeats it for every document that follows.
                if problems.last() == Some(&problem) {
                    break;
                }
                // The file's trees, read once for every document that needs them (not once
                // per document: a file of many broken documents read as many times).
                let trees = trees.get_or_insert_with(|| trees_of(text, documents));
                let tree = trees.get_mut(index).and_then(Option::take);
                problems.extend(every_type_problem(&origin, problem, tree));
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

/// The one problem of a file the gate refused, with the hint to quote a value where that is
/// the cause.
fn unreadable(file: &str, text: &str, e: locate::Unreadable) -> Problems {
    let hint = text
        .lines()
        .nth(e.line.saturating_sub(1))
        .and_then(quoting_hint)
        .unwrap_or_default();
    Problems(vec![Problem {
        file: file.to_string(),
        line: Some(e.line),
        column: Some(e.column),
        field: "(document)".into(),
        message: e.message + &hint,
    }])
}

/// Notes at their places in the file, in the order they are written.
fn located(origin: &Origin, notes: Vec<(String, String)>) -> Vec<Problem> {
    let mut located: Vec<Problem> = notes
        .into_iter()
        .map(|(field, message)| origin.problem(field, message))
        .collect();
    located.sort_by_key(|n| (n.line, n.column));
    located
}

/// For a syntax error on a line where a plain value holds `{` (a path such as
/// `/incoming_payments/{id}` inside a flow mapping `{...}`, where braces are YAML's own): the
/// hint to quote it.
fn quoting_hint(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    // A `{` that continues a word, not one that opens a mapping (after `: `, `, `, `[` or `{`).
    let brace = (1..bytes.len()).find(|&i| {
        bytes[i] == b'{' && !matches!(bytes[i - 1], b' ' | b'\t' | b':' | b',' | b'[' | b'{')
    })?;
    let start = line[..brace].rfind(": ").map_or(0, |i| i + 2);
    let end = line[brace..]
        .find('}')
        .map(|close| brace + close + 1)
        .map(|after| after + line[after..].find([',', '}']).unwrap_or(line.len() - after))?;
    let value = line[start..end].trim();
    Some(format!(
        "; a value holding `{{` or `}}` must be quoted: write {value:?} (or use `*` for a \
         path segment)"
    ))
}

/// A document's first type problem and, read from its tree, every one after it.
fn every_type_problem(
    origin: &Origin,
    first: Problem,
    tree: Option<serde_yaml_ng::Value>,
) -> Vec<Problem> {
    let further = tree.map_or_else(Vec::new, |tree| {
        further_type_problems(tree, &first.field, &first.message)
    });
    std::iter::once(first)
        .chain(
            further
                .into_iter()
                .map(|(field, message)| origin.problem(field, message)),
        )
        .collect()
}

/// Every document of `text` as a YAML tree (merge keys applied), in order; `None` for one
/// that does not read as a tree.
fn trees_of(text: &str, documents: usize) -> Vec<Option<serde_yaml_ng::Value>> {
    use serde::Deserialize as _;
    serde_yaml_ng::Deserializer::from_str(text)
        .take(documents)
        .map(|d| {
            let mut tree = serde_yaml_ng::Value::deserialize(d).ok()?;
            tree.apply_merge().ok()?;
            Some(tree)
        })
        .collect()
}

/// The type errors of a document's `tree` after its first (at `first`): each node a type
/// refused is set aside (its field removed, its list item taken out) before the next reading,
/// so one run reports every bad value, not only the first. A required field set aside is not
/// reported missing; its parent is set aside in turn. Field paths are the document's own
/// (list indices as written).
fn further_type_problems(
    mut tree: serde_yaml_ng::Value,
    first: &str,
    first_message: &str,
) -> Vec<(String, String)> {
    let mut aside = SetAside::default();
    let mut found = Vec::new();
    if !aside.remove(&mut tree, first) {
        return found;
    }
    aside.suggested(first, first_message);
    while found.len() < MAX_PROBLEMS {
        let Err(e) = serde_path_to_error::deserialize::<_, Scenario>(&tree) else {
            break;
        };
        let current = e.path().to_string();
        let message = with_suggestion(strip_location(&e.into_inner().to_string()));
        let original = aside.original(&current);
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| match original.as_str() {
                "." | "" => name.to_string(),
                parent => format!("{parent}.{name}"),
            });
        let field = document_or(original);
        if !missing.is_some_and(|m| aside.removed.contains(&m)) {
            found.push((field.clone(), message.clone()));
        }
        aside.suggested(&field, &message);
        if !aside.remove(&mut tree, &current) {
            break;
        }
    }
    found
}

/// The nodes set aside from a document's tree, by their original paths, so that later paths
/// (whose list indices shift as items are taken out) are reported as written.
#[derive(Default)]
struct SetAside {
    removed: Vec<String>,
    /// Original list path -> the original indices taken out of it.
    taken: std::collections::HashMap<String, Vec<usize>>,
}

/// One step of a serde_path_to_error path.
enum Step {
    Key(String),
    Index(usize),
}

fn steps(path: &str) -> Option<Vec<Step>> {
    if path.is_empty() || path == "." {
        return None;
    }
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if key == "?" {
            return None;
        }
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        while !rest.is_empty() {
            let (n, after) = rest.split_once(']')?;
            steps.push(Step::Index(n.parse().ok()?));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    Some(steps)
}

impl SetAside {
    /// An unknown field set aside with a "did you mean `name`": the field it was meant to
    /// be is not reported missing as well.
    fn suggested(&mut self, field: &str, message: &str) {
        if !message.starts_with("unknown field `") {
            return;
        }
        if let Some((_, rest)) = message.rsplit_once("(did you mean `")
            && let Some((name, _)) = rest.split_once('`')
        {
            let parent = field.rfind(['.', '[']).map_or("", |cut| &field[..cut]);
            let meant = if parent.is_empty() {
                name.to_string()
            } else {
                format!("{parent}.{name}")
            };
            self.removed.push(meant);
        }
    }

    /// The original path of `current` (a path in the tree as it is now).
    fn original(&self, current: &str) -> String {
        let Some(steps) = steps(current) else {
            return current.to_string();
        };
        let mut path = String::new();
        for step in steps {
            match step {
                Step::Key(k) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&k);
                }
                Step::Index(i) => {
                    let taken = self.taken.get(&path).map_or(&[][..], Vec::as_slice);
                    let original = (0..).filter(|j| !taken.contains(j)).nth(i).unwrap_or(i);
                    path.push_str(&format!("[{original}]"));
                }
            }
        }
        path
    }

    /// Takes the node at `current` out of the tree; false if there is none (nothing would
    /// change on the next reading).
    fn remove(&mut self, tree: &mut serde_yaml_ng::Value, current: &str) -> bool {
        use serde_yaml_ng::Value;
        let Some(mut steps) = steps(current) else {
            return false;
        };
        let Some(last) = steps.pop() else {
            return false;
        };
        let mut node = &mut *tree;
        for step in &steps {
            let next = match (step, node) {
                (Step::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str()),
                (Step::Index(i), Value::Sequence(s)) => s.get_mut(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        let original = self.original(current);
        let removed = match (&last, node) {
            (Step::Key(k), Value::Mapping(m)) => m.remove(k.as_str()).is_some(),
            (Step::Index(i), Value::Sequence(s)) if *i < s.len() => {
                s.remove(*i);
                let list = original[..original.rfind('[').unwrap_or(0)].to_string();
                let at = original[original.rfind('[').map_or(0, |b| b + 1)..]
                    .trim_end_matches(']')
                    .parse()
                    .unwrap_or(*i);
                self.taken.entry(list).or_default().push(at);
                true
            }
            _ => false,
        };
        if removed {
            self.removed.push(original);
        }
        removed
    }
}

/// A document the format's types reject, at the refused value's position (serde's, when the
/// value is not written: a missing field) and path.
fn type_problem(origin: &Origin, e: serde_path_to_error::Error<serde_yaml_ng::Error>) -> Problem {
    let field = e.path().to_string();
    let inner = e.into_inner();
    let message = with_suggestion(strip_location(&inner.to_string()));
    let serde_at = inner.location().map(|l| (l.line(), l.column()));
    // An unknown field is shown at its key, where serde places it; a refused value at the
    // value itself, which serde places at its mapping.
    let at = if message.starts_with("unknown field") {
        serde_at
    } else {
        origin.spans.exact(&field).or(serde_at)
    };
    Problem {
        file: origin.file.clone(),
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
        field: document_or(field),
        message,
    }
}

/// "." is the document itself; "?" a syntax error libyaml found where the gate did not.
fn document_or(field: String) -> String {
    if field == "." || field == "?" {
        "(document)".into()
    } else {
        field
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

/// What works but is written in an older spelling: (field, message) of each, naming the
/// canonical word.
fn notes(s: &Scenario) -> Vec<(String, String)> {
    use crate::scenarios::spec::Named;
    let mut notes = Vec::new();
    let mut alias = |field: String, named: Option<Named>| {
        if let Some(Named {
            kind,
            alias: Some(alias),
        }) = named
        {
            notes.push((
                field,
                format!("`{alias}` is an alias: the canonical name is `{kind}`"),
            ));
        }
    };
    for (i, rule) in s.rules.iter().enumerate() {
        alias(format!("rules[{i}].endpoint"), Some(rule.endpoint));
    }
    for (i, fault) in s.callback_faults.iter().enumerate() {
        alias(format!("callback_faults[{i}].resource"), fault.resource);
    }
    for (i, e) in s.expect.iter().enumerate() {
        alias(
            format!("expect[{i}].resources.type"),
            e.resources.as_ref().map(|r| r.kind),
        );
    }
    for (i, fault) in s.faults.iter().enumerate() {
        if let Some(r) = fault.retry_after.filter(|r| r.bare) {
            notes.push((
                format!("faults[{i}].retry_after"),
                format!(
                    "a bare number is read as seconds: write it with its unit, `{}s`",
                    r.span.as_secs()
                ),
            ));
        }
    }
    notes
}

/// Checks across fields: (field, message) of every problem.
fn check(s: &Scenario) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if let Some(problem) = name_problem(&s.name) {
        problems.push(("name".into(), problem));
    }
    check_world(s, &mut problems);
    check_rules(s, &mut problems);
    check_faults(s, &mut problems);
    check_timeline(s, &mut problems);
    check_expect(s, &mut problems);
    problems
}

/// The longest scenario name: it is a path segment (`DELETE /_sandbox/scenarios/{name}`) and a
/// column of every listing.
const MAX_NAME_CHARS: usize = 200;

/// What is wrong with a scenario's name, if anything: every loaded scenario must be named in
/// a URL path and a terminal as the list shows it, so at most 200 printable characters, no `/`
/// and no blank name.
fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("a scenario's name can't be blank".into())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!(
            "a scenario's name is at most {MAX_NAME_CHARS} characters: this one has {}",
            name.chars().count()
        ))
    } else if name.contains('/') {
        Some("a scenario's name has no `/`: it is unloaded by name, in a URL path".into())
    } else if name.chars().any(char::is_control) || name.trim() != name {
        Some(
            "a scenario's name is printable, with no control character and no spaces around it"
                .into(),
        )
    } else {
        None
    }
}

fn check_world(s: &Scenario, problems: &mut Vec<(String, String)>) {
    for (i, r) in s.world.external_recipients.iter().enumerate() {
        match crate::domain::recipients::recipient_type(Some(&r.kind)) {
            Err(e) => problems.push((format!("world.external_recipients[{i}].type"), e.0)),
            Ok(kind) => {
                if let Err(e) = r.fields.saved_recipient(kind) {
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

fn check_rules(s: &Scenario, problems: &mut Vec<(String, String)>) {
    use crate::domain::kinds::ResourceKind::{IncomingPayment, Reversal, SendMoney};
    for (i, rule) in s.rules.iter().enumerate() {
        let kind = rule.endpoint.kind;
        if ![IncomingPayment, SendMoney, Reversal].contains(&kind) {
            problems.push((
                format!("rules[{i}].endpoint"),
                format!(
                    "rules decide the results of `incoming_payment` (STK push), `send_money` and \
                     `reversal` requests, not `{kind}`"
                ),
            ));
        }
    }
}

fn check_faults(s: &Scenario, problems: &mut Vec<(String, String)>) {
    for (i, fault) in s.faults.iter().enumerate() {
        let mut problem = |name: &str, message: String| {
            problems.push((format!("faults[{i}].{name}"), message));
        };
        if let Some(status) = fault.status
            && ![429, 500, 502, 503, 504].contains(&status)
        {
            problem(
                "status",
                format!("{status} is not a fault status: use 429, 500, 502, 503 or 504"),
            );
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
    let Some((method, path)) = crate::scenarios::faults::endpoint(endpoint) else {
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
    use crate::scenarios::expect::CHECKS;
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
        for (name, message) in check_one(e) {
            problem(name, message);
        }
    }
}

/// What is wrong with one expectation's check: (field under it, message) of each problem.
fn check_one(e: &crate::scenarios::expect::ExpectSpec) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Some(endpoint) = e.requests.as_ref().and_then(|r| r.endpoint.as_deref())
        && let Some(message) = endpoint_problem(endpoint, "no request could match it")
    {
        problems.push(("requests.endpoint", message));
    }
    if let Some(c) = &e.callbacks {
        if c.acknowledged.is_none() && c.exhausted.is_none() && c.sent().is_none() {
            problems.push((
                "callbacks",
                "say `acknowledged` (all or a number), `exhausted` (a number), or how many were \
                 sent (`count`, `at_least`, `at_most`)"
                    .into(),
            ));
        }
        if c.within.is_some() && c.acknowledged.is_none() {
            problems.push((
                "callbacks.within",
                "`within` bounds how fast callbacks were acknowledged: add `acknowledged`".into(),
            ));
        }
    }
    if let Some(r) = &e.resources
        && let Some(status) = &r.status
        && let Some(message) = status_problem(r.kind.kind, status)
    {
        problems.push(("resources.status", message));
    }
    if let Some(b) = &e.balance
        && b.equals.is_none()
        && b.at_least.is_none()
        && b.at_most.is_none()
    {
        problems.push((
            "balance",
            "say what it must be: `equals`, `at_least` or `at_most`".into(),
        ));
    }
    problems
}

/// What is wrong with counting `kind` by `status`: a status its documents never show.
fn status_problem(kind: crate::domain::kinds::ResourceKind, status: &str) -> Option<String> {
    let statuses = kind.statuses();
    if statuses.is_empty() {
        return Some(format!(
            "{kind} documents have no status: count them without one"
        ));
    }
    (!statuses
        .iter()
        .any(|s| s.eq_ignore_ascii_case(status.trim())))
    .then(|| {
        format!(
            "{kind} documents show {}, not {status:?}{}",
            statuses.join(", "),
            crate::suggest::did_you_mean(status, statuses.iter().copied())
        )
    })
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
