use super::*;
use crate::sim::SAMPLE_ORG;

fn org() -> Org {
    Org::new(serde_json::from_str(SAMPLE_ORG).unwrap()).unwrap()
}

fn idx(o: &Org, email: &str) -> usize {
    o.people(&PeopleQuery { email: Some(email.into()), ..Default::default() })
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
    o.put_ecbn(ben, &put("LOCATION_MEMBER_NUMBER", Some(&ana_id))).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 3);
    // re-sending the same value is accepted and counts once
    o.put_ecbn(ben, &put("LOCATION_MEMBER_NUMBER", Some(&ana_id))).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 3);
    o.put_ecbn(ben, &put("DIRECT_LINE", None)).unwrap();
    assert_eq!(o.dependencies(ana).dependent_member_count, 2);
    let g = o.ecbn_get(ben);
    assert_eq!(g.selected.as_deref(), Some("DIRECT_LINE"));
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
    assert_eq!(code(o.put_ecbn(ana, &put("NONE", None))), put_errors::INVALID_SELECTED);
    assert_eq!(code(o.put_ecbn(ana, &put("direct_line", None))), put_errors::INVALID_SELECTED);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", None))), put_errors::MISSING_MEMBER);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", Some(&eva_id)))), put_errors::NO_VALID_NUMBER);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", Some(&hana_id)))), put_errors::NO_VALID_NUMBER);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", Some(&sara_id)))), put_errors::OTHER_LOCATION);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", Some(&ana_id)))), put_errors::SELF_MEMBER);
    let ghost = new_id(IdKind::People, 999, 1);
    assert_eq!(code(o.put_ecbn(ana, &put("LOCATION_MEMBER_NUMBER", Some(&ghost)))), put_errors::UNKNOWN_MEMBER);
    // DIRECT_LINE without a number is accepted; the effective value falls back
    o.put_ecbn(eva, &put("DIRECT_LINE", None)).unwrap();
    let g = o.ecbn_get(eva);
    let d = g.direct_line_info.unwrap();
    assert_eq!(d.quality.as_deref(), Some("INVALID"));
    assert_eq!(d.effective_level.as_deref(), Some("LOCATION_ECBN"));
    assert_eq!(d.effective_value.as_deref(), Some("+14085550100"));
    // null selected leaves the value unchanged
    o.put_ecbn(eva, &EcbnPut { selected: Some(serde_json::Value::Null), ..Default::default() }).unwrap();
    assert_eq!(o.ecbn_get(eva).selected.as_deref(), Some("DIRECT_LINE"));
    assert_eq!(o.person(&o.state.locations[0].id.clone()).unwrap_err().code, 4008);
}

#[test]
fn location_default_and_available_numbers() {
    let o = org();
    let raj = idx(&o, "raj.kumar@example.com");
    assert!(o.dependencies(raj).is_location_ecbn_default);
    let gus = idx(&o, "gus.berg@example.com");
    let nums = o.available_numbers(gus, Some("14085550190"), None);
    assert_eq!(nums.len(), 1);
    assert_eq!(nums[0].owner.as_ref().unwrap().kind, "PLACE");
    let all = o.available_numbers(gus, None, None);
    assert!(all.iter().all(|n| n.owner.as_ref().unwrap().id != o.state.members[gus].id));
    assert!(all.iter().any(|n| n.state.as_deref() == Some("INACTIVE")));
}
