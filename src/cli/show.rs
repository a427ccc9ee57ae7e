//! Lines written while nobody may be reading (a command piped into `head`).

/// Writes a line to stdout; false once nobody reads it (`k2-sandbox openapi | head`), which
/// ends a command quietly instead of panicking as `println!` does.
pub(super) fn line(text: std::fmt::Arguments<'_>) -> bool {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{text}").is_ok()
}

/// Prints a line of a command that streams its output (`requests --follow`, `watch`); once
/// nobody reads stdout, ends the command quietly (see [`line`]).
macro_rules! print_or_end {
    ($($arg:tt)*) => {
        if !$crate::cli::show::line(format_args!($($arg)*)) {
            return Ok(String::new());
        }
    };
}

pub(super) use print_or_end;
