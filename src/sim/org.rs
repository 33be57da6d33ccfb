//! The simulated org: state, indexes, the people listing and available numbers; the
//! ECBN rules themselves are in `ecbn`. A rule the published reference does not settle
//! is one function or constant (`required_scope` here; `number_quality`, `effective`,
//! `put_errors`, the dependencies' `is_self_ecbn_default` in `ecbn`).

use super::fixture::{Fixture, Member, MemberEcbn};
use crate::ids::{IdKind, KINDS, Kind, Uuid, WebexId};
#[cfg(test)]
use crate::wire::EcbnPut;
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
    /// [guess] The API's "User not found" (4008) for every kind of member.
    fn not_found(what: &str) -> SimError {
        let mut name = what.to_string();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        let name = if what == "person" { "User".to_string() } else { name };
        SimError::new(404, 4008, format!("{name} not found"))
    }
}

/// The scopes an endpoint takes, any one of them [doc; the 401/403 mapping is a guess].
/// The scopes of which a token needs one for a request; none for `/people/me` (any
/// valid token may ask whom it acts for [guess]).
pub(crate) fn required_scope(method: &str, template: &str) -> &'static [&'static str] {
    if template.ends_with(crate::wire::routes::ME) {
        &[]
    } else if template.ends_with("/messages") {
        &["spark:messages_write"]
    } else if template.ends_with("/people") {
        &["spark-admin:people_read"]
    } else if template.ends_with(crate::wire::routes::LOCATIONS) {
        &["spark-admin:locations_read"]
    } else if template.ends_with("/workspaces") {
        &["spark-admin:workspaces_read", "spark:workspaces_read"]
    } else if method == "GET" {
        &["spark-admin:telephony_config_read"]
    } else {
        &["spark-admin:telephony_config_write"]
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
}

pub(crate) fn uuid_of(id: &str) -> Option<Uuid> {
    WebexId::parse(id).map(|i| i.uuid())
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
    #[error("the fixture has no org")]
    NoOrg,
    #[error("a token names the org `{0}`, which the fixture does not have")]
    UnknownOrg(String),
    #[error("client `{client}`: its token `{token}` is not a token of the fixture")]
    UnknownClientToken { client: String, token: String },
}

impl Org {
    pub(crate) fn new(state: Fixture) -> Result<Org, OrgError> {
        let mut org = Org {
            state,
            by_uuid: HashMap::new(),
            loc_by_uuid: HashMap::new(),
            by_email: HashMap::new(),
            dependents: HashMap::new(),
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
            let hunt_group = m.kind == IdKind::HuntGroup.as_str();
            if !hunt_group && !KINDS.iter().any(|k| k.member && k.api_type == m.kind) {
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
        Ok(org)
    }

    pub(crate) fn member(&self, id: &str) -> Option<usize> {
        uuid_of(id).and_then(|u| self.by_uuid.get(&u).copied())
    }

    /// A member of `kind` by ID (any spelling); 404 otherwise.
    pub(crate) fn member_of(&self, id: &str, kind: Kind) -> Result<usize, SimError> {
        self.member(id)
            .filter(|&i| self.state.members[i].kind == member_type(kind))
            .ok_or_else(|| SimError::not_found(kind.noun()))
    }

    /// What has the ECBN an endpoint of `kind` names by `id`: a member, or a location.
    pub(crate) fn holder(&self, id: &str, kind: Kind) -> Result<Holder, SimError> {
        if kind.spec().member {
            return self.member_of(id, kind).map(Holder::Member);
        }
        uuid_of(id)
            .and_then(|u| self.loc_by_uuid.get(&u).copied())
            .map(Holder::Location)
            .ok_or_else(|| SimError::not_found(kind.noun()))
    }

    /// A hunt group by ID: it can be an ECBN target, and has dependents, but no ECBN.
    pub(crate) fn hunt_group(&self, id: &str) -> Result<usize, SimError> {
        self.member(id)
            .filter(|&i| self.state.members[i].kind == IdKind::HuntGroup.as_str())
            .ok_or_else(|| SimError::not_found("hunt group"))
    }

    fn location_of(&self, m: &Member) -> Option<&super::fixture::Location> {
        let u = uuid_of(m.location_id.as_deref()?)?;
        self.loc_by_uuid.get(&u).map(|&i| &self.state.locations[i])
    }
}

/// What has an ECBN of its own, by its index in the org's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Member(usize),
    Location(usize),
}

/// The fixture's member type of a kind.
pub(crate) fn member_type(kind: Kind) -> &'static str {
    kind.spec().api_type
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
mod listings;

pub(crate) use listings::{ListQuery, Page, PeopleQuery, Window};

#[cfg(test)]
use ecbn::put_errors;

#[cfg(test)]
mod tests;
