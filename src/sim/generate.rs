//! `sim generate`: a large, consistent synthetic org and a desired file that differs
//! from it by a chosen fraction. Deterministic for a seed.

use super::fixture::{Fixture, Location, LocationEcbn, Member, MemberEcbn, TokenSpec};
use crate::ids::IdKind;
use crate::sim::org::new_id;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::Write;

pub(crate) struct GenOptions {
    /// Members in all: people, and the shares of workspaces and virtual lines.
    pub people: usize,
    /// Share of the members that are workspaces (beyond each site's lobby).
    pub workspaces: f64,
    /// Share of the members that are virtual lines.
    pub virtual_lines: f64,
    /// Fraction of desired rows that differ from the current state.
    pub drift: f64,
    /// Fraction of people that are ECBN targets of others (existing dependents).
    pub targets: f64,
    pub seed: u64,
}

impl GenOptions {
    /// How many of the members are workspaces and virtual lines; the rest are people.
    fn shares(&self) -> (usize, usize) {
        let n = |f: f64| ((self.people as f64) * f.clamp(0.0, 1.0)).round() as usize;
        let ws = n(self.workspaces).min(self.people);
        (ws, n(self.virtual_lines).min(self.people - ws))
    }
}

const PER_LOCATION: usize = 250;

pub(crate) struct Generated {
    pub fixture: Fixture,
    /// Rows of the desired file: (member id, selected, location_member).
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
    let (n_ws, n_vl) = o.shares();
    let n_people = o.people - n_ws - n_vl;
    let first_person = members.len();
    for i in 0..n_people {
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
    let n_targets = ((n_people as f64) * o.targets) as usize;
    let mut is_target = vec![false; members.len()];
    for _ in 0..n_targets {
        // no numbered person (a tiny org): nobody to point at
        let Some(&t) = numbered.get(rng.random_range(0..numbered.len().max(1))) else { break };
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
    // workspaces and virtual lines after the people (so a seed gives the same people as
    // before), spread over the sites, with dependents of every kind
    let first_other = members.len();
    for j in 0..n_ws + n_vl {
        let workspace = j < n_ws;
        let has_number = rng.random_bool(if workspace { 0.8 } else { 0.9 });
        let (kind, name) = if workspace { (IdKind::Place, "Room") } else { (IdKind::VirtualProfile, "Line") };
        members.push(Member {
            // numbered past the lobbies, which are workspaces too
            id: new_id(kind, (1 << 32) + j as u64, salt),
            kind: if workspace { "PLACE" } else { "VIRTUAL_LINE" }.into(),
            first_name: Some(format!("{name}{j}")),
            last_name: Some("Gen".into()),
            display_name: Some(format!("{name} {j}")),
            location_id: Some(locations[j % n_loc].id.clone()),
            phone_number: has_number.then(|| format!("+1628{:07}", j)),
            extension: Some(format!("{}", 5000 + j % 4000)),
            ecbn: Some(MemberEcbn {
                selected: if has_number { "DIRECT_LINE" } else { "LOCATION_ECBN" }.into(),
                location_member_id: None,
            }),
            ..Default::default()
        });
    }
    let others = first_other..members.len();
    let site_of =
        |i: usize| if i >= first_other { (i - first_other) % n_loc } else { (i - first_person) / PER_LOCATION };
    let numbered: Vec<usize> = others.clone().filter(|&i| members[i].phone_number.is_some()).collect();
    for k in 0..((n_ws + n_vl) as f64 * o.targets) as usize {
        let Some(&t) = numbered.get(rng.random_range(0..numbered.len().max(1))) else { break };
        // a dependent in the target's site: every other one a workspace or virtual line
        let from = if k % 2 == 0 { first_other } else { first_person };
        let site: Vec<usize> = (from..members.len()).filter(|&i| site_of(i) == site_of(t)).collect();
        let p = site[rng.random_range(0..site.len())];
        if p == t || is_target.get(p).copied().unwrap_or(false) {
            continue;
        }
        is_target.resize(members.len(), false);
        is_target[t] = true;
        let tid = members[t].id.clone();
        members[p].ecbn = Some(MemberEcbn { selected: "LOCATION_MEMBER_NUMBER".into(), location_member_id: Some(tid) });
    }
    let desired = (first_person..members.len())
        .map(|i| {
            let m = &members[i];
            let e = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
            let loc = site_of(i);
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
                    "spark-admin:locations_read".into(),
                ],
                ..Default::default()
            }],
            locations,
            members,
            clients: Vec::new(),
        },
        desired,
    }
}

pub(crate) fn write_desired(path: &std::path::Path, rows: &[(String, &'static str, String)]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    let [member, selected, target, _] = crate::desired::DesiredColumn::header();
    writeln!(w, "{member},{selected},{target}")?;
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
        let o = GenOptions { people: 1000, workspaces: 0.0, virtual_lines: 0.0, drift: 0.1, targets: 0.05, seed: 7 };
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

    #[test]
    fn tiny_orgs_generate_for_every_seed() {
        // a person without a number and every one a target: no numbered person to pick
        for seed in 0..64 {
            for (people, workspaces) in [(1, 0.0), (2, 0.5), (3, 1.0)] {
                let o = GenOptions { people, workspaces, virtual_lines: 0.0, drift: 1.0, targets: 1.0, seed };
                let g = generate(&o);
                Org::new(g.fixture.clone()).expect("consistent org");
                assert_eq!(g.desired.len(), people);
            }
        }
    }

    #[test]
    fn shares_of_workspaces_and_virtual_lines() {
        let o = GenOptions { people: 1000, workspaces: 0.2, virtual_lines: 0.1, drift: 0.1, targets: 0.05, seed: 7 };
        let g = generate(&o);
        Org::new(g.fixture.clone()).expect("consistent org");
        let count = |t: &str| g.fixture.members.iter().filter(|m| m.kind == t).count();
        let sites = 4; // ⌈1000/250⌉, each with a lobby
        assert_eq!((count("PEOPLE"), count("PLACE"), count("VIRTUAL_LINE")), (700, 200 + sites, 100));
        assert_eq!(g.desired.len(), 1000, "a desired row per member (the lobbies aside)");
        // dependents and targets of every kind
        let kind_of = |id: &str| g.fixture.members.iter().find(|m| m.id == id).map(|m| m.kind.as_str());
        let pairs: Vec<(&str, &str)> = g
            .fixture
            .members
            .iter()
            .filter_map(|m| Some((m.kind.as_str(), kind_of(m.ecbn.as_ref()?.location_member_id.as_deref()?)?)))
            .collect();
        for t in ["PEOPLE", "PLACE", "VIRTUAL_LINE"] {
            assert!(pairs.iter().any(|(_, target)| *target == t), "a {t} target: {pairs:?}");
            assert!(pairs.iter().any(|(dep, _)| *dep == t), "a {t} dependent: {pairs:?}");
        }
        // no share: the same org as before for a seed
        let plain = GenOptions { workspaces: 0.0, virtual_lines: 0.0, ..o };
        assert_eq!(generate(&plain).fixture.members.len(), 1000 + sites);
    }
}
