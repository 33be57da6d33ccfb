use super::*;
use crate::desired::rows_of;
use crate::ids::{IdKind, Kind};
use crate::row::{Stage, Trail, Warning, Written};
use crate::wire::EcbnInfo;
use base64::Engine as _;

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}
fn pid(n: u32) -> String {
    WebexId::encode(IdKind::People, &uuid(n))
}
fn rows(body: &str) -> Vec<Row<Parsed>> {
    rows_of(&format!("person,selected,location_member\n{body}"))
}
/// The cross-row checks over rows given in a `Vec`.
fn checked<S: Keyed + Stage>(rows: Vec<Row<S>>) -> Vec<Row<S>> {
    let mut rows: Rows<Row<S>> = rows.into_iter().collect();
    cross_check(&mut rows);
    rows.into_iter().collect()
}
fn message(r: &Row<Parsed>) -> String {
    r.stage.as_ref().err().map(ToString::to_string).unwrap_or_default()
}
fn get(sel: &str, member: Option<&str>) -> EcbnGet {
    EcbnGet {
        selected: sel.into(),
        location_member_info: member.map(|m| EcbnInfo { member_id: Some(m.into()), ..Default::default() }),
        ..Default::default()
    }
}
fn resolved(member: u32, setting: Setting<WebexId>) -> Resolved {
    Resolved { member: WebexId::parse(&pid(member)).unwrap(), kind: Kind::Person, setting, found: None }
}
fn id(n: u32) -> WebexId {
    WebexId::parse(&pid(n)).unwrap()
}

#[test]
fn duplicates_in_two_spellings_are_both_invalid() {
    let padded =
        base64::engine::general_purpose::STANDARD.encode(format!("ciscospark://us/PEOPLE/{}", uuid(1).to_uppercase()));
    let r = rows(&format!("{},DIRECT_LINE,\n{padded},LOCATION_ECBN,\n{},DIRECT_LINE,\n", pid(1), pid(2)));
    let r = checked(r);
    assert_eq!(message(&r[0]), "member: the same member appears again on line 3");
    assert_eq!(message(&r[1]), "member: the same member appears again on line 2");
    assert!(r[2].stage.is_ok());
}

#[test]
fn a_rejected_row_keeps_its_cells_though_they_were_spelled_by_its_wish() {
    let r = rows(&format!("{p},DIRECT_LINE,\n{p},LOCATION_MEMBER_NUMBER,{p}\n", p = pid(1)));
    assert!(r.iter().all(|r| r.written == Written::Wished), "canonical cells keep no text");
    for r in checked(r) {
        assert!(r.stage.is_err());
        let wish = r.stage.wish();
        assert_eq!(r.written.cells(&wish)[0], pid(1), "line {}", r.line);
    }
    assert_eq!(
        checked(rows(&format!("{},LOCATION_MEMBER_NUMBER,{}\n", pid(1), pid(1))))[0].written.cells(&Default::default()),
        [pid(1).as_str(), "LOCATION_MEMBER_NUMBER", pid(1).as_str()]
    );
}

#[test]
fn duplicates_list_every_other_line_in_check_and_plan_alike() {
    let r = rows(&format!(
        "{p},DIRECT_LINE,\n{q},DIRECT_LINE,\n{p},DIRECT_LINE,\n{p},LOCATION_ECBN,\n",
        p = pid(1),
        q = pid(2)
    ));
    let r = checked(r);
    assert_eq!(message(&r[0]), "member: the same member appears again on line 4, 5");
    assert_eq!(message(&r[2]), "member: the same member appears again on line 2, 5");
    // streamed, as `check` sees them: a repeat is known at once, the full list at the end
    let mut d = Duplicates::default();
    assert!(d.note(Key::Uuid(id(1).uuid()), 2).is_none());
    assert!(d.note(Key::Uuid(id(2).uuid()), 3).is_none());
    assert_eq!(d.note(Key::Uuid(id(1).uuid()), 4), Some(&[2, 4][..]));
    assert_eq!(d.note(Key::Uuid(id(1).uuid()), 5), Some(&[2, 4, 5][..]));
    let groups: Vec<&[u32]> = d.groups().collect();
    assert_eq!(groups, vec![&[2, 4, 5][..]]);
    assert_eq!(duplicate(4, groups[0]).to_string(), "member: the same member appears again on line 2, 5");
}

#[test]
fn duplicate_emails_before_resolution() {
    let r =
        rows(&format!("a@x.com,DIRECT_LINE,\nA@X.com,DIRECT_LINE,\nb@x.com,DIRECT_LINE,\n{},DIRECT_LINE,\n", pid(9)));
    let r = checked(r);
    assert!(r[0].stage.is_err() && r[1].stage.is_err());
    assert!(r[2].stage.is_ok() && r[3].stage.is_ok());
}

#[test]
fn an_email_and_an_id_of_one_person_collide_after_resolution() {
    let row = |line, stage| Row { line, written: Default::default(), trail: Trail::default(), stage };
    let r: Vec<Row<Result<Resolved, Unresolved>>> = vec![
        row(2, Ok(resolved(9, Setting::DirectLine))),
        row(3, Ok(resolved(9, Setting::LocationEcbn))),
        row(4, Ok(resolved(1, Setting::LocationMember(id(1))))),
        row(5, Ok(resolved(2, Setting::LocationMember(id(3))))),
    ];
    let r = checked(r);
    let msg = |i: usize| match &r[i].stage {
        Err(Unresolved::Invalid(e)) => e.to_string(),
        other => format!("{other:?}"),
    };
    assert!(msg(0).contains("appears again on line 3"), "{}", msg(0));
    assert!(msg(1).contains("appears again on line 2"));
    assert_eq!(msg(2), "location_member: the row points at its own member");
    assert!(r[3].stage.is_ok());
}

#[test]
fn self_pointing_by_id_and_by_email() {
    let r = rows(&format!(
        "{p},LOCATION_MEMBER_NUMBER,{p}\nme@x.com,LOCATION_MEMBER_NUMBER,ME@x.com\n{p2},LOCATION_MEMBER_NUMBER,me@x.com\n",
        p = pid(1),
        p2 = pid(2)
    ));
    let r = checked(r);
    assert_eq!(message(&r[0]), "location_member: the row points at its own member");
    assert_eq!(message(&r[1]), "location_member: the row points at its own member");
    assert!(r[2].stage.is_ok(), "different until resolved");
}

#[test]
fn diff_compares_member_by_uuid_and_only_for_lmn() {
    let lmn = resolved(1, Setting::LocationMember(id(2)));
    let other_spelling = base64::engine::general_purpose::STANDARD
        .encode(format!("ciscospark://urn:TEAM:us-east-2_a/PEOPLE/{}", uuid(2)));
    let d = |w: &Resolved, g: EcbnGet| diff(w, &reading(&g));
    assert!(matches!(d(&lmn, get("LOCATION_MEMBER_NUMBER", Some(&other_spelling))), Diff::InSync));
    assert!(matches!(d(&lmn, get("LOCATION_MEMBER_NUMBER", Some(&pid(4)))), Diff::Differs(_)));
    assert!(matches!(d(&lmn, get("LOCATION_MEMBER_NUMBER", None)), Diff::Differs(_)));
    assert!(matches!(d(&lmn, get("DIRECT_LINE", Some(&pid(2)))), Diff::Differs(_)));
    let dl = resolved(3, Setting::DirectLine);
    // a member configured earlier does not count when selected is not LMN
    assert!(matches!(d(&dl, get("DIRECT_LINE", Some(&pid(2)))), Diff::InSync));
    assert!(matches!(d(&dl, get("none", None)), Diff::Differs(_)));
    match d(&dl, get("FUTURE_OPTION", None)) {
        Diff::Unknown(f) => assert!(f.to_string().contains("unknown current value `FUTURE_OPTION`")),
        other => panic!("{other:?}"),
    }
    let mut missing = get("x", None);
    missing.selected = String::new();
    assert!(matches!(d(&dl, missing), Diff::Unknown(_)));
}

#[test]
fn reading_warns_about_todays_number() {
    let block = |value: Option<&str>, quality: &str| EcbnInfo {
        effective_value: value.map(str::to_string),
        quality: Some(quality.into()),
        effective_level: Some("LOCATION_ECBN".into()),
        ..Default::default()
    };
    let mut g = get("DIRECT_LINE", None);
    g.direct_line_info = Some(block(Some("+14085550100"), "INVALID"));
    let r = reading(&g);
    assert_eq!(&*r.effective_number, "+14085550100");
    assert_eq!(
        r.warning.unwrap().to_string(),
        "warning: the selected number is not valid; callbacks fall back to +14085550100 (LOCATION_ECBN)"
    );
    g.direct_line_info = Some(block(None, "INVALID"));
    assert_eq!(reading(&g).warning, Some(Warning::NoNumber));
    g.direct_line_info = Some(block(Some("+1"), "RECOMMENDED"));
    assert_eq!(reading(&g).warning, None);
    // a value whose level is NONE reaches no number: today as in a forecast (one rule)
    let mut none = block(Some("+14085550100"), "INVALID");
    none.effective_level = Some("NONE".into());
    g.direct_line_info = Some(none.clone());
    let r = reading(&g);
    assert_eq!((r.warning, &*r.effective_number), (Some(Warning::NoNumber), ""));
    let forecast = crate::row::Prediction::of_block(Some(&none));
    assert!(
        forecast.none && forecast.warning(Selected::DirectLine).unwrap().to_string().contains("no callback number")
    );
}

#[test]
fn skip_rules() {
    let r = vec![
        Row { line: 2, written: Default::default(), trail: Trail::default(), stage: resolved(1, Setting::DirectLine) },
        Row {
            line: 3,
            written: Default::default(),
            trail: Trail::default(),
            stage: resolved(2, Setting::LocationMember(id(1))),
        },
    ];
    let targets = in_file_targets(&r);
    assert_eq!(skip_in_file(&r[0].stage, &targets), Some(Skip::InFile { line: 3, of: Kind::Person }));
    assert_eq!(skip_in_file(&r[1].stage, &targets), None);
    let deps =
        |n, loc| Dependencies { dependent_member_count: n, is_location_ecbn_default: loc, is_self_ecbn_default: true };
    let ws = Kind::Workspace;
    assert_eq!(skip_by_dependencies(&deps(2, false), ws), Some(Skip::Dependents { count: 2, of: ws }));
    assert_eq!(skip_by_dependencies(&deps(0, true), ws), Some(Skip::LocationDefault { of: ws }));
    assert_eq!(skip_by_dependencies(&deps(0, false), ws), None);
    assert_eq!(
        Skip::Dependents { count: 2, of: Kind::Person }.to_string(),
        "2 members use this person as ECBN (dependents rule)"
    );
    assert_eq!(
        Skip::Dependents { count: 1, of: ws }.to_string(),
        "1 member uses this workspace as ECBN (dependents rule)"
    );
    assert_eq!(
        Skip::LocationDefault { of: Kind::VirtualLine }.to_string(),
        "this virtual line's number is its location's ECBN (location-default rule)"
    );
    assert!(Skip::InFile { line: 3, of: ws }.to_string().contains("sets this workspace as its"));
}

#[test]
fn rerun_needed_when_a_dependent_moves_away() {
    let other = WebexId::parse(
        &base64::engine::general_purpose::STANDARD.encode(format!("ciscospark://us/PEOPLE/{}", uuid(1))),
    )
    .unwrap();
    let by = |u: Uuid, p| (u, p);
    let skipped = [by(id(1).uuid(), PointedBy::Members)];
    assert!(rerun_needed(&skipped, &[by(other.uuid(), PointedBy::Members)]));
    assert!(!rerun_needed(&skipped, &[by(id(2).uuid(), PointedBy::Members)]));
    // a location moving away frees only a member skipped as its location's ECBN
    assert!(!rerun_needed(&skipped, &[by(id(1).uuid(), PointedBy::Location)]));
    let default = [by(id(1).uuid(), PointedBy::Location)];
    assert!(rerun_needed(&default, &[by(id(1).uuid(), PointedBy::Location)]));
}

fn block(value: Option<&str>, level: &str, quality: &str) -> Option<EcbnInfo> {
    Some(EcbnInfo {
        effective_value: value.map(String::from),
        effective_level: Some(level.into()),
        quality: Some(quality.into()),
        ..Default::default()
    })
}

/// A GET that says: today DIRECT_LINE (+1…201), the location ECBN gives +1…100, and the
/// member configured earlier (person 7, spelled here with padding) gives +1…207.
fn full_get() -> EcbnGet {
    let padded = base64::engine::general_purpose::STANDARD.encode(format!("ciscospark://us/PEOPLE/{}", uuid(7)));
    EcbnGet {
        selected: "DIRECT_LINE".into(),
        direct_line_info: block(Some("+14085550201"), "DIRECT_LINE", "RECOMMENDED"),
        location_ecbn_info: block(Some("+14085550100"), "LOCATION_NUMBER", "RECOMMENDED"),
        location_member_info: Some(EcbnInfo {
            member_id: Some(padded),
            ..block(Some("+14085550207"), "DIRECT_LINE", "NOT_RECOMMENDED").unwrap()
        }),
        ..Default::default()
    }
}

fn predicted(want: &Resolved, get: &EcbnGet) -> (String, String, bool) {
    let read = reading(get);
    let p = predict(want, get, &diff(want, &read), &LocationForecast::default());
    (p.number.into(), p.quality.into(), p.none)
}

#[test]
fn predictions_come_from_the_blocks_and_the_resolution() {
    let g = full_get();
    let s = |n: &str, q: &str, none| (n.to_string(), q.to_string(), none);
    // each option: its own block
    assert_eq!(predicted(&resolved(1, Setting::LocationEcbn), &g), s("+14085550100", "RECOMMENDED", false));
    // the configured member, matched by UUID whatever the spelling
    assert_eq!(
        predicted(&resolved(1, Setting::LocationMember(id(7))), &g),
        s("+14085550207", "NOT_RECOMMENDED", false)
    );
    // another member by ID: nothing this run read says what it would give
    assert_eq!(predicted(&resolved(1, Setting::LocationMember(id(8))), &g), s("", "unknown", false));
    // a phone-number target: the number and quality resolution found
    let by_phone = Resolved {
        found: Some(Box::new(crate::row::Found {
            label: "Reception, hunt group".into(),
            number: Some(crate::row::FoundNumber { number: "+14085550199".into(), quality: "NOT_RECOMMENDED" }),
        })),
        ..resolved(1, Setting::LocationMember(id(8)))
    };
    assert_eq!(predicted(&by_phone, &g), s("+14085550199", "NOT_RECOMMENDED", false));
    // in sync: today's number, exactly as read
    assert_eq!(predicted(&resolved(1, Setting::DirectLine), &g), s("+14085550201", "RECOMMENDED", false));
    // a block missing: unknown; a block whose level is NONE: no number
    let bare = EcbnGet { location_ecbn_info: None, ..full_get() };
    assert_eq!(predicted(&resolved(1, Setting::LocationEcbn), &bare), s("", "unknown", false));
    let nothing = EcbnGet { location_ecbn_info: block(None, "NONE", "INVALID"), ..full_get() };
    assert_eq!(predicted(&resolved(1, Setting::LocationEcbn), &nothing), s("", "INVALID", true));
}

#[test]
fn a_member_on_location_ecbn_follows_its_locations_row() {
    // the file moves location 50 to a member's number; person 1 is in it
    let loc = WebexId::parse(&WebexId::encode(IdKind::Location, &uuid(50))).unwrap();
    let change = Row {
        line: 2,
        written: Default::default(),
        trail: Trail {
            read: Some(Box::new(crate::row::Reading {
                predicted: crate::row::Prediction::of_block(
                    block(Some("+14085550207"), "LOCATION_ECBN", "RECOMMENDED").as_ref(),
                ),
                ..Default::default()
            })),
            ..Trail::default()
        },
        stage: crate::row::Differs {
            want: Resolved { kind: Kind::Location, ..resolved(50, Setting::LocationMember(id(7))) },
            current: crate::row::Current { selected: Selected::LocationNumber, member: None },
        },
    };
    let mut forecast = LocationForecast::of([&change]);
    assert_eq!(forecast.changed, [resolved(50, Setting::LocationNumber).member]);
    forecast.location_of.insert(id(1).uuid(), loc.uuid());
    let g = full_get();
    let want = resolved(1, Setting::LocationEcbn);
    let p = predict(&want, &g, &diff(&want, &reading(&g)), &forecast);
    assert_eq!((&*p.number, &*p.quality), ("+14085550207", "RECOMMENDED"), "the location's new number, not today's");
    // in sync on LOCATION_ECBN too; a member elsewhere, or not on LOCATION_ECBN, keeps its own
    let in_sync = EcbnGet { selected: "LOCATION_ECBN".into(), ..full_get() };
    let p = predict(&want, &in_sync, &diff(&want, &reading(&in_sync)), &forecast);
    assert_eq!(&*p.number, "+14085550207");
    let elsewhere = resolved(3, Setting::LocationEcbn);
    assert_eq!(&*predict(&elsewhere, &g, &diff(&elsewhere, &reading(&g)), &forecast).number, "+14085550100");
    let direct = resolved(1, Setting::DirectLine);
    assert_eq!(&*predict(&direct, &g, &diff(&direct, &reading(&g)), &forecast).number, "+14085550201");
}
