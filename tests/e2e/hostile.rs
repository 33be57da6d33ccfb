//! A hostile world: answers no Webex service gives, which must never be acted on.

use crate::support::*;
use serde_json::json;

#[test]
fn a_redirect_is_never_followed_and_the_token_goes_nowhere_else() {
    let sim = Sim::sample(&[]);
    // a server on another port of 127.0.0.1 that would gladly take the token
    let elsewhere = Sim::sample(&[]);
    let d = tmp();
    let desired = sample("desired.csv");
    let desired = desired.to_str().unwrap();

    // every answer a redirect: the run stops at its first answer (sent alone), exit 1
    assert!(sim.post("/_sim/faults", json!({"redirect": elsewhere.base()})) < 300);
    let r = against(&sim, d.path(), &["plan", desired]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("redirect refused: 307") && r.stderr.contains("check base_url"), "{}", r.stderr);
    assert_eq!(sim.stats()["total"], 1, "nothing after the first answer");
    assert_eq!(elsewhere.stats()["total"], 0, "the redirect target never heard from us");

    // writes redirected after the reads succeeded: each such row fails, saying so; the run
    // goes on for the others; nothing is written anywhere
    assert!(sim.post("/_sim/faults", json!({"redirect": {"to": elsewhere.base(), "method": "PUT"}})) < 300);
    let before = sim.state();
    let r = against(&sim, d.path(), &["apply", desired]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let rows = rows(d.path(), "apply");
    let failed: Vec<_> = rows.iter().filter(|r| r["action"] == "failed").collect();
    assert_eq!(failed.len(), 7, "{rows:?}");
    for row in failed {
        assert!(row["message"].starts_with("redirect refused: 307 (to http://127.0.0.1:"), "{row:?}");
        assert_eq!(row["http_status"], "307");
        assert_eq!(row["attempts"], "3", "its GET, its dependencies and one PUT: a redirect is not retried");
    }
    assert_eq!(sim.state(), before, "nothing written");
    assert_eq!(elsewhere.stats()["total"], 0);
}
