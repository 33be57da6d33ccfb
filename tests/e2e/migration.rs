//! Spreadsheet migrations: emails, phone numbers, xlsx, rollback.

use crate::support::*;

#[test]
fn mixed_identifiers_and_phone_formats_reach_the_right_state() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    // Gus (HQ) → lobby by +E.164, Femi → lobby as 10 digits, Ivan → security desk as
    // (408) 555-0195, Kofi → Lena by email, Nia (by email) → Ben by ID
    let f = write(
        d.path(),
        "m.csv",
        &format!(
            "\u{feff}Email;Selected;LocationMemberId\n\
             gus.berg@example.com;location_member_number;+1 408 555 0190\n\
             {femi};LOCATION_MEMBER_NUMBER;'4085550190\n\
             ivan.petrov@example.com;LOCATION_MEMBER_NUMBER;(408) 555-0195\n\
             {kofi};LOCATION_MEMBER_NUMBER;Lena.Vogel@Example.com\n\
             NIA.NCUBE@example.com ;LOCATION_MEMBER_NUMBER;{ben}\n",
            femi = id_of("femi.adeyemi@example.com"),
            kofi = id_of("kofi.mensah@example.com"),
            ben = id_of("ben.okafor@example.com"),
        ),
    );
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Apply: 5 updated"), "{}", r.stdout);
    let lobby = "Y2lzY29zcGFyazovL3VzL1BMQUNFLzVhM2MwMDAwLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwMDUwMQ";
    let desk = "Y2lzY29zcGFyazovL3VzL1ZJUlRVQUxfUFJPRklMRS81YTNjMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDA2MDE";
    for (who, target) in [
        ("gus.berg@example.com", lobby.to_string()),
        ("femi.adeyemi@example.com", lobby.to_string()),
        ("ivan.petrov@example.com", desk.to_string()),
        ("kofi.mensah@example.com", id_of("lena.vogel@example.com")),
        ("nia.ncube@example.com", id_of("ben.okafor@example.com")),
    ] {
        assert_eq!(sim.ecbn_of(&id_of(who)), ("LOCATION_MEMBER_NUMBER".to_string(), Some(target)), "{who}");
    }
    // resolution: 3 distinct emails → 3 lookups; one availableNumbers per phone row
    assert_eq!(sim.count(GET_PEOPLE), 4, "gus, ivan, lena, nia");
    assert_eq!(sim.count(GET_AVAIL), 3);
    assert_eq!(summary(d.path(), "apply")["requests"][GET_PEOPLE], 4);
}

#[test]
fn resolution_errors_are_found_before_any_write() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let f = write(
        d.path(),
        "m.csv",
        &format!(
            "person,selected,location_member\n\
             ben.okafor@example.com,LOCATION_ECBN,\n\
             nobody@example.com,DIRECT_LINE,\n\
             gus.berg@example.com,LOCATION_MEMBER_NUMBER,+1 512 555 0190\n\
             ivan.petrov@example.com,LOCATION_MEMBER_NUMBER,+1 408 555 0208\n\
             {ben},DIRECT_LINE,\n",
            ben = id_of("ben.okafor@example.com")
        ),
    );
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert_eq!(sim.count(PUT_ECBN), 0);
    assert_eq!(sim.count(GET_ECBN), 0, "resolution errors stop the run before the read phase");
    let e = &r.stderr;
    assert!(e.contains("m.csv:3: member: no person with the email `nobody@example.com`"), "{e}");
    assert!(e.contains("m.csv:4: location_member: +15125550190 is not a valid ECBN target"), "{e}");
    assert!(e.contains("m.csv:5: location_member: +14085550208 is not an active number"), "{e}");
    assert!(e.contains("m.csv:2: member: the same member appears again on line 6"), "{e}");
    assert!(e.contains("m.csv:6: member: the same member appears again on line 2"), "{e}");
}

#[test]
fn many_emails_use_one_paged_listing() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let state = sim.state();
    let mut body = String::from("person,selected\n");
    let mut n = 0;
    for m in state["members"].as_array().unwrap() {
        if let Some(e) = m["email"].as_str() {
            body.push_str(&format!("{},{}\n", e.to_uppercase(), m["ecbn"]["selected"].as_str().unwrap()));
            n += 1;
        }
    }
    assert!(n > 20);
    // NONE is refused by the reader: keep the others
    let body: String = body
        .lines()
        .filter(|l| !l.ends_with(",NONE") && !l.ends_with("LOCATION_MEMBER_NUMBER"))
        .map(|l| format!("{l}\n"))
        .collect();
    let rows = body.lines().count() - 1;
    assert!(rows > 20, "{rows}");
    let f = write(d.path(), "many.csv", &body);
    let r = against(&sim, d.path(), &["plan", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(&format!("0 to update, {rows} in sync")), "{}", r.stdout);
    assert_eq!(sim.count(GET_PEOPLE), 1, "30 people fit one page of 100");
}

#[test]
fn xlsx_and_csv_give_identical_plans() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let csv_text = std::fs::read_to_string(sample("desired.csv")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let other = wb.add_worksheet();
    other.set_name("Notes").unwrap();
    other.write_string(0, 0, "not the data").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("ECBN").unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_bytes());
    let mut r = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for (c, v) in rec.iter().enumerate() {
            ws.write_string(r, c as u16, v).unwrap();
        }
        r += 1;
        if r == 5 {
            r += 1; // a blank row: row numbers stay those the sheet shows
        }
    }
    let x = d.path().join("desired.xlsx");
    wb.save(&x).unwrap();
    let r1 = against(&sim, d.path(), &["plan", sample("desired.csv").to_str().unwrap()]);
    let csv_rows = rows(d.path(), "plan");
    let r2 = against(&sim, d.path(), &["--sheet", "ECBN", "plan", x.to_str().unwrap()]);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert_eq!(r1.stdout.lines().last(), r2.stdout.lines().last());
    let xlsx_rows = rows(d.path(), "plan");
    let key = |rows: &[std::collections::HashMap<String, String>]| {
        let mut v: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| (r["member_id"].clone(), r["action"].clone(), r["desired_location_member_id"].clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&csv_rows), key(&xlsx_rows));
    assert!(xlsx_rows.iter().any(|r| r["line"] == "7"), "sheet row numbers skip the blank row");
    // without --sheet the first sheet is read: it has no such columns
    let r3 = against(&sim, d.path(), &["plan", x.to_str().unwrap()]);
    assert_eq!(r3.code, 65);
    assert!(r3.stderr.contains("missing required column `member`"), "{}", r3.stderr);
    let r4 = against(&sim, d.path(), &["--sheet", "Nope", "plan", x.to_str().unwrap()]);
    assert_eq!(r4.code, 65);
    assert!(r4.stderr.contains("no sheet named `Nope`"), "{}", r4.stderr);
}

#[test]
fn xlsx_phone_numbers_typed_as_numbers_and_row_errors() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["person", "selected", "location_member"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "gus.berg@example.com").unwrap();
    ws.write_string(1, 1, "LOCATION_MEMBER_NUMBER").unwrap();
    ws.write_number(1, 2, 14085550190.0).unwrap();
    ws.write_string(2, 0, "ivan.petrov@example.com").unwrap();
    ws.write_string(2, 1, "SOMETIMES").unwrap();
    let x = d.path().join("m.xlsx");
    wb.save(&x).unwrap();
    let r = against(&sim, d.path(), &["check", x.to_str().unwrap()]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("m.xlsx:3: selected: unknown value `SOMETIMES`"), "{}", r.stderr);
    let r = against(&sim, d.path(), &["--skip-invalid", "apply", x.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(sim.ecbn_of(&id_of("gus.berg@example.com")).0, "LOCATION_MEMBER_NUMBER");
}

#[test]
fn apply_then_apply_rollback_restores_the_original_state() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    // the ECBN settings; a member remembered from an earlier LOCATION_MEMBER_NUMBER
    // choice stays remembered (as the real API shows it) and is not a setting
    let settings = |st: serde_json::Value| -> Vec<(String, String, Option<String>)> {
        st["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let sel = m["ecbn"]["selected"].as_str().unwrap_or("").to_string();
                let member = (sel == "LOCATION_MEMBER_NUMBER")
                    .then(|| m["ecbn"]["locationMemberId"].as_str().unwrap().to_string());
                (m["id"].as_str().unwrap().to_string(), sel, member)
            })
            .collect()
    };
    let original = settings(sim.state());
    let r = against(&sim, d.path(), &["apply", sample("desired.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0);
    assert!(settings(sim.state()) != original);
    let rb = reports(d.path(), "ecbn-rollback-", ".csv").pop().unwrap();
    let r = against(&sim, d.path(), &["apply", rb.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("Apply: 7 updated"), "{}", r.stdout);
    // today's targets named from the location-member block of the ECBN GET
    assert!(
        r.stdout.contains("~ Femi Adeyemi LOCATION_MEMBER_NUMBER(Lobby Phone, workspace) -> DIRECT_LINE"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("~ Break Room (workspace) LOCATION_MEMBER_NUMBER(Reception, hunt group) -> LOCATION_ECBN"),
        "{}",
        r.stdout
    );
    assert!(settings(sim.state()) == original, "the rollback restores every ECBN setting in /_sim/state");
}

#[test]
fn previous_none_is_unrestorable_and_listed() {
    let sim = Sim::sample(&[]);
    let d = tmp();
    let dina = id_of("dina.aziz@example.com");
    let f = write(d.path(), "n.csv", &format!("person,selected\n{dina},LOCATION_ECBN\n"));
    let r = against(&sim, d.path(), &["apply", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s = summary(d.path(), "apply");
    assert_eq!(s["rollback_unrestorable"], serde_json::json!([dina]));
    // a PUT was sent, so the rollback file exists; it holds no line that cannot be applied
    let rb = reports(d.path(), "ecbn-rollback-", ".csv");
    assert_eq!(rb.len(), 1);
    assert_eq!(std::fs::read_to_string(&rb[0]).unwrap(), "member,selected,location_member,kind\n");
    assert!(s["report_files"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().contains("ecbn-rollback-")));
}
