//! Where each field of a scenario document sits in its file, so that a problem found after
//! parsing (a fault status out of range, an unknown application) still names line and column.
//!
//! serde gives no positions to a parsed value, so the text is read a second time with
//! yaml-rust2's event parser, which marks every node; paths are spelled as
//! serde_path_to_error spells them (`world.handsets[0].phone_number`).

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Line and column (both from 1) of every node of one document, by field path.
#[derive(Debug, Clone, Default)]
pub struct Spans(HashMap<String, (usize, usize)>);

impl Spans {
    /// The position of `field` itself, if it is written.
    pub fn exact(&self, field: &str) -> Option<(usize, usize)> {
        self.0.get(field).copied()
    }

    /// The position of `field`, or of its nearest ancestor that is written down (a missing
    /// field is reported where its parent is).
    pub fn find(&self, field: &str) -> Option<(usize, usize)> {
        let mut path = field;
        loop {
            if let Some(at) = self.0.get(path) {
                return Some(*at);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

/// How deep a scenario may nest. Real ones nest five or six levels; the limit exists because
/// libyaml (under serde_yaml_ng) takes time quadratic in the depth, so a 1 MiB body of `[`
/// would otherwise keep a core busy for minutes.
pub const MAX_DEPTH: usize = 32;

/// How many documents one file may hold. The shipped scenarios hold one to three.
pub const MAX_DOCUMENTS: usize = 100;

/// How many nodes aliases may add to a file in all, counting what each alias stands for. An
/// anchor reused a few times costs little; a "billion laughs" document is refused here,
/// before serde_yaml_ng would expand it.
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// Why the text cannot be read as scenarios at all: a YAML syntax error or a spent budget,
/// with where it happened (line and column from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The spans of each document in `text`, in order; or why the text is unreadable: a YAML
/// syntax error (an unclosed quote or bracket, a tab in indentation, an unknown alias...),
/// nesting deeper than [`MAX_DEPTH`], more than [`MAX_DOCUMENTS`] documents, or aliases that
/// stand for more than [`MAX_ALIAS_NODES`] nodes.
///
/// This pass is the gate in front of serde_yaml_ng: its event parser stops at the first
/// syntax error, whereas serde_yaml_ng's document iterator repeats that error forever, and
/// panics on an unknown alias. Only text that passes here reaches serde.
pub fn documents(text: &str) -> Result<Vec<Spans>, Unreadable> {
    let mut index = Index::default();
    let loaded = Parser::new_from_str(text).load(&mut index, true);
    if let Some(refused) = index.refused {
        return Err(refused);
    }
    if let Err(e) = loaded {
        let message = match e.info() {
            // The scanner reads flow collections ahead and gives up past 255 levels, before
            // any event reaches the index.
            "recursion limit exceeded" => format!("nested deeper than {MAX_DEPTH} levels"),
            info => format!("YAML syntax error: {info}"),
        };
        return Err(Unreadable {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message,
        });
    }
    Ok(index.documents)
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        /// Whether the first key is still to come: a block mapping's start event is marked
        /// at the first `:`, so the mapping is placed at its first key instead.
        first: bool,
    },
    Seq {
        path: String,
        next: usize,
    },
    /// A complex (non-scalar) mapping key: nothing under it is a field.
    Ignored,
}

#[derive(Default)]
struct Index {
    documents: Vec<Spans>,
    current: Spans,
    stack: Vec<Frame>,
    /// How many nodes each open collection holds so far (aliases counted as what they stand
    /// for), and its anchor id (0 for none).
    sizes: Vec<(usize, u64)>,
    /// The size of every anchored node, by anchor id.
    anchors: HashMap<usize, u64>,
    /// Nodes added by aliases so far.
    alias_nodes: u64,
    /// The first budget spent; every event after it is ignored.
    refused: Option<Unreadable>,
}

impl Index {
    /// The path of the node that starts now; `None` for a mapping key (remembered for its
    /// value) and for anything under a complex key.
    fn next_node(&mut self, event: &Event, at: (usize, usize)) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Ignored) => None,
            Some(Frame::Map {
                path,
                key: key @ None,
                first,
            }) => {
                *key = Some(match event {
                    Event::Scalar(value, ..) => value.clone(),
                    _ => String::new(),
                });
                if std::mem::take(first) {
                    self.current.0.insert(path.clone(), at);
                }
                None
            }
            Some(Frame::Map { path, key, .. }) => {
                let key = key.take().unwrap_or_default();
                Some(if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                })
            }
            Some(Frame::Seq { path, next }) => {
                *next += 1;
                Some(format!("{path}[{}]", *next - 1))
            }
        }
    }
}

impl Index {
    fn refuse(&mut self, at: (usize, usize), message: String) {
        self.refused = Some(Unreadable {
            line: at.0,
            column: at.1,
            message,
        });
    }

    /// A node of `size` nodes is complete: it counts towards its parent, and towards its
    /// anchor if it has one.
    fn completed(&mut self, anchor: usize, size: u64) {
        if anchor != 0 {
            self.anchors.insert(anchor, size);
        }
        if let Some((_, parent)) = self.sizes.last_mut() {
            *parent = parent.saturating_add(size);
        }
    }
}

impl Index {
    /// An alias: placed like a scalar, and counted as the nodes its anchor stands for.
    fn on_alias(&mut self, event: &Event, anchor: usize, at: (usize, usize)) {
        if let Some(path) = self.next_node(event, at) {
            self.current.0.entry(path).or_insert(at);
        }
        let size = self.anchors.get(&anchor).copied().unwrap_or(1);
        self.alias_nodes = self.alias_nodes.saturating_add(size);
        if self.alias_nodes > MAX_ALIAS_NODES {
            self.refuse(
                at,
                format!(
                    "aliases expand to more than {MAX_ALIAS_NODES} nodes: \
                     write the values out or reuse fewer"
                ),
            );
        }
        self.completed(0, size);
    }

    /// A mapping or sequence starts: placed, pushed, and refused past the depth budget.
    fn on_collection(&mut self, event: &Event, anchor: usize, at: (usize, usize)) {
        let frame = match self.next_node(event, at) {
            None => Frame::Ignored,
            Some(path) => {
                self.current.0.entry(path.clone()).or_insert(at);
                match event {
                    Event::MappingStart(..) => Frame::Map {
                        path,
                        key: None,
                        first: true,
                    },
                    _ => Frame::Seq { path, next: 0 },
                }
            }
        };
        self.stack.push(frame);
        self.sizes.push((anchor, 1));
        if self.stack.len() > MAX_DEPTH {
            self.refuse(at, format!("nested deeper than {MAX_DEPTH} levels"));
        }
    }
}

impl MarkedEventReceiver for Index {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.refused.is_some() {
            return;
        }
        let at = (mark.line(), mark.col() + 1);
        match event {
            Event::DocumentStart => {
                if self.documents.len() == MAX_DOCUMENTS {
                    self.refuse(
                        at,
                        format!("more than {MAX_DOCUMENTS} documents in one file"),
                    );
                }
                self.current = Spans::default();
                self.stack.clear();
                self.sizes.clear();
            }
            Event::DocumentEnd => {
                self.documents.push(std::mem::take(&mut self.current));
            }
            Event::Scalar(_, _, anchor, _) => {
                if let Some(path) = self.next_node(&event, at) {
                    self.current.0.entry(path).or_insert(at);
                }
                self.completed(anchor, 1);
            }
            Event::Alias(anchor) => self.on_alias(&event, anchor, at),
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.on_collection(&event, anchor, at);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                if let Some((anchor, size)) = self.sizes.pop() {
                    self.completed(anchor, size);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: one
world:
  handsets:
    - phone_number: '0712345678'
      behaviour: pay
faults:
  - endpoint: POST /api/v2/send_money
    status: 404
  - {endpoint: /oauth/token, status: 500}
---
name: two
timeline: []
";

    #[test]
    fn every_field_has_its_line_and_column() {
        let docs = documents(TEXT).expect("shallow");
        assert_eq!(docs.len(), 2);
        let one = &docs[0];
        assert_eq!(one.find("name"), Some((1, 7)));
        assert_eq!(one.find("world.handsets[0].phone_number"), Some((4, 21)));
        assert_eq!(one.find("world.handsets[0].behaviour"), Some((5, 18)));
        assert_eq!(one.find("faults[0].status"), Some((8, 13)));
        assert_eq!(one.find("faults[1].status"), Some((9, 38)));
        assert_eq!(docs[1].find("name"), Some((11, 7)));
        assert_eq!(docs[1].find("timeline"), Some((12, 11)));
    }

    #[test]
    fn a_missing_field_is_found_at_its_parent() {
        let docs = documents(TEXT).expect("shallow");
        assert_eq!(docs[0].find("faults[0].latency"), docs[0].find("faults[0]"));
        assert_eq!(docs[0].find("faults[0]"), Some((7, 5)));
        assert_eq!(docs[0].find("world.handsets[0]"), Some((4, 7)));
        assert_eq!(docs[0].find("nowhere"), None);
    }

    #[test]
    fn a_syntax_error_is_unreadable_where_it_is() {
        let e = documents("name: x\nworld: [\n").expect_err("unclosed bracket");
        assert!(e.message.starts_with("YAML syntax error: "), "{e:?}");
        assert_eq!(e.line, 3);
        let e = documents("name: x\nrules: *nowhere\n").expect_err("unknown alias");
        assert_eq!((e.line, e.column), (2, 8));
        assert!(e.message.contains("unknown anchor"), "{e:?}");
    }

    #[test]
    fn an_alias_bomb_is_refused_before_it_expands() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = documents(&text).expect_err("a billion laughs");
        assert!(e.message.contains("aliases expand"), "{e:?}");
        // A few reuses of an anchor are fine.
        let fine = "d: &d {status: 500}\nfaults: [*d, *d, *d]\n";
        assert_eq!(documents(fine).expect("small").len(), 1);
    }

    #[test]
    fn too_many_documents_are_refused() {
        let text = "name: x\n---\n".repeat(MAX_DOCUMENTS + 1);
        let e = documents(&text).expect_err("too many");
        assert!(e.message.contains("documents"), "{e:?}");
        assert_eq!(
            documents(&"name: x\n---\n".repeat(MAX_DOCUMENTS - 1)).map(|d| d.len()),
            Ok(MAX_DOCUMENTS)
        );
    }

    #[test]
    fn deep_nesting_is_refused_where_it_goes_too_deep() {
        let text = format!(
            "name: x\nworld: {}{}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(documents(&text).is_err());
        let block = (0..40).fold(String::from("name: x\n"), |mut t, i| {
            t.push_str(&format!("{}a:\n", " ".repeat(i)));
            t
        });
        // The mapping one level too deep starts on line MAX_DEPTH + 2 (the root is level 1).
        assert_eq!(documents(&block).err().map(|e| e.line), Some(MAX_DEPTH + 2));
        let fine = (0..MAX_DEPTH - 2).fold(String::from("name: x\n"), |mut t, i| {
            t.push_str(&format!("{}a:\n", " ".repeat(i)));
            t
        });
        assert!(documents(&fine).is_ok());
    }
}
