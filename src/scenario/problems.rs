//! Problems found in scenario files, each with its file, line, column and field, and where each
//! field of a parsed scenario is written, for problems found after parsing.

use std::fmt;

use super::locate::Spans;

/// A problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Where in the document, e.g. `world.handsets[0].phone_number`.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// A problem of the whole file, with no position.
    pub(super) fn of_file(file: &str, field: &str, message: String) -> Self {
        Self {
            file: file.to_string(),
            line: None,
            column: None,
            field: field.into(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}: {}", self.field, self.message)
    }
}

/// Every problem found in a scenario file (or several), one per line when shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl Problems {
    /// All problems on one line, for a JSON error message.
    pub fn one_line(&self) -> String {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        all.join("; ")
    }
}

/// Where a scenario came from: its file and where each of its fields is written.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub file: String,
    pub(super) spans: Spans,
}

impl Origin {
    /// A problem at `field`, with its line and column when the field (or its parent) is
    /// written in the file.
    pub(super) fn problem(&self, field: String, message: String) -> Problem {
        let at = self.spans.find(&field);
        Problem {
            file: self.file.clone(),
            line: at.map(|a| a.0),
            column: at.map(|a| a.1),
            field,
            message,
        }
    }
}
