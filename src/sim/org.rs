//! The simulated org: state, indexes, derived values and the API's rules.
//!
//! Rules marked [guess] in webex-api.md are each one function or constant here
//! (`number_quality`, `effective`, `PUT_ERRORS`, `is_self_ecbn_default`, `required_scope`).

use super::fixture::{Fixture, Member, MemberEcbn};
use crate::ids::{IdKind, Uuid, WebexId};
use crate::phone;
use crate::wire::{
    AvailableNumber, Dependencies, EcbnGet, EcbnInfo, EcbnPut, NumberOwner, Person, PersonPhone, Selected,
};
use std::collections::HashMap;

/// An API error the simulator answers with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SimError {
    pub status: u16,
    pub code: i64,
    pub message: String,
}

impl SimError {
    pub(crate) fn new(status: u16, code: i64, message: impl Into<String>) -> SimError {
        SimError { status, code, message: message.into() }
    }
    fn user_not_found() -> SimError {
        SimError::new(404, 4008, "User not found")
    }
}

/// PUT error codes; [guess] except 25100 and 27402.
pub(crate) mod put_errors {
    pub(crate) const INVALID_SELECTED: i64 = 25100;
    pub(crate) const MISSING_MEMBER: i64 = 25008;
    pub(crate) const NO_VALID_NUMBER: i64 = 27402;
    pub(crate) const OTHER_LOCATION: i64 = 27403;
    pub(crate) const UNKNOWN_MEMBER: i64 = 27404;
    pub(crate) const SELF_MEMBER: i64 = 27405;
}

/// The scope an endpoint needs [doc; the 401/403 mapping is a guess].
pub(crate) fn required_scope(method: &str, template: &str) -> &'static str {
    if template.contains("/people") && !template.contains("/telephony/") {
        "spark-admin:people_read"
    } else if method == "GET" {
        "spark-admin:telephony_config_read"
    } else {
        "spark-admin:telephony_config_write"
    }
}

/// Quality of a member's number [doc]: inactive or missing → INVALID; hunt groups →
/// NOT_RECOMMENDED; people, workspaces, virtual lines → RECOMMENDED.
pub(crate) fn number_quality(m: &Member) -> &'static str {
    match m.active_number() {
        None => "INVALID",
        Some(_) if m.kind == "HUNT_GROUP" => "NOT_RECOMMENDED",
        Some(_) => "RECOMMENDED",
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub state: Fixture,
    by_uuid: HashMap<Uuid, usize>,
    loc_by_uuid: HashMap<Uuid, usize>,
    by_email: HashMap<String, Vec<usize>>,
    /// target UUID → members whose ECBN is LOCATION_MEMBER_NUMBER pointing at it.
    dependents: HashMap<Uuid, u64>,
    token_scopes: HashMap<String, Vec<String>>,
}

fn uuid_of(id: &str) -> Option<Uuid> {
    WebexId::parse(id).map(|i| i.uuid().clone())
}

impl Org {
    pub(crate) fn new(state: Fixture) -> Result<Org, String> {
        let mut org = Org {
            state,
            by_uuid: HashMap::new(),
            loc_by_uuid: HashMap::new(),
            by_email: HashMap::new(),
            dependents: HashMap::new(),
            token_scopes: HashMap::new(),
        };
        for (i, l) in org.state.locations.iter().enumerate() {
            let u = uuid_of(&l.id).ok_or_else(|| format!("location `{}`: not a Webex ID", l.id))?;
            org.loc_by_uuid.insert(u, i);
        }
        for (i, m) in org.state.members.iter().enumerate() {
            let u = uuid_of(&m.id).ok_or_else(|| format!("member `{}`: not a Webex ID", m.id))?;
            if org.by_uuid.insert(u, i).is_some() {
                return Err(format!("member `{}` appears twice", m.id));
            }
            if let Some(e) = &m.email {
                org.by_email.entry(e.to_lowercase()).or_default().push(i);
            }
            if !["PEOPLE", "PLACE", "VIRTUAL_LINE", "HUNT_GROUP"].contains(&m.kind.as_str()) {
                return Err(format!("member `{}`: unknown type `{}`", m.id, m.kind));
            }
            if let Some(l) = &m.location_id
                && uuid_of(l).is_none_or(|u| !org.loc_by_uuid.contains_key(&u))
            {
                return Err(format!("member `{}`: unknown location `{l}`", m.id));
            }
        }
        for m in &org.state.members {
            if let Some(t) = lmn_target(m.ecbn.as_ref()) {
                *org.dependents.entry(t).or_default() += 1;
            }
        }
        for t in &org.state.tokens {
            org.token_scopes.insert(t.token.clone(), t.scopes.clone());
        }
        Ok(org)
    }

    pub(crate) fn scopes(&self, token: &str) -> Option<&Vec<String>> {
        self.token_scopes.get(token)
    }

    pub(crate) fn set_token(&mut self, token: &str, scopes: Option<Vec<String>>) {
        self.state.tokens.retain(|t| t.token != token);
        self.token_scopes.remove(token);
        if let Some(s) = scopes {
            self.token_scopes.insert(token.to_string(), s.clone());
            self.state.tokens.push(super::fixture::TokenSpec { token: token.to_string(), scopes: s });
        }
    }

    pub(crate) fn member(&self, id: &str) -> Option<usize> {
        uuid_of(id).and_then(|u| self.by_uuid.get(&u).copied())
    }

    /// A person (type PEOPLE) by ID; 404 4008 otherwise.
    pub(crate) fn person(&self, id: &str) -> Result<usize, SimError> {
        let i = self.member(id).ok_or_else(SimError::user_not_found)?;
        if self.state.members[i].kind != "PEOPLE" {
            return Err(SimError::user_not_found());
        }
        Ok(i)
    }

    fn location_of(&self, m: &Member) -> Option<&super::fixture::Location> {
        let u = uuid_of(m.location_id.as_deref()?)?;
        self.loc_by_uuid.get(&u).map(|&i| &self.state.locations[i])
    }

    /// The location's own ECBN: (number, level, quality).
    fn location_ecbn(&self, m: &Member) -> (Option<String>, &'static str, &'static str) {
        let Some(loc) = self.location_of(m) else {
            return (None, "NONE", "INVALID");
        };
        if loc.ecbn.selected == "LOCATION_MEMBER_NUMBER"
            && let Some(t) = loc.ecbn.location_member_id.as_deref().and_then(|id| self.member(id))
        {
            let tm = &self.state.members[t];
            if let Some(n) = tm.active_number() {
                return (Some(n.to_string()), "LOCATION_MEMBER_NUMBER", number_quality(tm));
            }
        }
        match &loc.main_number {
            Some(n) => (Some(n.clone()), "LOCATION_NUMBER", "RECOMMENDED"),
            None => (None, "NONE", "INVALID"),
        }
    }

    /// [guess] The option's own number if valid, else the location's ECBN, else the
    /// location's main number, else NONE. `quality` describes the option's own number.
    fn effective(&self, m: &Member, own: Option<&str>, own_level: &str, own_quality: &str) -> EcbnInfo {
        let (level, value) = match own {
            Some(n) if own_quality != "INVALID" => (own_level.to_string(), Some(n.to_string())),
            _ => {
                let (n, lvl, _) = self.location_ecbn(m);
                match n {
                    Some(n) => (if lvl == "NONE" { "NONE".into() } else { "LOCATION_ECBN".to_string() }, Some(n)),
                    None => ("NONE".into(), None),
                }
            }
        };
        EcbnInfo {
            effective_level: Some(level),
            effective_value: value,
            quality: Some(own_quality.to_string()),
            ..Default::default()
        }
    }

    pub(crate) fn ecbn_get(&self, i: usize) -> EcbnGet {
        let m = &self.state.members[i];
        let ecbn = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
        let own_q = number_quality(m);
        let direct = EcbnInfo {
            phone_number: m.phone_number.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            ..self.effective(m, m.active_number(), "DIRECT_LINE", own_q)
        };
        let (loc_n, loc_level, loc_q) = self.location_ecbn(m);
        let location = EcbnInfo {
            phone_number: loc_n.clone(),
            effective_level: Some(loc_level.to_string()),
            effective_value: loc_n.clone(),
            quality: Some(loc_q.to_string()),
            ..Default::default()
        };
        let member_info = ecbn.location_member_id.as_deref().and_then(|id| self.member(id)).map(|t| {
            let tm = &self.state.members[t];
            EcbnInfo {
                phone_number: tm.phone_number.clone(),
                first_name: tm.first_name.clone().or_else(|| Some(tm.display())),
                last_name: tm.last_name.clone(),
                member_id: Some(tm.id.clone()),
                member_type: Some(tm.kind.clone()),
                ..self.effective(m, tm.active_number(), "LOCATION_MEMBER_NUMBER", number_quality(tm))
            }
        });
        EcbnGet {
            selected: Some(ecbn.selected.clone()),
            direct_line_info: Some(direct),
            location_ecbn_info: Some(location),
            location_member_info: member_info,
            default_info: Some(EcbnInfo {
                effective_value: loc_n,
                quality: Some(loc_q.to_string()),
                ..Default::default()
            }),
            elin_enabled: Some(false),
            elin_for_webex_app_enabled: Some(false),
        }
    }

    pub(crate) fn dependencies(&self, i: usize) -> Dependencies {
        let m = &self.state.members[i];
        let uuid = uuid_of(&m.id);
        let is_location_ecbn_default = self.location_of(m).is_some_and(|l| {
            l.ecbn.selected == "LOCATION_MEMBER_NUMBER"
                && l.ecbn.location_member_id.as_deref().and_then(uuid_of) == uuid
        });
        // [guess] DIRECT_LINE with an active number of their own
        let is_self_ecbn_default =
            m.ecbn.as_ref().is_some_and(|e| e.selected == "DIRECT_LINE") && m.active_number().is_some();
        Dependencies {
            is_location_ecbn_default,
            is_self_ecbn_default,
            dependent_member_count: uuid.and_then(|u| self.dependents.get(&u).copied()).unwrap_or(0),
        }
    }

    /// Validate and apply a PUT; `Ok(())` is a 204.
    pub(crate) fn put_ecbn(&mut self, i: usize, body: &EcbnPut) -> Result<(), SimError> {
        use put_errors::*;
        let selected = match &body.selected {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => match Selected::parse(s) {
                Some(sel) if sel.settable() && s == sel.as_str() => Some(sel),
                _ => return Err(SimError::new(400, INVALID_SELECTED, "The value for selected field is invalid")),
            },
            Some(_) => return Err(SimError::new(400, INVALID_SELECTED, "The value for selected field is invalid")),
        };
        let m = &self.state.members[i];
        let mut new = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
        let Some(sel) = selected else {
            // `"selected": null` leaves the setting unchanged [guess]
            return Ok(());
        };
        if sel == Selected::LocationMemberNumber {
            let target =
                body.location_member_id.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                    SimError::new(400, MISSING_MEMBER, "Missing Mandatory field name: locationMemberId")
                })?;
            let t = self.member(target).ok_or_else(|| {
                SimError::new(400, UNKNOWN_MEMBER, format!("[Error {UNKNOWN_MEMBER}] Member {target} not found"))
            })?;
            if t == i {
                return Err(SimError::new(
                    400,
                    SELF_MEMBER,
                    format!("[Error {SELF_MEMBER}] A person cannot use themselves as location member"),
                ));
            }
            let tm = &self.state.members[t];
            let same_loc = tm.location_id.as_deref().and_then(uuid_of) == m.location_id.as_deref().and_then(uuid_of);
            if !same_loc || m.location_id.is_none() {
                return Err(SimError::new(
                    400,
                    OTHER_LOCATION,
                    format!("[Error {OTHER_LOCATION}] Member {target} is not in the same location"),
                ));
            }
            if tm.active_number().is_none() {
                return Err(SimError::new(
                    400,
                    NO_VALID_NUMBER,
                    format!("[Error {NO_VALID_NUMBER}] Member {target} does not have a valid phone number"),
                ));
            }
            new.location_member_id = Some(tm.id.clone());
        }
        new.selected = sel.as_str().to_string();
        let old_target = lmn_target(m.ecbn.as_ref());
        let new_target = lmn_target(Some(&new));
        if let Some(o) = old_target
            && let Some(c) = self.dependents.get_mut(&o)
        {
            *c = c.saturating_sub(1);
        }
        if let Some(n) = new_target {
            *self.dependents.entry(n).or_default() += 1;
        }
        self.state.members[i].ecbn = Some(new);
        Ok(())
    }

    /// Valid ECBN targets for a person: numbered members of their location but themselves.
    pub(crate) fn available_numbers(
        &self,
        i: usize,
        phone_filter: Option<&str>,
        owner_name: Option<&str>,
    ) -> Vec<AvailableNumber> {
        let me = &self.state.members[i];
        let wanted: Option<Vec<&str>> =
            phone_filter.map(|f| f.split(',').map(str::trim).filter(|s| !s.is_empty()).collect());
        let my_loc = me.location_id.as_deref().and_then(uuid_of);
        self.state
            .members
            .iter()
            .enumerate()
            .filter(|(j, m)| {
                *j != i
                    && m.phone_number.is_some()
                    && my_loc.is_some()
                    && m.location_id.as_deref().and_then(uuid_of) == my_loc
            })
            .filter(|(_, m)| {
                let n = m.phone_number.as_deref().unwrap_or("");
                wanted.as_ref().is_none_or(|w| w.iter().any(|x| phone::same_number(x, n)))
            })
            .filter(|(_, m)| owner_name.is_none_or(|o| m.display().to_lowercase().contains(&o.to_lowercase())))
            .map(|(_, m)| AvailableNumber {
                phone_number: m.phone_number.clone(),
                extension: m.extension.clone(),
                state: Some(if m.active_number().is_some() { "ACTIVE" } else { "INACTIVE" }.into()),
                is_main_number: false,
                telephony_type: Some("PSTN_NUMBER".into()),
                toll_free_number: false,
                is_service_number: false,
                owner: Some(NumberOwner {
                    id: m.id.clone(),
                    kind: m.kind.clone(),
                    first_name: m.first_name.clone(),
                    last_name: m.last_name.clone(),
                    display_name: Some(m.display()),
                }),
            })
            .collect()
    }

    /// People matching a `/people` query, in fixture order.
    pub(crate) fn people(&self, q: &PeopleQuery) -> Vec<Person> {
        let ids: Option<Vec<Uuid>> = q.ids.as_ref().map(|v| v.iter().filter_map(|s| uuid_of(s)).collect());
        // a location filter that is not an ID matches no one
        let loc: Option<Option<Uuid>> = q.location_id.as_deref().map(uuid_of);
        let candidates: Box<dyn Iterator<Item = &Member>> = match &q.email {
            Some(e) => {
                Box::new(self.by_email.get(&e.to_lowercase()).into_iter().flatten().map(|&i| &self.state.members[i]))
            }
            None => Box::new(self.state.members.iter()),
        };
        candidates
            .filter(|m| m.kind == "PEOPLE")
            .filter(|m| ids.as_ref().is_none_or(|ids| uuid_of(&m.id).is_some_and(|u| ids.contains(&u))))
            .filter(|m| loc.as_ref().is_none_or(|l| l.is_some() && m.location_id.as_deref().and_then(uuid_of) == *l))
            .map(|m| self.person_view(m, q.calling_data))
            .collect()
    }

    fn person_view(&self, m: &Member, calling: bool) -> Person {
        Person {
            id: m.id.clone(),
            emails: m.email.iter().cloned().collect(),
            display_name: Some(m.display()),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            phone_numbers: m
                .phone_number
                .iter()
                .map(|n| PersonPhone { kind: "work".into(), value: n.clone(), primary: true })
                .collect(),
            extension: if calling { m.extension.clone() } else { None },
            location_id: if calling { m.location_id.clone() } else { None },
            org_id: Some(self.state.org_id.clone()),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct PeopleQuery {
    pub email: Option<String>,
    pub ids: Option<Vec<String>>,
    pub location_id: Option<String>,
    pub calling_data: bool,
}

fn lmn_target(e: Option<&MemberEcbn>) -> Option<Uuid> {
    let e = e?;
    if e.selected != "LOCATION_MEMBER_NUMBER" {
        return None;
    }
    uuid_of(e.location_member_id.as_deref()?)
}

/// A valid ID for a new entity of a kind (for `sim generate` and tests).
pub(crate) fn new_id(kind: IdKind, n: u64, salt: u32) -> String {
    // the kind goes into the UUID too: IDs are compared by UUID alone
    let k = kind as u16;
    WebexId::encode(kind, &format!("{salt:08x}-{k:04x}-4000-8000-{n:012x}"))
}

#[cfg(test)]
mod tests;
