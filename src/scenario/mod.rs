//! YAML scenarios: a world to start from, rules, API and callback faults, receiver probes and
//! a timeline, written down once and replayed byte for byte (with `--seed` and a virtual
//! clock).
//!
//! Loading is all or nothing: a file is read and checked completely (`load`) before anything
//! is applied (`apply`), and a problem names the file, line, column and field (`problems`).
//! Loading never panics, and no file can make it hang or grow without bound (`locate`).

mod apply;
mod export;
mod load;
mod locate;
mod model;
mod probes;
mod problems;

pub use self::apply::{Loaded, apply, load_files};
pub use self::export::export;
pub use self::load::{MAX_FILE_BYTES, parse, read, read_file};
pub use self::model::Scenario;
pub use self::problems::{Origin, Problem, Problems};
