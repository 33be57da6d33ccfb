//! A location's own ECBN: a kind like the others (one table row and its rules), read
//! first, written first, pointing at members who are then skipped, and followed by the
//! members on LOCATION_ECBN in their predictions.

use crate::support::*;
use serde_json::Value;

const LOC_ECBN: &str = "GET /v1/telephony/config/locations/{locationId}/features/emergencyCallbackNumber";
const LOC_PUT: &str = "PUT /v1/telephony/config/locations/{locationId}/features/emergencyCallbackNumber";

fn location_id(sim: &Sim, name: &str) -> String {
    let st = sim.state();
    let l = st["locations"].as_array().unwrap().iter().find(|l| l["name"] == name).unwrap();
    l["id"].as_str().unwrap().to_string()
}

fn workspace_id(sim: &Sim, name: &str) -> String {
    let st = sim.state();
    let m = st["members"].as_array().unwrap().iter().find(|m| m["displayName"] == name).unwrap();
    m["id"].as_str().unwrap().to_string()
}

fn row<'a>(
    rows: &'a [std::collections::HashMap<String, String>],
    id: &str,
) -> &'a std::collections::HashMap<String, String> {
    rows.iter().find(|r| r["member_id"] == id).unwrap_or_else(|| panic!("no row for {id}"))
}

#[test]
fn a_locations_row_is_read_and_written_first_and_its_members_follow_it() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let (hq, gus, kofi) = (location_id(&sim, "HQ"), id_of("gus.berg@example.com"), id_of("kofi.mensah@example.com"));
    let room = workspace_id(&sim, "HQ Break Room"); // on LOCATION_ECBN, no number of its own
    let gus_number = "+14085550207";
    // HQ's ECBN moves to Gus's number; Kofi moves to the location's; Gus is HQ's now
    let f = write(
        d.path(),
        "d.csv",
        &format!(
            "member,selected,location_member,kind\n\
             {kofi},LOCATION_ECBN,,\n\
             {room},LOCATION_ECBN,,workspace\n\
             {gus},LOCATION_ECBN,,\n\
             {hq},LOCATION_MEMBER_NUMBER,(408) 555-0207,location\n"
        ),
    );
    let f = f.to_str().unwrap();
    let r = against(&sim, d.path(), &["plan", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let planned = rows(d.path(), "plan");
    let hq_row = row(&planned, &hq);
    assert_eq!((hq_row["kind"].as_str(), hq_row["action"].as_str()), ("location", "would_update"));
    assert_eq!(hq_row["current_selected"], "LOCATION_NUMBER");
    assert_eq!(hq_row["desired_effective_number"], gus_number, "the location's predicted number");
    // Gus is the target of the location's row: skipped by the in-file rule
    assert_eq!(row(&planned, &gus)["action"], "skipped_has_dependents");
    // Kofi (moving to LOCATION_ECBN) and the room (on it already) will reach Gus's number
    for id in [&kofi, &room] {
        assert_eq!(row(&planned, id)["desired_effective_number"], gus_number, "{id}");
    }
    assert_eq!(row(&planned, &room)["action"], "in_sync");
    assert_eq!(row(&planned, &room)["current_effective_number"], "+14085550100", "today: HQ's main number");
    // the cost: one location GET, no dependencies GET for it, and HQ's member listings
    assert_eq!(sim.count(LOC_ECBN), 1);
    assert_eq!(sim.count("GET /v1/workspaces"), 1);
    assert_eq!(sim.count("GET /v1/telephony/config/virtualLines"), 1);
    let s = summary(d.path(), "plan");
    assert_eq!(s["counts_by_kind"]["location"]["would_update"], 1, "{s}");
    assert!(r.stdout.contains("~ HQ (location) LOCATION_NUMBER -> LOCATION_MEMBER_NUMBER(Gus Berg"), "{}", r.stdout);

    // apply: the location first, every prediction what the API then shows
    let r = against(&sim, d.path(), &["apply", f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(sim.count(LOC_PUT), 1);
    let rollback = reports(d.path(), "ecbn-rollback-", ".csv").pop().unwrap();
    let lines: Vec<String> =
        whole_records(&rollback).unwrap().iter().map(|r| r.iter().collect::<Vec<_>>().join(",")).collect();
    assert_eq!(lines[0], format!("{hq},LOCATION_NUMBER,,location"), "the location's line comes first: {lines:?}");
    let st = sim.state();
    let hq_now = st["locations"].as_array().unwrap().iter().find(|l| l["id"] == hq.as_str()).unwrap();
    assert_eq!(hq_now["ecbn"]["selected"], "LOCATION_MEMBER_NUMBER");
    assert_eq!(sim.ecbn_of(&kofi).0, "LOCATION_ECBN");
    let r = against(&sim, d.path(), &["plan", f]);
    let after = rows(d.path(), "plan");
    for id in [&kofi, &room] {
        assert_eq!(row(&after, id)["current_effective_number"], gus_number, "what the API shows now: {id}");
    }
    assert!(r.stdout.contains("Plan: 0 to update"), "{}", r.stdout);
    // Gus stays skipped (the location's row, in sync now, still points at him)
    assert_eq!(row(&after, &gus)["action"], "skipped_has_dependents");
    // without the location's row, the live rule skips him: he is HQ's ECBN
    let only_gus = write(d.path(), "gus.csv", &format!("member,selected\n{gus},LOCATION_ECBN\n"));
    let r = against(&sim, d.path(), &["plan", only_gus.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(rows(d.path(), "plan")[0]["message"].contains("location-default rule"), "{}", r.stdout);

    // the rollback file restores the location
    let r = against(&sim, d.path(), &["apply", rollback.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st: Value = sim.state();
    let hq_back = st["locations"].as_array().unwrap().iter().find(|l| l["id"] == hq.as_str()).unwrap();
    assert_eq!(hq_back["ecbn"]["selected"], "LOCATION_NUMBER");
}

#[test]
fn locations_export_and_plan_back_in_sync() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let r = against(&sim, d.path(), &["export", "--all", "--kind", "location", "--out", "loc.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(d.path().join("loc.csv")).unwrap();
    assert_eq!(text.lines().count(), 1 + 3, "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains(",location,")), "{text}");
    assert!(text.contains(",HQ,") && text.contains("+14085550100,RECOMMENDED"), "{text}");
    let r = against(&sim, d.path(), &["plan", "loc.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: 0 to update, 3 in sync"), "{}", r.stdout);
    assert_eq!(sim.count("GET /v1/locations"), 1);
}
