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

/// The spans of each document in `text`, in order. Text the event parser cannot read gives
/// what was read before the problem (serde reports that problem with its own position).
pub fn documents(text: &str) -> Vec<Spans> {
    let mut index = Index::default();
    let _ = Parser::new_from_str(text).load(&mut index, true);
    if !index.current.0.is_empty() {
        index.documents.push(std::mem::take(&mut index.current));
    }
    index.documents
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
        let docs = documents(TEXT);
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
        let docs = documents(TEXT);
        assert_eq!(docs[0].find("faults[0].latency"), docs[0].find("faults[0]"));
        assert_eq!(docs[0].find("faults[0]"), Some((7, 5)));
        assert_eq!(docs[0].find("world.handsets[0]"), Some((4, 7)));
        assert_eq!(docs[0].find("nowhere"), None);
    }

    #[test]
    fn unreadable_text_gives_what_was_read() {
        let docs = documents("name: x\nworld: [\n");
        assert!(docs.len() <= 1);
    }
}
