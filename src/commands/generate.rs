//! `sim generate`: a large, consistent synthetic org and a desired file that differs
//! from it by a chosen fraction, for rehearsals and benchmarks.

use crate::cli::GenArgs;
use crate::error::{Error, Outcome};
use crate::sim::generate::{self, GenOptions};

pub(crate) fn run(g: GenArgs) -> Result<Outcome, Error> {
    let fractions = [g.drift, g.targets, g.workspaces, g.virtual_lines, g.workspaces + g.virtual_lines];
    if fractions.iter().any(|f| !(0.0..=1.0).contains(f)) || g.people == 0 {
        return Err(Error::Usage(
            "--people must be positive; --drift, --targets, --workspaces, --virtual-lines (and the last two together) between 0 and 1"
                .into(),
        ));
    }
    let options = GenOptions {
        people: g.people,
        workspaces: g.workspaces,
        virtual_lines: g.virtual_lines,
        drift: g.drift,
        targets: g.targets,
        seed: g.seed,
    };
    let out = generate::generate(&options);
    let storage = Error::storage;
    crate::atomic::write_json(&g.fixture_out, &out.fixture).map_err(storage(&g.fixture_out))?;
    generate::write_desired(&g.desired_out, &out.desired).map_err(storage(&g.desired_out))?;
    println!(
        "wrote {} ({} members) and {} ({} rows)",
        g.fixture_out.display(),
        out.fixture.members.len(),
        g.desired_out.display(),
        out.desired.len()
    );
    Ok(Outcome::Clean)
}
