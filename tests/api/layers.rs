//! The layer rule of docs/ARCHITECTURE.md, checked on the source: every path to another module
//! of the crate (`crate::…`, `super::…` at any depth, `self::…`, a child module by its name)
//! goes to the same floor or one below, and no modules import each other in a cycle: neither
//! top-level modules, nor any two modules inside one (a parent and its child included).
//! Comments and string literals are not code: a path named there is not an import.

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
    &["scheduler", "scenarios", "callbacks"],
    &["service"],
    &["scenario"],
    &["http", "server", "report", "cli", "run"],
];

fn floor_of(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// Every `.rs` file under `dir`.
pub fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
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

/// The text with every comment and every string and character literal blanked out (kept as
/// spaces, newlines kept), so that only code is left to read paths from.
pub fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br"…": to the quote followed by as many hashes.
            let open = chars[i..].iter().position(|c| *c == '"').expect("a quote") + i;
            for _ in i..=open {
                out.push(' ');
            }
            i = open + 1;
            while i < chars.len() {
                if chars[i] == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && char_literal_end(&chars, i).is_some() {
            let end = char_literal_end(&chars, i).expect("an end");
            for _ in i..=end {
                out.push(' ');
            }
            i = end + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At a raw string's start (`r"`, `r#"`, `br"`, not inside an identifier): its hashes.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let ident = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    if i > 0 && ident(&chars[i - 1]) {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|c| **c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

/// Where a character literal that opens at `i` closes (`'x'`, `'\n'`, `'\u{1F600}'`); `None`
/// for a lifetime (`'a`).
fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => (i + 2..chars.len().min(i + 12)).find(|j| chars[*j] == '\''),
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(i + 2),
    }
}

/// A token of the code: an identifier, `::`, or one other character.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Colons,
    Other(char),
}

fn tokens(code: &str) -> Vec<(usize, Token)> {
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].1.is_alphanumeric() || chars[i].1 == '_') {
                i += 1;
            }
            let ident: String = chars[start..i].iter().map(|(_, c)| c).collect();
            out.push((at, Token::Ident(ident)));
        } else if c == ':' && chars.get(i + 1).is_some_and(|(_, n)| *n == ':') {
            out.push((at, Token::Colons));
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push((at, Token::Other(c)));
            }
            i += 1;
        }
    }
    out
}

/// Every path in the tokens, with where it starts, use trees expanded (`a::{b, c::D}` is `a::b`
/// and `a::c::D`; `self` in a group and a glob stand for the prefix).
fn paths(tokens: &[(usize, Token)]) -> Vec<(usize, Vec<String>)> {
    /// The path that starts at `i` (after `prefix`), with every branch of a use tree; the
    /// index after it.
    fn path_at(
        tokens: &[(usize, Token)],
        mut i: usize,
        prefix: Vec<String>,
        into: &mut Vec<Vec<String>>,
    ) -> usize {
        let mut path = prefix;
        loop {
            match tokens.get(i).map(|t| &t.1) {
                Some(Token::Ident(name)) => {
                    if name != "self" || path.is_empty() {
                        path.push(name.clone());
                    }
                    i += 1;
                }
                Some(Token::Other('{')) => {
                    i += 1;
                    loop {
                        match tokens.get(i).map(|t| &t.1) {
                            Some(Token::Other('}')) => return i + 1,
                            Some(Token::Other(',')) => i += 1,
                            None => return i,
                            // A glob, or anything else that is not a path: the prefix.
                            Some(Token::Other(_) | Token::Colons) => {
                                into.push(path.clone());
                                i += 1;
                            }
                            Some(Token::Ident(_)) => i = path_at(tokens, i, path.clone(), into),
                        }
                    }
                }
                _ => break,
            }
            if tokens.get(i).map(|t| &t.1) == Some(&Token::Colons) {
                i += 1;
            } else {
                break;
            }
        }
        into.push(path);
        i
    }
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let starts_path = matches!(tokens[i].1, Token::Ident(_))
            && (i == 0 || tokens[i - 1].1 != Token::Colons)
            && tokens.get(i + 1).map(|t| &t.1) == Some(&Token::Colons);
        if starts_path {
            let mut into = Vec::new();
            let at = tokens[i].0;
            i = path_at(tokens, i, Vec::new(), &mut into);
            found.extend(into.into_iter().map(|p| (at, p)));
        } else {
            i += 1;
        }
    }
    found
}

/// The inline modules (`mod name { … }`) of a file's code: name and byte range.
fn inline_modules(code: &str, tokens: &[(usize, Token)]) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    for w in tokens.windows(3) {
        if let [
            (_, Token::Ident(m)),
            (_, Token::Ident(name)),
            (open, Token::Other('{')),
        ] = w
            && m == "mod"
        {
            let mut depth = 0usize;
            let end = code[*open..]
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(code.len(), |(j, _)| open + j);
            found.push((name.clone(), *open, end));
        }
    }
    found
}

/// One file's imports of other modules, resolved: the module each path reaches (the longest
/// prefix of it that is a module of `modules`); `[]` is the crate root.
fn imports(text: &str, module: &[String], modules: &BTreeSet<Vec<String>>) -> Vec<Vec<String>> {
    let code = code(text);
    let tokens = tokens(&code);
    let inline = inline_modules(&code, &tokens);
    let mut reached = Vec::new();
    for (at, path) in paths(&tokens) {
        // Where the path is written: the file's module, and the inline modules around it.
        let mut here = module.to_vec();
        here.extend(
            inline
                .iter()
                .filter(|(_, open, end)| *open < at && at < *end)
                .map(|(name, _, _)| name.clone()),
        );
        let (mut base, rest): (Vec<String>, &[String]) = match path[0].as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (here.clone(), &path[1..]),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                let mut base = here.clone();
                for _ in 0..ups {
                    base.pop();
                }
                (base, &path[ups..])
            }
            first
                if here.len() == module.len() && {
                    let mut child = module.to_vec();
                    child.push(first.to_string());
                    modules.contains(&child)
                } =>
            {
                (here.clone(), &path[..])
            }
            _ => continue,
        };
        base.extend(rest.iter().cloned());
        let target = (0..=base.len())
            .rev()
            .map(|n| base[..n].to_vec())
            .find(|prefix| prefix.is_empty() || modules.contains(prefix))
            .unwrap_or_default();
        reached.push(target);
    }
    reached
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

/// Every breach of the layer rule in the source tree at `src`: imports against the floors
/// (or of the crate root), and import cycles.
fn breaches(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut found = Vec::new();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut inner: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        let Some(own) = module.first() else {
            continue; // lib.rs and main.rs: the top, free to use everything
        };
        let Some(own_floor) = floor_of(own) else {
            found.push(format!(
                "{own} is on no floor: add it to FLOORS and ARCHITECTURE.md"
            ));
            continue;
        };
        let here = module.join("::");
        let text = std::fs::read_to_string(file).expect("readable");
        for target in imports(&text, &module, &modules) {
            let Some(first) = target.first() else {
                found.push(format!("{here} uses the crate root"));
                continue;
            };
            match floor_of(first) {
                None => found.push(format!("{here} uses {first}, which is on no floor")),
                Some(f) if f > own_floor => {
                    found.push(format!("{here} uses {}, a floor above", target.join("::")));
                }
                Some(_) if first != own => {
                    top.entry(own.clone()).or_default().insert(first.clone());
                }
                Some(_) if target != module => {
                    inner
                        .entry(here.clone())
                        .or_default()
                        .insert(target.join("::"));
                }
                Some(_) => {}
            }
        }
    }
    for cycle in cycles(&top).into_iter().chain(cycles(&inner)) {
        found.push(format!("import cycle: {}", cycle.join(" -> ")));
    }
    found
}

#[test]
fn every_import_goes_down_the_floors_and_nothing_imports_in_a_cycle() {
    let found = breaches(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The breaches of a source tree made of `files` (path under `src/`, text).
fn breaches_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "k2-layers-{}-{}",
        std::process::id(),
        files.len() * 31 + files.iter().map(|f| f.1.len()).sum::<usize>()
    ));
    let src = dir.join("src");
    for (path, text) in files {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let found = breaches(&src);
    let _ = std::fs::remove_dir_all(&dir);
    found
}

#[test]
fn a_parent_and_child_that_import_each_other_are_a_cycle() {
    let found = breaches_of(&[
        (
            "store/mod.rs",
            "mod map;\npub struct Map;\npub use self::map::Other;\n",
        ),
        ("store/map.rs", "use super::Map;\npub struct Other;\n"),
    ]);
    assert_eq!(found, ["import cycle: store -> store::map"]);
    // A child named without `self::` is an import of it all the same.
    let found = breaches_of(&[
        (
            "store/mod.rs",
            "mod map;\npub struct Map;\nfn f() { map::g() }\n",
        ),
        ("store/map.rs", "pub fn g() { let _ = super::Map; }\n"),
    ]);
    assert_eq!(found, ["import cycle: store -> store::map"]);
    // The item moved into a file of its own: no cycle.
    let found = breaches_of(&[
        (
            "store/mod.rs",
            "mod map;\nmod table;\npub use self::map::Map;\n",
        ),
        ("store/map.rs", "pub struct Map;\n"),
        ("store/table.rs", "use super::map::Map;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn super_at_any_depth_and_grouped_imports_are_seen() {
    let found = breaches_of(&[
        ("http/admin/mod.rs", "mod stream;\n"),
        (
            "http/admin/stream.rs",
            "use super::super::{error::E, journal};\n",
        ),
        ("http/mod.rs", "mod admin;\nmod error;\nmod journal;\n"),
        ("http/error.rs", "pub struct E;\n"),
        ("http/journal.rs", "use super::admin::stream;\n"),
        ("domain/mod.rs", "fn f() { crate::http::x(); }\n"),
    ]);
    assert_eq!(
        found,
        [
            "domain uses http, a floor above",
            "import cycle: http::admin::stream -> http::journal"
        ]
    );
    // `super::` inside an inline module (tests) is the file's own module.
    let found = breaches_of(&[
        ("store/mod.rs", "mod map;\npub use self::map::Map;\n"),
        (
            "store/map.rs",
            "pub struct Map;\n#[cfg(test)]\nmod tests {\n    use super::Map;\n}\n",
        ),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn paths_in_strings_and_comments_are_not_imports() {
    let found = breaches_of(&[
        (
            "domain/mod.rs",
            "// crate::http::x\n/* crate::http::y /* nested */ crate::cli::z */\n\
             const A: &str = \"crate::http::x\";\nconst B: &str = r#\"super::http \"crate::cli\" \"#;\n\
             const C: char = '\"';\nfn f<'a>(x: &'a str) -> &'a str { x }\n",
        ),
        ("http/mod.rs", "use crate::domain;\n"),
    ]);
    assert!(found.is_empty(), "{found:?}");
}
