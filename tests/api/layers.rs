//! The layer rule of docs/ARCHITECTURE.md, checked on the source: every `crate::…` path in
//! `src/` goes to the same floor or one below, and no modules import each other in a cycle,
//! neither between top-level modules nor between the files of one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, bottom up; a module may use its own floor and those below.
const FLOORS: &[&[&str]] = &[
    &[
        "clock",
        "config",
        "domain",
        "routes",
        "signals",
        "suggest",
        "telemetry",
    ],
    &["wire", "store"],
    &["scheduler", "script", "callbacks"],
    &["service"],
    &["scenario"],
    &["http", "server", "report", "cli", "run"],
];

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The module path of a file: `src/http/admin/mod.rs` is `["http", "admin"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// The code of a file without comments (doc links name paths that are not imports).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first two segments of every `crate::a::b` path in `code`.
fn crate_paths(code: &str) -> Vec<(String, Option<String>)> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    code.match_indices("crate::")
        .filter(|(i, _)| {
            // `k2_crate::` or `my_crate::` are not the crate root.
            *i == 0
                || !code[..*i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(i, m)| {
            let rest = &code[i + m.len()..];
            let first = ident(rest);
            let after = &rest[first.len()..];
            let second = after
                .strip_prefix("::")
                .map(ident)
                .filter(|s| !s.is_empty() && s.chars().next().is_some_and(|c| c.is_lowercase()));
            (first, second)
        })
        .collect()
}

/// `super::x` references of a file inside its top-level module, as sibling names.
fn super_paths(code: &str) -> Vec<String> {
    code.match_indices("super::")
        .map(|(i, m)| {
            code[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|s| s.chars().next().is_some_and(|c| c.is_lowercase()))
        .collect()
}

fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|n| n == node) {
            found.push(stack[at..].to_vec());
            return;
        }
        if done.contains(node) {
            return;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, stack, done, found);
        }
        stack.pop();
        done.insert(node.to_string());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn every_import_goes_down_the_floors_and_nothing_imports_in_a_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut upward = Vec::new();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let Some(own) = module.first() else {
            continue; // lib.rs and main.rs: the top, free to use everything
        };
        let text = code(&std::fs::read_to_string(file).expect("readable"));
        let own_floor = floor_of(own).unwrap_or_else(|| {
            panic!("{own} is on no floor: add it to FLOORS and ARCHITECTURE.md")
        });
        let here = module.join("::");
        for (first, second) in crate_paths(&text) {
            match floor_of(&first) {
                None => upward.push(format!("{here} uses crate::{first} (the crate root)")),
                Some(f) if f > own_floor => {
                    upward.push(format!("{here} uses crate::{first}, a floor above"));
                }
                Some(_) if first != *own => {
                    top.entry(own.clone()).or_default().insert(first);
                }
                Some(_) => {
                    if let Some(second) = second {
                        if module.get(1) != Some(&second) {
                            let from = module.get(1).cloned().unwrap_or_else(|| "mod".into());
                            inner
                                .entry(format!("{own}::{from}"))
                                .or_default()
                                .insert(format!("{own}::{second}"));
                        }
                    }
                }
            }
        }
        // `super::x` from a file one level down names a sibling file of the same module.
        if module.len() == 2 {
            for sibling in super_paths(&text) {
                if files
                    .iter()
                    .any(|f| module_of(&src, f) == [own.clone(), sibling.clone()])
                {
                    inner
                        .entry(here.clone())
                        .or_default()
                        .insert(format!("{own}::{sibling}"));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against the floors:\n{}",
        upward.join("\n")
    );
    let found: Vec<Vec<String>> = cycles(&top).into_iter().chain(cycles(&inner)).collect();
    assert!(
        found.is_empty(),
        "import cycles:\n{}",
        found
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
