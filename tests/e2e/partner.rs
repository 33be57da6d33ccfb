//! Partner organisations: with --org-id every request acts on the customer's org, next
//! links that drop the orgId are repaired, links to another org or host stop the run,
//! and the partner's own org is never read or written.

use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const TOKEN: &str = "partner-token";

/// A customer org and the partner's home org, generated with the same email addresses
/// but other IDs, and a token at home in the partner's org that may manage both.
/// Returns (fixture, customer org ID, partner org ID, the customer's desired file by email).
fn two_orgs(d: &Path) -> (PathBuf, String, String, PathBuf) {
    let (cfx, cdesired) = generate(d, 250, 0.3, 0.05, 21);
    let customer: Value = serde_json::from_str(&std::fs::read_to_string(&cfx).unwrap()).unwrap();
    let cdesired = std::fs::read_to_string(&cdesired).unwrap();
    // (the same paths again: read the customer's files first)
    let (pfx, _) = generate(d, 250, 0.3, 0.05, 22);
    let partner: Value = serde_json::from_str(&std::fs::read_to_string(&pfx).unwrap()).unwrap();
    let (c_id, p_id) =
        (customer["orgId"].as_str().unwrap().to_string(), partner["orgId"].as_str().unwrap().to_string());
    let scopes = customer["tokens"][0]["scopes"].clone();
    let strip = |mut o: Value| {
        o["tokens"] = json!([]);
        o
    };
    let world = json!({
        "orgs": [strip(partner), strip(customer.clone())],
        "tokens": [{"token": TOKEN, "scopes": scopes, "homeOrgId": p_id, "orgs": [p_id, c_id]},
                   {"token": "home-only", "scopes": scopes, "homeOrgId": p_id, "orgs": [p_id]}],
    });
    let fx = write(d, "world.json", &world.to_string());
    // the customer's desired file with emails instead of IDs: > 20 emails, so the
    // resolution reads the paged people listing
    let email_of: std::collections::HashMap<String, String> = customer["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| Some((m["id"].as_str()?.to_string(), m["email"].as_str()?.to_string())))
        .collect();
    let by_email: String = cdesired
        .lines()
        .map(|l| match l.split_once(',') {
            Some((id, rest)) => format!("{},{rest}\n", email_of.get(id).map_or(id, String::as_str)),
            None => format!("{l}\n"),
        })
        .collect();
    let desired = write(d, "customer.csv", &by_email);
    (fx, c_id, p_id, desired)
}

fn partner_job(sim: &Sim, d: &Path, org: &str, args: &[&str]) -> Ran {
    let mut c = job(sim, d, &["--org-id", org]);
    c.args(args).env("WEBEX_TOKEN", TOKEN);
    run(&mut c)
}

#[test]
fn a_partner_run_never_touches_the_home_org() {
    let d = tmp();
    let (fx, customer, partner, desired) = two_orgs(d.path());
    // the server drops orgId from its next links, as Webex has been seen to
    let sim = Sim::start(&fx, &["--next-link", "drop-org-id"]);
    let home = |sim: &Sim| sim.get(&format!("/_sim/state?orgId={partner}")).to_string();
    let home_before = home(&sim);
    let customer_before = sim.get(&format!("/_sim/state?orgId={customer}"));

    let r = partner_job(&sim, d.path(), &customer, &["plan", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(sim.count(GET_PEOPLE), 3, "the customer's 250 people in pages of 100");
    let r = partner_job(&sim, d.path(), &customer, &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let s = summary(d.path(), "apply");
    assert!(s["counts"]["updated"].as_u64().unwrap() > 30, "{s}");
    // members this run freed from their dependents are written by the next run
    assert_eq!(s["rerun_needed"], true, "{s}");
    let r = partner_job(&sim, d.path(), &customer, &["apply", desired.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = partner_job(&sim, d.path(), &customer, &["plan", desired.to_str().unwrap()]);
    assert!(r.stdout.contains("Plan: 0 to update"), "converged: {}", r.stdout);

    // export of every member, paged
    let r = partner_job(&sim, d.path(), &customer, &["export", "--all", "--out", "export.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exported = std::fs::read_to_string(d.path().join("export.csv")).unwrap();
    let ids: Vec<&str> = exported.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    let customer_ids: Vec<String> = customer_before["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] != "HUNT_GROUP")
        .chain(customer_before["locations"].as_array().unwrap())
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), customer_ids.len());
    assert!(ids.iter().all(|id| customer_ids.iter().any(|c| c == id)), "only the customer's members");

    // the rollbacks of the partner runs, newest first, restore the customer's org
    let rollbacks = reports(d.path(), "ecbn-rollback-", ".csv");
    assert_eq!(rollbacks.len(), 2);
    for rb in rollbacks.iter().rev() {
        let r = partner_job(&sim, d.path(), &customer, &["apply", rb.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let settings = |st: &Value| -> Vec<(String, String)> {
        st["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["id"].to_string(), m["ecbn"]["selected"].to_string()))
            .collect()
    };
    assert_eq!(settings(&sim.get(&format!("/_sim/state?orgId={customer}"))), settings(&customer_before));

    // the partner's own org: never read, never written
    assert_eq!(home(&sim), home_before, "byte for byte");
    let by_org = &sim.stats()["by_org"];
    assert!(by_org[&partner].is_null(), "no request acted on the home org: {by_org}");
    assert!(by_org[&customer].as_u64().unwrap() > 500);
}

#[test]
fn a_next_link_to_another_org_or_host_stops_the_run() {
    let d = tmp();
    let (fx, customer, partner, desired) = two_orgs(d.path());
    for how in ["foreign-org", "foreign-host"] {
        let sim = Sim::start(&fx, &["--next-link", how]);
        let r = partner_job(&sim, d.path(), &customer, &["apply", desired.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{how}: {}", r.stderr);
        assert!(r.stderr.contains("refusing a next-page link"), "{how}: {}", r.stderr);
        assert_eq!(sim.count(GET_PEOPLE), 1, "{how}: the refused link is never requested");
        assert_eq!(sim.count(PUT_ECBN), 0, "{how}: nothing written");
        assert!(sim.stats()["by_org"][&partner].is_null());
        let r = partner_job(&sim, d.path(), &customer, &["export", "--all", "--out", "e.csv"]);
        assert_eq!(r.code, 1, "{how}: {}", r.stderr);
        assert!(!d.path().join("e.csv").exists(), "{how}: no half export");
    }
}

#[test]
fn an_org_the_token_cannot_manage_stops_at_the_first_request() {
    let d = tmp();
    let (fx, customer, _, desired) = two_orgs(d.path());
    let sim = Sim::start(&fx, &[]);
    let mut c = job(&sim, d.path(), &["--org-id", &customer, "plan", desired.to_str().unwrap()]);
    c.env("WEBEX_TOKEN", "home-only");
    let r = run(&mut c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("403"), "{}", r.stderr);
    assert_eq!(sim.stats()["total"], 1, "the first request goes alone and stops the run");
}
