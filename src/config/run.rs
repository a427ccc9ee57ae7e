//! `k2-sandbox run` and `verify`: a command run against a sandbox, and the verdicts reported.

use super::client::ClientArgs;
use super::serve::ServeArgs;
use clap::Args;

/// `k2-sandbox run`: the sandbox's flags, the reports, and the command after `--`. It binds a
/// free port unless told one.
#[derive(Debug, Args)]
#[command(mut_arg("port", |a| a
    .default_value("0")
    .help("Port to bind; by default a free one, given to the command in K2_BASE_URL")))]
#[command(after_help = RUN_EXIT_CODES)]
pub struct RunArgs {
    #[command(flatten)]
    pub serve: ServeArgs,

    /// Write the verdicts as JUnit XML: one suite per scenario, one case per expectation,
    /// one for the command.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,

    /// After the command exits, how long at most to let due work (results, callbacks and
    /// their retries) finish before judging, e.g. 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub settle: std::time::Duration,

    /// Where the sandbox's log goes (`-`: stderr, with the command's output).
    #[arg(long, value_name = "FILE", default_value = "k2-sandbox.log")]
    pub log_file: std::path::PathBuf,

    /// The command to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `run --help`'s last words: what its exit code says.
const RUN_EXIT_CODES: &str = "Exit codes:
  0        the command succeeded and every expectation passed
  1        an expectation failed (the app did something wrong)
  2        a configuration or usage error: a bad flag or scenario, a sandbox that could not
           start (a busy port), a report that could not be written
  N        the command failed with its own code N
  126/127  the command could not be run / was not found (as a shell says)
  128+n    signal n ended the command";

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    crate::clock::parse_span(text)
}

/// `k2-sandbox verify`: where the sandbox is and which reports to write.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Write the verdicts as JUnit XML: one suite per scenario, one case per expectation.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,

    /// Write the verdicts as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<std::path::PathBuf>,

    /// Print the verdicts as JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub client: ClientArgs,
}
