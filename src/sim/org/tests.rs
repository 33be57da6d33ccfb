use super::*;
use crate::ids::Kind;
use crate::sim::SAMPLE_ORG;

fn org() -> Org {
    Org::new(serde_json::from_str(SAMPLE_ORG).unwrap()).unwrap()
}

fn idx(o: &Org, email: &str) -> usize {
    o.people(&PeopleQuery { email: Some(email.into()), ..Default::default() }, Window::ALL)
        .items
        .first()
        .and_then(|p| o.member(&p.id))
        .unwrap()
}

fn put(sel: &str, member: Option<&str>) -> EcbnPut {
    EcbnPut {
        selected: Some(serde_json::Value::String(sel.into())),
        location_member_id: member.map(str::to_string),
        ..Default::default()
    }
}

#[test]
fn dependents_follow_puts() {
    let mut o = org();
    let ana = idx(&o, "ana.silva@example.com");
    let ben = idx(&o, "ben.okafor@example.com");
    assert_eq!(o.dependencies(ana).dependent_member_count, 2);
    let ana_id = o.state.members[ana].id.clone();
    o.put_ecbn(Holder::Member(ben), &put("LOCATION_MEMBER_NUMBER", Some(&ana_id))).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 3);
    // re-sending the same value is accepted and counts once
    o.put_ecbn(Holder::Member(ben), &put("LOCATION_MEMBER_NUMBER", Some(&ana_id))).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 3);
    o.put_ecbn(Holder::Member(ben), &put("DIRECT_LINE", None)).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 2);
    let g = o.ecbn_get(Holder::Member(ben));
    assert_eq!(g.selected, "DIRECT_LINE");
    // the member configured earlier is still shown
    assert_eq!(g.location_member_info.unwrap().member_id.as_deref(), Some(ana_id.as_str()));
}

#[test]
fn put_validation_rules() {
    let mut o = org();
    let ana = idx(&o, "ana.silva@example.com");
    let eva = idx(&o, "eva.novak@example.com"); // no number
    let sara = idx(&o, "sara.lopez@example.com"); // Austin
    let hana = idx(&o, "hana.sato@example.com"); // inactive number
    let id = |i: usize| o.state.members[i].id.clone();
    let (eva_id, sara_id, hana_id, ana_id) = (id(eva), id(sara), id(hana), id(ana));
    let code = |r: Result<(), SimError>| r.unwrap_err().code;
    assert_eq!(code(o.put_ecbn(Holder::Member(ana), &put("NONE", None))), put_errors::INVALID_SELECTED);
    assert_eq!(code(o.put_ecbn(Holder::Member(ana), &put("direct_line", None))), put_errors::INVALID_SELECTED);
    assert_eq!(code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", None))), put_errors::MISSING_MEMBER);
    assert_eq!(
        code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", Some(&eva_id)))),
        put_errors::NO_VALID_NUMBER
    );
    assert_eq!(
        code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", Some(&hana_id)))),
        put_errors::NO_VALID_NUMBER
    );
    assert_eq!(
        code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", Some(&sara_id)))),
        put_errors::OTHER_LOCATION
    );
    assert_eq!(
        code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", Some(&ana_id)))),
        put_errors::SELF_MEMBER
    );
    let ghost = new_id(IdKind::People, 999, 1);
    assert_eq!(
        code(o.put_ecbn(Holder::Member(ana), &put("LOCATION_MEMBER_NUMBER", Some(&ghost)))),
        put_errors::UNKNOWN_MEMBER
    );
    // DIRECT_LINE without a number is accepted; the effective value falls back
    o.put_ecbn(Holder::Member(eva), &put("DIRECT_LINE", None)).unwrap();
    let g = o.ecbn_get(Holder::Member(eva));
    let d = g.direct_line_info.unwrap();
    assert_eq!(d.quality.as_deref(), Some("INVALID"));
    // HQ's ECBN is its main number
    assert_eq!(d.effective_level.as_deref(), Some("LOCATION_NUMBER"));
    assert_eq!(d.effective_value.as_deref(), Some("+14085550100"));
    // null selected leaves the value unchanged
    o.put_ecbn(Holder::Member(eva), &EcbnPut { selected: Some(serde_json::Value::Null), ..Default::default() })
        .unwrap();
    assert_eq!(o.ecbn_get(Holder::Member(eva)).selected, "DIRECT_LINE");
    assert_eq!(o.member_of(&o.state.locations[0].id.clone(), Kind::Person).unwrap_err().code, 4008);
    // a person is not found at the workspace endpoints
    let ana_id = o.state.members[ana].id.clone();
    assert_eq!(o.member_of(&ana_id, Kind::Workspace).unwrap_err().status, 404);
}

#[test]
fn location_default_and_available_numbers() {
    let o = org();
    let raj = idx(&o, "raj.kumar@example.com");
    assert!(o.dependencies(raj).is_location_ecbn_default);
    let gus = idx(&o, "gus.berg@example.com");
    let nums = o.available_numbers(Holder::Member(gus), Some("14085550190"), None);
    assert_eq!(nums.len(), 1);
    assert_eq!(nums[0].owner.as_ref().unwrap().kind, "PLACE");
    let all = o.available_numbers(Holder::Member(gus), None, None);
    assert!(all.iter().all(|n| n.owner.as_ref().is_none_or(|o2| o2.id != o.state.members[gus].id)));
    assert!(all.iter().any(|n| n.state.as_deref() == Some("INACTIVE")));
    // the location's main number is listed, with no owner [doc: isMainNumber]
    let main: Vec<_> = all.iter().filter(|n| n.is_main_number).collect();
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].phone_number.as_deref(), Some("+14085550100"));
    assert!(main[0].owner.is_none());
    // owners: first/last name for people and virtual lines, a display name for
    // workspaces and hunt groups [doc]
    for n in all.iter().filter_map(|n| n.owner.as_ref()) {
        let named = n.kind == "PEOPLE" || n.kind == "VIRTUAL_LINE";
        assert_eq!(n.first_name.is_some(), named, "{n:?}");
        assert_eq!(n.display_name.is_some(), !named, "{n:?}");
    }
}

#[test]
fn blocks_follow_the_published_spec() {
    let o = org();
    let levels = ["DIRECT_LINE", "LOCATION_ECBN", "LOCATION_NUMBER", "NONE"];
    for i in 0..o.state.members.len() {
        if o.state.members[i].ecbn.is_none() {
            continue; // hunt groups have no ECBN of their own
        }
        let g = o.ecbn_get(Holder::Member(i));
        let blocks = [&g.direct_line_info, &g.location_ecbn_info, &g.location_member_info];
        for b in blocks.into_iter().flatten() {
            let level = b.effective_level.as_deref().unwrap();
            assert!(levels.contains(&level), "{level} is not a level of the spec");
        }
        // the location block names the location, with "." as its last name
        let loc = g.location_ecbn_info.unwrap();
        assert!(loc.first_name.is_some() && loc.last_name.as_deref() == Some("."), "{loc:?}");
    }
    // a virtual line's active number is NOT_RECOMMENDED; a workspace's is RECOMMENDED
    let dev = idx(&o, "dev.patel@example.com");
    let desk = o.ecbn_get(Holder::Member(dev)).location_member_info.unwrap();
    assert_eq!(desk.member_type.as_deref(), Some("VIRTUAL_LINE"));
    assert_eq!(desk.quality.as_deref(), Some("NOT_RECOMMENDED"));
    assert_eq!(desk.effective_level.as_deref(), Some("DIRECT_LINE"));
    let lobby = o.state.members.iter().position(|m| m.display_name.as_deref() == Some("HQ Lobby")).unwrap();
    assert_eq!(o.ecbn_get(Holder::Member(lobby)).direct_line_info.unwrap().quality.as_deref(), Some("RECOMMENDED"));
}

#[test]
fn a_page_makes_views_of_its_own_items_only_and_knows_whether_more_follow() {
    let mut made = 0;
    let p = Page::of(0..10, Window { start: 4, max: 3 }, |i| {
        made += 1;
        i * 10
    });
    assert_eq!((p.items, p.more), (vec![40, 50, 60], true));
    assert_eq!(made, 4, "the page and the one item that says more follow");
    let last = Page::of(0..10, Window { start: 7, max: 3 }, |i| i);
    assert_eq!((last.items, last.more), (vec![7, 8, 9], false), "exactly the rest: no next page");
    let past = Page::of(0..10, Window { start: 12, max: 3 }, |i| i);
    assert!(past.items.is_empty() && !past.more);
    let o = org();
    let all = o.people(&PeopleQuery::default(), Window::ALL).items;
    let second = o.people(&PeopleQuery::default(), Window { start: 2, max: 2 });
    assert_eq!(
        second.items.iter().map(|p| &p.id).collect::<Vec<_>>(),
        all[2..4].iter().map(|p| &p.id).collect::<Vec<_>>()
    );
    assert!(second.more);
}

#[test]
fn listings_of_workspaces_and_virtual_lines() {
    let o = org();
    let ws = o.workspaces(&ListQuery { calling: Some("webexCalling".into()), ..Default::default() }, Window::ALL).items;
    assert_eq!(ws.len(), 3);
    assert!(ws.iter().all(|w| w.location_id.is_some() && w.calling.as_ref().unwrap().webex_calling.is_none()));
    let austin = o.state.locations[1].id.clone();
    let in_austin =
        o.workspaces(&ListQuery { location_ids: vec![austin.clone()], ..Default::default() }, Window::ALL).items;
    assert_eq!(in_austin.iter().map(|w| w.display_name.clone().unwrap()).collect::<Vec<_>>(), ["Austin Lab"]);
    let vls = o.virtual_lines(&ListQuery::default(), Window::ALL).items;
    assert_eq!(vls.len(), 1);
    assert_eq!(vls[0].location.as_ref().unwrap().name.as_deref(), Some("HQ"));
    assert!(
        o.virtual_lines(&ListQuery { location_ids: vec![austin], ..Default::default() }, Window::ALL).items.is_empty()
    );
    // a hunt group has dependents but no ECBN of its own
    let reception = o.state.members.iter().find(|m| m.kind == "HUNT_GROUP").unwrap().id.clone();
    let h = o.hunt_group(&reception).unwrap();
    assert_eq!(o.dependencies(h).dependent_member_count, 0);
    assert!(o.member_of(&reception, Kind::Workspace).is_err());
}

#[test]
fn a_locations_own_ecbn_reads_and_writes_by_its_rules() {
    let mut o = org();
    let hq = o.holder(&o.state.locations[0].id.clone(), Kind::Location).unwrap();
    assert!(o.holder(&o.state.locations[0].id.clone(), Kind::Person).is_err(), "not a member");
    let g = o.ecbn_get(hq);
    assert_eq!(g.selected, "LOCATION_NUMBER");
    let info = g.location_info.clone().unwrap();
    assert_eq!((info.name.as_deref(), info.effective_level.as_deref()), (Some("HQ"), Some("LOCATION_NUMBER")));
    assert_eq!(g.effective_block(), g.location_info.as_ref());
    // a member's values are refused; a member of another location, or one with no number
    let code = |r: Result<(), SimError>| r.unwrap_err().code;
    assert_eq!(code(o.put_ecbn(hq, &put("DIRECT_LINE", None))), put_errors::INVALID_SELECTED);
    assert_eq!(code(o.put_ecbn(hq, &put("LOCATION_ECBN", None))), put_errors::INVALID_SELECTED);
    let (ana, sara, eva) =
        (idx(&o, "ana.silva@example.com"), idx(&o, "sara.lopez@example.com"), idx(&o, "eva.novak@example.com"));
    let id = |o: &Org, i: usize| o.state.members[i].id.clone();
    assert_eq!(code(o.put_ecbn(hq, &put("LOCATION_MEMBER_NUMBER", Some(&id(&o, sara))))), put_errors::OTHER_LOCATION);
    assert_eq!(code(o.put_ecbn(hq, &put("LOCATION_MEMBER_NUMBER", Some(&id(&o, eva))))), put_errors::NO_VALID_NUMBER);
    // pointing at Ana: her dependencies say so, and members on LOCATION_ECBN reach her number
    o.put_ecbn(hq, &put("LOCATION_MEMBER_NUMBER", Some(&id(&o, ana)))).unwrap();
    let g = o.ecbn_get(hq);
    assert_eq!(g.selected, "LOCATION_MEMBER_NUMBER");
    let member = g.location_member_info.unwrap();
    assert_eq!(member.member_id, Some(id(&o, ana)));
    assert!(o.dependencies(ana).is_location_ecbn_default);
    let ana_number = o.state.members[ana].phone_number.clone();
    let on_location = (0..o.state.members.len())
        .find(|&i| {
            o.state.members[i].location_id == o.state.members[ana].location_id
                && o.state.members[i].ecbn.as_ref().is_some_and(|e| e.selected == "LOCATION_ECBN")
        })
        .unwrap();
    let loc_block = o.ecbn_get(Holder::Member(on_location)).location_ecbn_info.unwrap();
    assert_eq!(loc_block.effective_value, ana_number);
    // the member it pointed at stays as a memory, as a member's does
    o.put_ecbn(hq, &put("LOCATION_NUMBER", None)).unwrap();
    assert!(!o.dependencies(ana).is_location_ecbn_default);
    assert_eq!(o.ecbn_get(hq).location_member_info.and_then(|m| m.member_id), Some(id(&o, ana)));
    // available numbers of a location: its members' and its main number
    let nums = o.available_numbers(hq, None, None);
    assert!(nums.iter().any(|n| n.is_main_number) && nums.iter().any(|n| n.phone_number == ana_number));
    assert_eq!(o.locations(Window::ALL).items.len(), o.state.locations.len());
}
