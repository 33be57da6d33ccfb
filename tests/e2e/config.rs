//! The command line, the environment and config.toml: one way for every key, exit
//! codes for each kind of mistake.

use crate::support::*;

#[test]
fn a_bad_environment_value_is_a_configuration_error_naming_the_variable() {
    let d = tmp();
    let desired = sample("desired.csv");
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_RATE", "fast").args(["--sandbox", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("ECBN_SYNC_RATE") && r.stderr.contains("fast"), "{}", r.stderr);
    // the same value on the command line is a bad command line
    let mut c = cmd(d.path());
    c.args(["--sandbox", "--rate", "fast", "plan", desired.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 64);
    // the command line wins over a bad variable, which is then never read
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_RATE", "fast").args(["--sandbox", "--rate", "0", "plan", desired.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 0);
    // before or after the subcommand, the command line beats the environment
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_REPORT_DIR", "from-env").args([
        "--sandbox",
        "--report-dir",
        "from-cli",
        "plan",
        desired.to_str().unwrap(),
    ]);
    assert_eq!(run(&mut c).code, 0);
    assert!(d.path().join("from-cli").exists() && !d.path().join("from-env").exists());
    // an empty variable is an unset one
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_RATE", "").args(["--sandbox", "plan", desired.to_str().unwrap()]);
    assert_eq!(run(&mut c).code, 0);
    // keys without a file section of their own read the environment too
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_TIMEOUT_SECS", "0").args(["--sandbox", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("ECBN_SYNC_TIMEOUT_SECS"), "{}", r.stderr);
}

#[test]
fn a_true_in_the_file_is_turned_off_on_the_command_line() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    write(d.path(), "config.toml", "[run]\nskip_invalid = true\n");
    let f = write(
        d.path(),
        "d.csv",
        &format!("person,selected\n{},LOCATION_ECBN\nnobody,DIRECT_LINE\n", id_of("ben.okafor@example.com")),
    );
    let r = against(&sim, d.path(), &["plan", f.to_str().unwrap()]);
    assert_eq!(r.code, 3, "the file's skip_invalid: {}", r.stderr);
    let r = against(&sim, d.path(), &["plan", "--skip-invalid=false", f.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_SKIP_INVALID", "false").args([
        "--base-url",
        &sim.base(),
        "--report-dir",
        "reports",
        "plan",
        f.to_str().unwrap(),
    ]);
    assert_eq!(run(&mut c).code, 65, "the environment beats the file");
}

#[test]
fn the_sandbox_refuses_a_base_url_from_the_command_line_only() {
    let d = tmp();
    let desired = sample("desired.csv");
    let mut c = cmd(d.path());
    c.args(["plan", "--sandbox", "--base-url", "http://127.0.0.1:9/v1", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("--sandbox and --base-url"), "{}", r.stderr);
    // a base URL in the environment (a nightly job's, say) does not stop a rehearsal
    let mut c = cmd(d.path());
    c.env("ECBN_SYNC_BASE_URL", "https://webexapis.com/v1").args(["--sandbox", "plan", desired.to_str().unwrap()]);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn the_simulator_takes_only_its_own_options() {
    let d = tmp();
    let mut c = cmd(d.path());
    c.args(["sim", "generate", "--help"]);
    let r = run(&mut c);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("--people") && !r.stdout.contains("--rate") && !r.stdout.contains("--org-id"),
        "{}",
        r.stdout
    );
    let mut c = cmd(d.path());
    c.args(["--rate", "5", "sim", "--fixture"]).arg(sample("org.json"));
    let r = run(&mut c);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("--rate cannot be used with `sim`"), "{}", r.stderr);
}

#[test]
fn export_people_resolves_emails_strictly() {
    let d = tmp();
    // Ben's address is given to Carla as well: one email, two people
    let mut org: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample("org.json")).unwrap()).unwrap();
    for m in org["members"].as_array_mut().unwrap() {
        if m["email"] == "carla.rossi@example.com" {
            m["email"] = "ben.okafor@example.com".into();
        }
    }
    let fx = write(d.path(), "org.json", &org.to_string());
    let sim = Sim::start(&fx, &[]);
    let f = write(d.path(), "p.csv", "person\nben.okafor@example.com\nnobody@example.com\ndina.aziz@example.com\n");
    let r = against(&sim, d.path(), &["export", "--people", f.to_str().unwrap(), "--out", "e.csv"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("p.csv:2: member: the email `ben.okafor@example.com` matches 2 people"), "{}", r.stderr);
    assert!(r.stderr.contains("p.csv:3: member: no person with the email `nobody@example.com`"), "{}", r.stderr);
    assert!(!d.path().join("e.csv").exists(), "no export of a file that does not resolve");
    assert_eq!(sim.count(GET_ECBN), 0);
    assert_eq!(summary(d.path(), "export")["exit_code"], 65);
}
