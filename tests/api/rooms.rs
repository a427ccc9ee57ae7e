//! Rooms sized to their job: no function in `src/` (outside tests) runs over 60 lines unless
//! a comment right above it says why (`// Over 60 lines: …`).

use std::path::Path;

use crate::layers::{code, sources};

/// The longest a function may run without a word of why.
const MAX_LINES: usize = 60;

/// Every function of `text` longer than [`MAX_LINES`] without its `// Over 60 lines:` comment,
/// as `name (N lines)`. Test modules (`#[cfg(test)]`) are not counted.
fn long_functions(text: &str) -> Vec<String> {
    let code = code(text);
    let lines: Vec<&str> = code.lines().collect();
    let original: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut skip_to = 0;
    for (i, line) in lines.iter().enumerate() {
        if i < skip_to {
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // The test module that follows: to its closing brace.
            skip_to = block_end(&lines, i + 1).map_or(lines.len(), |e| e + 1);
            continue;
        }
        let Some(name) = fn_name(trimmed) else {
            continue;
        };
        let Some(end) = block_end(&lines, i) else {
            continue;
        };
        let length = end - i + 1;
        if length <= MAX_LINES {
            continue;
        }
        // The comment may sit above the doc comment and attributes.
        let justified = original[..i]
            .iter()
            .rev()
            .take_while(|l| {
                let l = l.trim_start();
                l.starts_with("///") || l.starts_with("#[") || l.starts_with("//")
            })
            .any(|l| l.trim_start().starts_with("// Over 60 lines:"));
        if !justified {
            found.push(format!("{name} ({length} lines)"));
        }
    }
    found
}

/// The name of the function a line declares, if it does (a declaration, not a call).
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("async ").unwrap_or(rest);
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The line where the block opened on or after line `start` closes: `None` for a
/// declaration without a body (a trait method's).
fn block_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut opened = false;
    for (j, line) in lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                ';' if !opened => return None,
                _ => {}
            }
        }
        if opened && depth <= 0 {
            return Some(j);
        }
    }
    None
}

#[test]
fn no_function_runs_over_60_lines_without_saying_why() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for long in long_functions(&text) {
            found.push(format!(
                "{}: {long}",
                file.strip_prefix(&src).expect("under src").display()
            ));
        }
    }
    assert!(
        found.is_empty(),
        "{} functions:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn a_long_function_is_found_unless_a_comment_says_why() {
    let body = "    let x = 1;\n".repeat(61);
    let long = format!("/// Does it.\nfn long() {{\n{body}}}\n");
    assert_eq!(long_functions(&long), ["long (63 lines)"]);
    let justified = format!("// Over 60 lines: one table, read top to bottom.\n{long}");
    assert!(long_functions(&justified).is_empty());
    let short = format!("fn short() {{\n{}}}\n", "    let x = 1;\n".repeat(58));
    assert!(long_functions(&short).is_empty());
    // Tests may run long; braces in strings do not count.
    let tests = format!("#[cfg(test)]\nmod tests {{\n{long}}}\n");
    assert!(long_functions(&tests).is_empty());
    let braces = format!(
        "fn f() {{\n    let s = \"{{{{{{\";\n{}}}\n",
        "    g();\n".repeat(10)
    );
    assert!(long_functions(&braces).is_empty());
}

/// `value["key"]` on a JSON value: an identifier, `)` or `]` followed by `["`.
fn untyped_lookups(text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split("//").next().unwrap_or("");
            code.as_bytes().windows(3).any(|w| {
                (w[0].is_ascii_alphanumeric() || w[0] == b'_' || w[0] == b')' || w[0] == b']')
                    && w[1] == b'['
                    && w[2] == b'"'
            })
        })
        .map(|(i, l)| format!("{}: {}", i + 1, l.trim()))
        .collect()
}

#[test]
fn the_cli_reads_the_control_plane_through_typed_views() {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    sources(&cli, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for lookup in untyped_lookups(&text) {
            found.push(format!("{}:{lookup}", file.display()));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // What it looks for, and what it does not.
    assert_eq!(untyped_lookups("let x = body[\"error_message\"];").len(), 1);
    assert_eq!(untyped_lookups("f(a)[\"k\"]").len(), 1);
    assert!(untyped_lookups("table(&[\"AT\", \"PATH\"]); vec![\"a\"];").is_empty());
}
