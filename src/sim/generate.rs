//! `sim generate`: a large, consistent synthetic org and a desired file that differs
//! from it by a chosen fraction. Deterministic for a seed.

use super::fixture::{Fixture, Location, LocationEcbn, Member, MemberEcbn, TokenSpec};
use crate::ids::IdKind;
use crate::sim::org::new_id;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Write;

pub(crate) struct GenOptions {
    pub people: usize,
    /// Fraction of desired rows that differ from the current state.
    pub drift: f64,
    /// Fraction of people that are ECBN targets of others (existing dependents).
    pub targets: f64,
    pub seed: u64,
}

const PER_LOCATION: usize = 250;

pub(crate) struct Generated {
    pub fixture: Fixture,
    /// Rows of the desired file: (person id, selected, location_member).
    pub desired: Vec<(String, &'static str, String)>,
}

pub(crate) fn generate(o: &GenOptions) -> Generated {
    let mut rng = StdRng::seed_from_u64(o.seed);
    let salt = (o.seed as u32) ^ 0x5eed;
    let n_loc = o.people.div_ceil(PER_LOCATION).max(1);
    let locations: Vec<Location> = (0..n_loc)
        .map(|k| Location {
            id: new_id(IdKind::Location, k as u64, salt),
            name: format!("Site {k}"),
            main_number: Some(format!("+1650{:07}", k)),
            ecbn: LocationEcbn::default(),
        })
        .collect();
    let mut members = Vec::with_capacity(o.people + n_loc);
    // one workspace per location: a safe LOCATION_MEMBER_NUMBER target
    for (k, l) in locations.iter().enumerate() {
        members.push(Member {
            id: new_id(IdKind::Place, k as u64, salt),
            kind: "PLACE".into(),
            display_name: Some(format!("Lobby {k}")),
            first_name: Some("Lobby".into()),
            last_name: Some(format!("{k}")),
            location_id: Some(l.id.clone()),
            phone_number: Some(format!("+1408{:07}", k)),
            extension: Some("100".into()),
            ecbn: Some(MemberEcbn { selected: "DIRECT_LINE".into(), location_member_id: None }),
            ..Default::default()
        });
    }
    let first_person = members.len();
    for i in 0..o.people {
        let loc = i / PER_LOCATION;
        let has_number = rng.random_bool(0.9);
        members.push(Member {
            id: new_id(IdKind::People, i as u64, salt),
            kind: "PEOPLE".into(),
            email: Some(format!("user{i}@gen.example.com")),
            first_name: Some(format!("User{i}")),
            last_name: Some("Gen".into()),
            location_id: Some(locations[loc].id.clone()),
            phone_number: has_number.then(|| format!("+1415{:07}", i)),
            extension: Some(format!("{}", 1000 + i % PER_LOCATION)),
            ecbn: Some(MemberEcbn {
                selected: if has_number { "DIRECT_LINE" } else { "LOCATION_ECBN" }.into(),
                location_member_id: None,
            }),
            ..Default::default()
        });
    }
    // existing dependents: some numbered people point at another numbered person of
    // their location
    let people = first_person..members.len();
    let numbered: Vec<usize> = people.clone().filter(|&i| members[i].phone_number.is_some()).collect();
    let n_targets = ((o.people as f64) * o.targets) as usize;
    let mut is_target = vec![false; members.len()];
    for _ in 0..n_targets {
        let t = numbered[rng.random_range(0..numbered.len().max(1))];
        let loc = (t - first_person) / PER_LOCATION;
        let lo = first_person + loc * PER_LOCATION;
        let hi = (lo + PER_LOCATION).min(members.len());
        let p = rng.random_range(lo..hi);
        if p == t || is_target[p] {
            continue;
        }
        is_target[t] = true;
        let tid = members[t].id.clone();
        members[p].ecbn = Some(MemberEcbn { selected: "LOCATION_MEMBER_NUMBER".into(), location_member_id: Some(tid) });
    }
    let desired = people
        .map(|i| {
            let m = &members[i];
            let e = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
            let loc = (i - first_person) / PER_LOCATION;
            let (sel, target): (&'static str, String) = match e.selected.as_str() {
                "DIRECT_LINE" => ("DIRECT_LINE", String::new()),
                "LOCATION_MEMBER_NUMBER" => ("LOCATION_MEMBER_NUMBER", e.location_member_id.unwrap_or_default()),
                _ => ("LOCATION_ECBN", String::new()),
            };
            if rng.random_bool(o.drift.clamp(0.0, 1.0)) {
                // differ: move to another valid value
                match sel {
                    "LOCATION_ECBN" => ("LOCATION_MEMBER_NUMBER", members[loc].id.clone()),
                    _ => ("LOCATION_ECBN", String::new()),
                }
            } else {
                (sel, target)
            }
        })
        .zip(first_person..)
        .map(|((s, t), i)| (members[i].id.clone(), s, t))
        .collect();
    Generated {
        fixture: Fixture {
            org_id: new_id(IdKind::Organization, 1, salt),
            tokens: vec![TokenSpec {
                token: "admin-token".into(),
                scopes: vec![
                    "spark-admin:telephony_config_read".into(),
                    "spark-admin:telephony_config_write".into(),
                    "spark-admin:people_read".into(),
                    "spark-admin:workspaces_read".into(),
                ],
                ..Default::default()
            }],
            locations,
            members,
        },
        desired,
    }
}

pub(crate) fn write_desired(path: &std::path::Path, rows: &[(String, &'static str, String)]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "person,selected,location_member")?;
    for (p, s, t) in rows {
        writeln!(w, "{p},{s},{t}")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::org::Org;

    #[test]
    fn consistent_and_deterministic() {
        let o = GenOptions { people: 1000, drift: 0.1, targets: 0.05, seed: 7 };
        let a = generate(&o);
        let b = generate(&o);
        assert_eq!(a.fixture, b.fixture);
        assert_eq!(a.desired, b.desired);
        Org::new(a.fixture.clone()).expect("consistent org");
        assert_eq!(a.desired.len(), 1000);
        let lmn = a
            .fixture
            .members
            .iter()
            .filter(|m| m.ecbn.as_ref().is_some_and(|e| e.selected == "LOCATION_MEMBER_NUMBER"))
            .count();
        assert!(lmn > 20, "{lmn} existing dependents");
    }
}
