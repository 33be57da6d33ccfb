//! Standard output, as a terraform-like plan: `~` a change, `!` a skip, `x` a failure,
//! then one summary line.

use std::io::{self, Write};

pub(crate) struct Printer {
    quiet: bool,
}

impl Printer {
    pub(crate) fn new(quiet: bool) -> Printer {
        Printer { quiet }
    }

    pub(crate) fn line(&self, s: &str) {
        if !self.quiet {
            print_line(s);
        }
    }

    /// The summary line is printed even when quiet: scripts read it.
    pub(crate) fn summary(&self, s: &str) {
        print_line(s);
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
