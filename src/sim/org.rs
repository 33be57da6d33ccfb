//! The simulated org: state, indexes, the people listing and available numbers; the
//! ECBN rules themselves are in `ecbn`. A rule the published reference does not settle
//! is one function or constant (`required_scope` here; `number_quality`, `effective`,
//! `put_errors`, the dependencies' `is_self_ecbn_default` in `ecbn`).

use super::fixture::{Fixture, Member, MemberEcbn};
use crate::ids::{IdKind, Uuid, WebexId};
use crate::phone;
#[cfg(test)]
use crate::wire::EcbnPut;
use crate::wire::{AvailableNumber, NumberOwner, Person, PersonPhone};
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

/// Why a fixture (or a state file) is not a consistent org.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("{what} `{id}`: not a Webex ID")]
    NotAnId { what: &'static str, id: String },
    #[error("member `{0}` appears twice")]
    Twice(String),
    #[error("member `{id}`: unknown type `{kind}`")]
    UnknownType { id: String, kind: String },
    #[error("member `{id}`: unknown location `{location}`")]
    UnknownLocation { id: String, location: String },
}

impl Org {
    pub(crate) fn new(state: Fixture) -> Result<Org, OrgError> {
        let mut org = Org {
            state,
            by_uuid: HashMap::new(),
            loc_by_uuid: HashMap::new(),
            by_email: HashMap::new(),
            dependents: HashMap::new(),
            token_scopes: HashMap::new(),
        };
        for (i, l) in org.state.locations.iter().enumerate() {
            let u = uuid_of(&l.id).ok_or_else(|| OrgError::NotAnId { what: "location", id: l.id.clone() })?;
            org.loc_by_uuid.insert(u, i);
        }
        for (i, m) in org.state.members.iter().enumerate() {
            let u = uuid_of(&m.id).ok_or_else(|| OrgError::NotAnId { what: "member", id: m.id.clone() })?;
            if org.by_uuid.insert(u, i).is_some() {
                return Err(OrgError::Twice(m.id.clone()));
            }
            if let Some(e) = &m.email {
                org.by_email.entry(e.to_lowercase()).or_default().push(i);
            }
            if !["PEOPLE", "PLACE", "VIRTUAL_LINE", "HUNT_GROUP"].contains(&m.kind.as_str()) {
                return Err(OrgError::UnknownType { id: m.id.clone(), kind: m.kind.clone() });
            }
            if let Some(l) = &m.location_id
                && uuid_of(l).is_none_or(|u| !org.loc_by_uuid.contains_key(&u))
            {
                return Err(OrgError::UnknownLocation { id: m.id.clone(), location: l.clone() });
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

mod ecbn;

#[cfg(test)]
use ecbn::put_errors;

#[cfg(test)]
mod tests;
