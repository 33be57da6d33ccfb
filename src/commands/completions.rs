//! `completions SHELL`: the completion script clap_complete makes from the command line's
//! own definition, so it never drifts from the options.

use crate::error::{Error, Outcome};
use clap_complete::Shell;
use std::io::Write;

const BIN: &str = "ecbn-sync";

pub(crate) fn run(shell: Shell) -> Result<Outcome, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), BIN, &mut script);
    if shell == Shell::Bash {
        script = repair_bash(&script);
    }
    std::io::stdout()
        .write_all(&script)
        .and_then(|()| std::io::stdout().flush())
        .map_err(|source| Error::Storage { path: "standard output".into(), source })?;
    Ok(Outcome::Clean)
}

/// clap_complete's bash script spells a hyphenated binary's subcommand states two ways
/// (`ecbn__sync__subcmd__plan` in the loop, `ecbn__subcmd__sync__subcmd__plan` in the
/// arms), so nothing after a subcommand completes (clap-rs/clap#6421, open in 4.6.12).
/// Spell the arms as the loop does; a no-op once clap_complete is fixed.
fn repair_bash(script: &[u8]) -> Vec<u8> {
    let (broken, loop_spelling) = (BIN.replace('-', "__subcmd__"), BIN.replace('-', "__"));
    String::from_utf8_lossy(script).replace(&broken, &loop_spelling).into_bytes()
}
