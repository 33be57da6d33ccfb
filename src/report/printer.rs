//! Standard output, as a terraform-like plan: `~` a change, `!` a skip, `x` a failure,
//! then one summary line.

use std::io::{self, Write};

pub(crate) struct Printer {
    quiet: bool,
    /// Logs are JSON: a quiet run then prints nothing on stdout, so a journal that takes
    /// both streams holds JSON lines only.
    json: bool,
}

impl Printer {
    pub(crate) fn new(quiet: bool, json: bool) -> Printer {
        Printer { quiet, json }
    }

    pub(crate) fn line(&self, s: &str) {
        if !self.quiet {
            print_line(s);
        }
    }

    /// The summary line is printed even when quiet (scripts read it), unless logs are
    /// JSON too.
    pub(crate) fn summary(&self, s: &str) {
        if !(self.quiet && self.json) {
            print_line(s);
        }
    }
}

/// One stdout line; a progress bar on stderr (a terminal only) is lifted while it prints.
fn print_line(s: &str) {
    tracing_indicatif::suspend_tracing_indicatif(|| {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    });
}
