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

/// The spans of each document in `text`, in order, or the line and column where the text nests
/// deeper than [`MAX_DEPTH`]. Text the event parser cannot read otherwise gives what was read
/// before the problem (serde reports that problem with its own position).
pub fn documents(text: &str) -> Result<Vec<Spans>, (usize, usize)> {
    let mut index = Index::default();
    let loaded = Parser::new_from_str(text).load(&mut index, true);
    if let Some(at) = index.too_deep {
        return Err(at);
    }
    // The scanner reads flow collections ahead and gives up past 255 levels, before any
    // event reaches the index.
    if let Err(e) = loaded {
        if e.info() == "recursion limit exceeded" {
            return Err((e.marker().line(), e.marker().col() + 1));
        }
    }
    if !index.current.0.is_empty() {
        index.documents.push(std::mem::take(&mut index.current));
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
    /// Where the nesting first went past `MAX_DEPTH`.
    too_deep: Option<(usize, usize)>,
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

impl MarkedEventReceiver for Index {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let at = (mark.line(), mark.col() + 1);
        match event {
            Event::DocumentStart => {
                self.current = Spans::default();
                self.stack.clear();
            }
            Event::DocumentEnd => {
                self.documents.push(std::mem::take(&mut self.current));
            }
            Event::Scalar(..) | Event::Alias(..) => {
                if let Some(path) = self.next_node(&event, at) {
                    self.current.0.entry(path).or_insert(at);
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let frame = match self.next_node(&event, at) {
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
                if self.stack.len() > MAX_DEPTH && self.too_deep.is_none() {
                    self.too_deep = Some(at);
                }
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
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
    fn unreadable_text_gives_what_was_read() {
        let docs = documents("name: x\nworld: [\n").expect("shallow");
        assert!(docs.len() <= 1);
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
        assert_eq!(documents(&block).err().map(|at| at.0), Some(MAX_DEPTH + 2));
        let fine = (0..MAX_DEPTH - 2).fold(String::from("name: x\n"), |mut t, i| {
            t.push_str(&format!("{}a:\n", " ".repeat(i)));
            t
        });
        assert!(documents(&fine).is_ok());
    }
}
