//! The API's ECBN rules, as the simulator plays them: the GET's option blocks and their
//! fallbacks, dependencies, and the validation of a PUT. Each rule that the published
//! API reference does not settle (marked [guess]) is one function or constant here.

use super::{Org, SimError, lmn_target, uuid_of};
use crate::sim::fixture::{Member, MemberEcbn};
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

/// Quality of a member's number [doc]: inactive or missing → INVALID; hunt groups →
/// NOT_RECOMMENDED; people, workspaces, virtual lines → RECOMMENDED.
pub(crate) fn number_quality(m: &Member) -> &'static str {
    match m.active_number() {
        None => "INVALID",
        Some(_) if m.kind == "HUNT_GROUP" => "NOT_RECOMMENDED",
        Some(_) => "RECOMMENDED",
    }
}

impl Org {
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
}
