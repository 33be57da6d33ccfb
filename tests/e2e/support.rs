//! Test support: the real binary, the real simulator (a child process on port 0),
//! and small readers for its admin endpoints and our reports.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_ecbn-sync");

pub fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)
}

/// A simulator child process, killed on drop.
pub struct Sim {
    child: Child,
    pub url: String,
    http: reqwest::blocking::Client,
}

impl Sim {
    pub fn start(fixture: &Path, extra: &[&str]) -> Sim {
        let mut child = Command::new(BIN)
            .args(["sim", "--fixture"])
            .arg(fixture)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
        Sim { child, url, http: reqwest::blocking::Client::new() }
    }

    pub fn sample(extra: &[&str]) -> Sim {
        Sim::start(&sample("org.json"), extra)
    }

    pub fn base(&self) -> String {
        format!("{}/v1", self.url)
    }

    pub fn get(&self, path: &str) -> Value {
        self.http.get(format!("{}{path}", self.url)).send().unwrap().json().unwrap()
    }

    pub fn post(&self, path: &str, body: Value) -> u16 {
        self.http.post(format!("{}{path}", self.url)).json(&body).send().unwrap().status().as_u16()
    }

    pub fn state(&self) -> Value {
        self.get("/_sim/state")
    }

    pub fn stats(&self) -> Value {
        self.get("/_sim/stats")
    }

    /// Requests booked for one route template, all statuses.
    pub fn count(&self, route: &str) -> u64 {
        self.stats()["by_route"][route].as_object().map(|m| m.values().map(|v| v.as_u64().unwrap()).sum()).unwrap_or(0)
    }

    /// The ECBN of a member in the simulator's state, by ID.
    pub fn ecbn_of(&self, id: &str) -> (String, Option<String>) {
        let st = self.state();
        let m = st["members"].as_array().unwrap().iter().find(|m| m["id"] == id).expect("member");
        (
            m["ecbn"]["selected"].as_str().unwrap().to_string(),
            m["ecbn"]["locationMemberId"].as_str().map(str::to_string),
        )
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const GET_ECBN: &str = "GET /v1/telephony/config/people/{personId}/emergencyCallbackNumber";
pub const PUT_ECBN: &str = "PUT /v1/telephony/config/people/{personId}/emergencyCallbackNumber";
pub const GET_DEPS: &str = "GET /v1/telephony/config/people/{personId}/emergencyCallbackNumber/dependencies";
pub const GET_AVAIL: &str = "GET /v1/telephony/config/people/{personId}/emergencyCallbackNumber/availableNumbers";
pub const GET_PEOPLE: &str = "GET /v1/people";

/// A command for the binary in a scratch working directory, with a clean environment.
pub fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).env("WEBEX_TOKEN", "admin-token").env_remove("ECBN_SYNC_LOG");
    for (k, _) in std::env::vars() {
        if k.starts_with("ECBN_SYNC_") {
            c.env_remove(k);
        }
    }
    c
}

#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(c: &mut Command) -> Ran {
    let o: Output = c.output().expect("run binary");
    Ran {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `ecbn-sync --base-url <sim> --rate 0 --report-dir reports <args...>` in `dir`, not yet run.
pub fn job(sim: &Sim, dir: &Path, args: &[&str]) -> Command {
    let mut c = cmd(dir);
    c.args(["--base-url", &sim.base(), "--rate", "0", "--report-dir", "reports"]).args(args);
    c
}

/// [`job`], run.
pub fn against(sim: &Sim, dir: &Path, args: &[&str]) -> Ran {
    run(&mut job(sim, dir, args))
}

/// Report files of a mode, newest last.
pub fn reports(dir: &Path, prefix: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("reports"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        n.starts_with(prefix) && n.ends_with(ext)
    });
    // by age: `-2` suffixes do not sort after their base name
    v.sort_by_key(|p| (std::fs::metadata(p).and_then(|m| m.modified()).ok(), p.clone()));
    v
}

pub fn summary(dir: &Path, mode: &str) -> Value {
    let p = reports(dir, &format!("ecbn-{mode}-"), ".json").pop().expect("summary");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Rows of the newest row report of a mode, as header → value maps.
pub fn rows(dir: &Path, mode: &str) -> Vec<std::collections::HashMap<String, String>> {
    let p = reports(dir, &format!("ecbn-{mode}-"), ".csv").pop().expect("report");
    let mut r = csv::Reader::from_path(p).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect())
        .collect()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Sample org member IDs by email.
pub fn id_of(email: &str) -> String {
    let f: Value = serde_json::from_str(&std::fs::read_to_string(sample("org.json")).unwrap()).unwrap();
    f["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .and_then(|m| m["id"].as_str())
        .unwrap_or_else(|| panic!("no {email}"))
        .to_string()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `sim generate` into `dir`: (fixture, desired file).
pub fn generate(dir: &Path, people: usize, drift: f64, targets: f64, seed: u64) -> (PathBuf, PathBuf) {
    generate_with(dir, people, drift, targets, seed, &[])
}

/// [`generate`] with more options (`--workspaces F`, `--virtual-lines F`).
pub fn generate_with(
    dir: &Path,
    people: usize,
    drift: f64,
    targets: f64,
    seed: u64,
    more: &[&str],
) -> (PathBuf, PathBuf) {
    let fx = dir.join("org.json");
    let desired = dir.join("desired.csv");
    let mut c = cmd(dir);
    let numbers = [people.to_string(), drift.to_string(), targets.to_string(), seed.to_string()];
    c.args(["sim", "generate", "--people", &numbers[0], "--drift", &numbers[1], "--targets", &numbers[2]])
        .args(["--seed", &numbers[3], "--fixture-out"])
        .arg(&fx)
        .arg("--desired-out")
        .arg(&desired)
        .args(more);
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (fx, desired)
}

/// The summary's `requests`, `http_status` and `retries` against what the simulator
/// received and answered between two `/_sim/stats` snapshots: the same figures, route
/// by route and status by status.
pub fn assert_books_match(summary: &Value, before: &Value, after: &Value) {
    let count = |st: &Value, route: &str, status: &str| st["by_route"][route][status].as_u64().unwrap_or(0);
    let mut received = std::collections::BTreeMap::<String, u64>::new();
    let mut answered = std::collections::BTreeMap::<String, u64>::new();
    for (route, by_status) in after["by_route"].as_object().unwrap() {
        for status in by_status.as_object().unwrap().keys() {
            let n = count(after, route, status) - count(before, route, status);
            if n > 0 {
                *received.entry(route.clone()).or_default() += n;
                *answered.entry(status.clone()).or_default() += n;
            }
        }
    }
    let booked = |v: &Value| -> std::collections::BTreeMap<String, u64> {
        v.as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).filter(|(_, n)| *n > 0).collect()
    };
    assert_eq!(booked(&summary["requests"]), received, "requests per route: summary vs server\n{summary}");
    assert_eq!(booked(&summary["http_status"]), answered, "answers per status: summary vs server\n{summary}");
    let total: u64 = received.values().sum();
    assert!(summary["retries"].as_u64().unwrap() <= total, "{summary}");
}

pub type Ecbn = (String, String);

/// Members' ECBN in the simulator's state, by ID: the selection, and its member when it
/// is LOCATION_MEMBER_NUMBER (the API keeps an earlier one otherwise, as a memory only).
pub fn ecbn_by_id(state: &Value) -> std::collections::HashMap<String, Ecbn> {
    state["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| !m["ecbn"].is_null())
        .map(|m| {
            let (selected, target) = (m["ecbn"]["selected"].as_str().unwrap(), &m["ecbn"]["locationMemberId"]);
            let target = if selected == "LOCATION_MEMBER_NUMBER" { target.as_str().unwrap_or("") } else { "" };
            (m["id"].as_str().unwrap().to_string(), (selected.to_string(), target.to_string()))
        })
        .collect()
}

/// A CSV file's records, after checking that it has no torn line.
pub fn whole_records(path: &Path) -> Result<Vec<csv::StringRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(format!("{}: torn last line", path.display()));
    }
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records().collect::<Result<Vec<_>, _>>().map_err(|e| format!("{}: {e}", path.display()))
}

/// Distinctive secrets of the OAuth client of [`grant_fixture`], looked for in
/// everything the tool writes.
pub const CLIENT_SECRET: &str = "client-secret-7f3a91";
pub const REFRESH_TOKEN: &str = "refresh-token-0b9e44";

/// The sample org with one OAuth client, `C1`, whose access tokens get `admin-token`'s
/// grant.
pub fn grant_fixture(dir: &Path) -> PathBuf {
    let mut org: Value = serde_json::from_str(&std::fs::read_to_string(sample("org.json")).unwrap()).unwrap();
    org["clients"] = serde_json::json!([{"client_id": "C1", "client_secret": CLIENT_SECRET,
                                         "refresh_token": REFRESH_TOKEN, "token": "admin-token"}]);
    write(dir, "org.json", &org.to_string())
}

/// Wait until `ready()` holds — a readiness signal (the server's books, a file's
/// content), never a timing claim; the deadline only turns a hang into a failure.
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
