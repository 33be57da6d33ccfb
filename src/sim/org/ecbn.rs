//! The API's ECBN rules, as the simulator plays them: the GET's option blocks and their
//! fallbacks, dependencies, and the validation of a PUT. Each rule that the published
//! API reference does not settle (marked [guess]) is one function or constant here.

use super::{Holder, Org, SimError, lmn_target, uuid_of};
use crate::ids::Kind;
use crate::sim::fixture::{Location, Member, MemberEcbn};
use crate::wire::{Dependencies, EcbnGet, EcbnInfo, EcbnPut, Selected};

/// PUT error codes; [guess] except 25100 and 27402.
pub(crate) mod put_errors {
    pub(crate) const INVALID_SELECTED: i64 = 25100;
    pub(crate) const MISSING_MEMBER: i64 = 25008;
    pub(crate) const NO_VALID_NUMBER: i64 = 27402;
    pub(crate) const OTHER_LOCATION: i64 = 27403;
    pub(crate) const UNKNOWN_MEMBER: i64 = 27404;
    pub(crate) const SELF_MEMBER: i64 = 27405;
}

/// Quality of a member's number, by the API's rule (shared with the client's predictions).
pub(crate) fn number_quality(m: &Member) -> &'static str {
    crate::wire::number_quality(m.active_number().is_some(), &m.kind)
}

/// [guess] The effective level of a member's own valid number in the direct-line and
/// location-member blocks (the spec's levels have no LOCATION_MEMBER_NUMBER).
const OWN_NUMBER_LEVEL: &str = "DIRECT_LINE";

/// [guess] A location's main number, as a location ECBN, is RECOMMENDED.
const MAIN_NUMBER_QUALITY: &str = "RECOMMENDED";

/// The location's own ECBN.
struct LocationEcbn {
    number: Option<String>,
    /// LOCATION_ECBN (a member's number), LOCATION_NUMBER (the main number) or NONE.
    level: &'static str,
    quality: &'static str,
    /// [doc] the block's names: the location's name and ".".
    name: Option<String>,
}

impl Org {
    /// The location's own ECBN: a member's number, else the main number, else none.
    fn location_ecbn(&self, m: &Member) -> LocationEcbn {
        let Some(loc) = self.location_of(m) else {
            return LocationEcbn { number: None, level: "NONE", quality: "INVALID", name: None };
        };
        let name = Some(loc.name.clone());
        if loc.ecbn.selected == "LOCATION_MEMBER_NUMBER"
            && let Some(t) = loc.ecbn.location_member_id.as_deref().and_then(|id| self.member(id))
        {
            let tm = &self.state.members[t];
            if let Some(n) = tm.active_number() {
                let quality = number_quality(tm);
                return LocationEcbn { number: Some(n.to_string()), level: "LOCATION_ECBN", quality, name };
            }
        }
        match &loc.main_number {
            Some(n) => {
                LocationEcbn { number: Some(n.clone()), level: "LOCATION_NUMBER", quality: MAIN_NUMBER_QUALITY, name }
            }
            None => LocationEcbn { number: None, level: "NONE", quality: "INVALID", name },
        }
    }

    /// [guess] The option's own number if valid, else the location's ECBN (or main
    /// number), else NONE. `quality` describes the option's own number.
    fn effective(&self, m: &Member, own: Option<&str>, own_quality: &str) -> EcbnInfo {
        let (level, value) = match own {
            Some(n) if own_quality != "INVALID" => (OWN_NUMBER_LEVEL, Some(n.to_string())),
            _ => {
                let loc = self.location_ecbn(m);
                (loc.level, loc.number)
            }
        };
        EcbnInfo {
            effective_level: Some(level.to_string()),
            effective_value: value,
            quality: Some(own_quality.to_string()),
            ..Default::default()
        }
    }

    /// The ECBN GET of a member or a location.
    pub(crate) fn ecbn_get(&self, h: Holder) -> EcbnGet {
        match h {
            Holder::Member(i) => self.member_ecbn_get(i),
            Holder::Location(l) => self.location_ecbn_get(l),
        }
    }

    fn member_ecbn_get(&self, i: usize) -> EcbnGet {
        let m = &self.state.members[i];
        let ecbn = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
        let own_q = number_quality(m);
        let direct = EcbnInfo {
            phone_number: m.phone_number.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            ..self.effective(m, m.active_number(), own_q)
        };
        let loc = self.location_ecbn(m);
        let location = EcbnInfo {
            phone_number: loc.number.clone(),
            first_name: loc.name.clone(),
            last_name: loc.name.as_ref().map(|_| ".".to_string()),
            effective_level: Some(loc.level.to_string()),
            effective_value: loc.number.clone(),
            quality: Some(loc.quality.to_string()),
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
                ..self.effective(m, tm.active_number(), number_quality(tm))
            }
        });
        EcbnGet {
            selected: ecbn.selected.clone(),
            direct_line_info: Some(direct),
            location_ecbn_info: Some(location),
            location_member_info: member_info,
            location_info: None,
            default_info: Some(EcbnInfo {
                effective_value: loc.number,
                quality: Some(loc.quality.to_string()),
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

    /// The ECBN GET of a location [doc]: its own number in `locationInfo`, the member
    /// it points at (now or earlier) in `locationMemberInfo`.
    fn location_ecbn_get(&self, l: usize) -> EcbnGet {
        let loc = &self.state.locations[l];
        let main = self.main_number(loc);
        let location_info = EcbnInfo {
            phone_number: loc.main_number.clone(),
            name: Some(loc.name.clone()),
            effective_level: Some(main.level.to_string()),
            effective_value: main.number.clone(),
            quality: Some(main.quality.to_string()),
            ..Default::default()
        };
        let member_info = loc.ecbn.location_member_id.as_deref().and_then(|id| self.member(id)).map(|t| {
            let tm = &self.state.members[t];
            let own_q = number_quality(tm);
            // [guess] the member's number while valid, else the main number, else none
            let (level, value) = match tm.active_number() {
                Some(n) => (OWN_NUMBER_LEVEL, Some(n.to_string())),
                None => (main.level, main.number.clone()),
            };
            EcbnInfo {
                phone_number: tm.phone_number.clone(),
                first_name: tm.first_name.clone().or_else(|| Some(tm.display())),
                last_name: tm.last_name.clone(),
                member_id: Some(tm.id.clone()),
                member_type: Some(tm.kind.clone()),
                effective_level: Some(level.to_string()),
                effective_value: value,
                quality: Some(own_q.to_string()),
                ..Default::default()
            }
        });
        EcbnGet {
            selected: loc.ecbn.selected.clone(),
            location_info: Some(location_info),
            location_member_info: member_info,
            ..Default::default()
        }
    }

    /// A location's main number as an ECBN.
    fn main_number(&self, loc: &Location) -> LocationEcbn {
        let name = Some(loc.name.clone());
        match &loc.main_number {
            Some(n) => {
                LocationEcbn { number: Some(n.clone()), level: "LOCATION_NUMBER", quality: MAIN_NUMBER_QUALITY, name }
            }
            None => LocationEcbn { number: None, level: "NONE", quality: "INVALID", name },
        }
    }

    /// Validate and apply a PUT to a member or a location; `Ok(())` is a 204.
    pub(crate) fn put_ecbn(&mut self, h: Holder, body: &EcbnPut) -> Result<(), SimError> {
        match h {
            Holder::Member(i) => self.put_member_ecbn(i, body),
            Holder::Location(l) => self.put_location_ecbn(l, body),
        }
    }

    /// `selected` of a PUT body, if it is one of `kind`'s values; `None`: leave it.
    fn selected_of(body: &EcbnPut, kind: Kind) -> Result<Option<Selected>, SimError> {
        let invalid = || SimError::new(400, put_errors::INVALID_SELECTED, "The value for selected field is invalid");
        match &body.selected {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => match Selected::parse(s) {
                Some(sel) if kind.spec().settable.contains(&sel) && s == sel.as_str() => Ok(Some(sel)),
                _ => Err(invalid()),
            },
            Some(_) => Err(invalid()),
        }
    }

    /// The member a LOCATION_MEMBER_NUMBER PUT points at: named, known, in `location`,
    /// with an active number; `me` is the member the PUT is for, if any.
    fn valid_target(&self, body: &EcbnPut, location: Option<&str>, me: Option<usize>) -> Result<usize, SimError> {
        use put_errors::*;
        let target = body
            .location_member_id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| SimError::new(400, MISSING_MEMBER, "Missing Mandatory field name: locationMemberId"))?;
        let t = self.member(target).ok_or_else(|| {
            SimError::new(400, UNKNOWN_MEMBER, format!("[Error {UNKNOWN_MEMBER}] Member {target} not found"))
        })?;
        if Some(t) == me {
            let why = format!("[Error {SELF_MEMBER}] A person cannot use themselves as location member");
            return Err(SimError::new(400, SELF_MEMBER, why));
        }
        let tm = &self.state.members[t];
        let same_loc = location.is_some() && tm.location_id.as_deref().and_then(uuid_of) == location.and_then(uuid_of);
        if !same_loc {
            let why = format!("[Error {OTHER_LOCATION}] Member {target} is not in the same location");
            return Err(SimError::new(400, OTHER_LOCATION, why));
        }
        if tm.active_number().is_none() {
            let why = format!("[Error {NO_VALID_NUMBER}] Member {target} does not have a valid phone number");
            return Err(SimError::new(400, NO_VALID_NUMBER, why));
        }
        Ok(t)
    }

    fn put_location_ecbn(&mut self, l: usize, body: &EcbnPut) -> Result<(), SimError> {
        let Some(sel) = Org::selected_of(body, Kind::Location)? else { return Ok(()) };
        let mut new = self.state.locations[l].ecbn.clone();
        if sel == Selected::LocationMemberNumber {
            let loc_id = self.state.locations[l].id.clone();
            let t = self.valid_target(body, Some(&loc_id), None)?;
            new.location_member_id = Some(self.state.members[t].id.clone());
        }
        new.selected = sel.as_str().to_string();
        self.state.locations[l].ecbn = new;
        Ok(())
    }

    fn put_member_ecbn(&mut self, i: usize, body: &EcbnPut) -> Result<(), SimError> {
        let selected = Org::selected_of(body, Kind::Person)?;
        let m = &self.state.members[i];
        let mut new = m.ecbn.clone().unwrap_or(MemberEcbn { selected: "NONE".into(), location_member_id: None });
        let Some(sel) = selected else {
            // `"selected": null` leaves the setting unchanged [guess]
            return Ok(());
        };
        if sel == Selected::LocationMemberNumber {
            let location = m.location_id.clone();
            let t = self.valid_target(body, location.as_deref(), Some(i))?;
            new.location_member_id = Some(self.state.members[t].id.clone());
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
}
