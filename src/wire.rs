//! Wire types of the Webex Calling API, shared by the client and the simulator so the
//! two cannot drift apart. Unknown fields are ignored on input (the real API adds fields
//! over time); `selected` stays a string so an unknown value is reported, not a crash.

use crate::ids::Kind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ECBN choice this tool knows. Unknown values from the API are kept as strings
/// elsewhere and turned into a row failure, never written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Selected {
    DirectLine,
    LocationEcbn,
    LocationMemberNumber,
    /// A location's own: its main number.
    LocationNumber,
    None,
}

impl Selected {
    /// Case-insensitive parse; `None` for anything unknown.
    pub(crate) fn parse(s: &str) -> Option<Selected> {
        let s = s.trim();
        [
            Selected::DirectLine,
            Selected::LocationEcbn,
            Selected::LocationMemberNumber,
            Selected::LocationNumber,
            Selected::None,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Selected::DirectLine => "DIRECT_LINE",
            Selected::LocationEcbn => "LOCATION_ECBN",
            Selected::LocationMemberNumber => "LOCATION_MEMBER_NUMBER",
            Selected::LocationNumber => "LOCATION_NUMBER",
            Selected::None => "NONE",
        }
    }
}

impl fmt::Display for Selected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The quality of a number as the API grades it [doc]: an active number of a person or
/// workspace (the kinds marked `recommended`) is RECOMMENDED, of anything else (virtual
/// lines, hunt groups) NOT_RECOMMENDED; an inactive or missing number is INVALID.
pub(crate) fn number_quality(active: bool, owner_type: &str) -> &'static str {
    let recommended = Kind::parse(owner_type).is_some_and(|k| k.spec().recommended);
    match (active, recommended) {
        (false, _) => "INVALID",
        (true, true) => "RECOMMENDED",
        (true, false) => "NOT_RECOMMENDED",
    }
}

/// `POST /messages`: a Markdown message to a space (the run's notification).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessagePost {
    #[serde(default)]
    pub room_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The answer of `POST /access_token` (the OAuth refresh grant). Its `Debug` shows no
/// token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AccessToken {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The refresh token to use next time (the same value unless the server rotated it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .finish_non_exhaustive()
    }
}

/// `GET /people/me`: whom a token acts for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Me {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub org_id: String,
}

/// The most a message's text may hold, in bytes [doc].
pub(crate) const MESSAGE_MAX_BYTES: usize = 7439;

/// One option block of the ECBN GET (`directLineInfo`, `locationECBNInfo`, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EcbnInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// A location block's name (`locationInfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
}

/// `GET .../emergencyCallbackNumber` of a member or a location (its own number is in
/// `locationInfo`; a member's options in the other blocks).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EcbnGet {
    /// Required: an answer without it is unreadable, not "no value".
    pub selected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_line_info: Option<EcbnInfo>,
    #[serde(rename = "locationECBNInfo", default, skip_serializing_if = "Option::is_none")]
    pub location_ecbn_info: Option<EcbnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_member_info: Option<EcbnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_info: Option<EcbnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_info: Option<EcbnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elin_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elin_for_webex_app_enabled: Option<bool>,
}

impl EcbnGet {
    /// The member a LOCATION_MEMBER_NUMBER selection points at (none for any other:
    /// a member configured earlier is only a memory).
    pub(crate) fn selected_member(&self) -> Option<&str> {
        match Selected::parse(&self.selected)? {
            Selected::LocationMemberNumber => self.location_member_info.as_ref()?.member_id.as_deref(),
            Selected::DirectLine | Selected::LocationEcbn | Selected::LocationNumber | Selected::None => None,
        }
    }

    /// The block that describes the current selection: what a callback reaches today.
    pub(crate) fn effective_block(&self) -> Option<&EcbnInfo> {
        match Selected::parse(&self.selected)? {
            Selected::DirectLine => self.direct_line_info.as_ref(),
            Selected::LocationEcbn => self.location_ecbn_info.as_ref(),
            Selected::LocationMemberNumber => self.location_member_info.as_ref(),
            Selected::LocationNumber => self.location_info.as_ref(),
            Selected::None => self.default_info.as_ref(),
        }
    }
}

/// `PUT .../emergencyCallbackNumber` body. The client only ever sends `selected` and,
/// for LOCATION_MEMBER_NUMBER, `locationMemberId`; the ELIN flags exist for the simulator
/// (other clients send them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EcbnPut {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elin_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elin_for_webex_app_enabled: Option<bool>,
}

/// `GET .../emergencyCallbackNumber/dependencies`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Dependencies {
    pub is_location_ecbn_default: bool,
    pub is_self_ecbn_default: bool,
    pub dependent_member_count: u64,
}

/// Webex error body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorItem {
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
}

/// `GET /people` page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct PeopleList {
    pub items: Vec<Person>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Person {
    pub id: String,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PersonPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PersonPhone {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub primary: bool,
}

/// `GET /locations` page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LocationList {
    pub(crate) items: Vec<LocationItem>,
}

/// A location as `/locations` lists it (the fields this tool reads, and the org).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationItem {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) org_id: Option<String>,
}

/// `GET /workspaces` page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct WorkspaceList {
    pub(crate) items: Vec<Workspace>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Workspace {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) location_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) calling: Option<WorkspaceCalling>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkspaceCalling {
    /// `webexCalling` for a workspace with Webex Calling.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) webex_calling: Option<WebexCallingInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebexCallingInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) location_id: Option<String>,
}

/// `GET /telephony/config/virtualLines` page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VirtualLineList {
    pub(crate) virtual_lines: Vec<VirtualLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VirtualLine {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<VirtualLineNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<IdName>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VirtualLineNumber {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) external: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) extension: Option<String>,
    #[serde(default)]
    pub(crate) primary: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct IdName {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// `GET .../emergencyCallbackNumber/availableNumbers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AvailableNumbers {
    #[serde(default)]
    pub phone_numbers: Vec<AvailableNumber>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AvailableNumber {
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub is_main_number: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_type: Option<String>,
    #[serde(default)]
    pub toll_free_number: bool,
    #[serde(default)]
    pub is_service_number: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<NumberOwner>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NumberOwner {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Route templates, as the simulator books them in `/_sim/stats` and the client books
/// them in the summary (prefixed by the base URL's path, e.g. `/v1`).
/// Route templates under the base URL, as `/_sim/stats` and the summary book them. A
/// member kind's own routes are its row of `ids::KINDS`.
pub(crate) mod routes {
    use crate::ids::{KINDS, Kind};

    pub(crate) const HUNT_GROUP_DEPENDENCIES: &str =
        "/telephony/config/huntGroups/{huntGroupId}/emergencyCallbackNumber/dependencies";
    pub(crate) const PEOPLE: &str = KINDS[Kind::Person as usize].listing;
    pub(crate) const WORKSPACES: &str = KINDS[Kind::Workspace as usize].listing;
    pub(crate) const VIRTUAL_LINES: &str = KINDS[Kind::VirtualLine as usize].listing;
    pub(crate) const LOCATIONS: &str = KINDS[Kind::Location as usize].listing;
    pub(crate) const MESSAGES: &str = "/messages";
    pub(crate) const ACCESS_TOKEN: &str = "/access_token";
    pub(crate) const ME: &str = "/people/me";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecbn_get_tolerates_unknown_fields_and_values() {
        let j = r#"{"selected":"SOMETHING_NEW","futureField":{"a":1},
            "locationECBNInfo":{"phoneNumber":"+1","quality":"RECOMMENDED","x":2}}"#;
        let g: EcbnGet = serde_json::from_str(j).unwrap();
        assert_eq!(g.selected, "SOMETHING_NEW");
        assert!(g.location_ecbn_info.is_some());
        assert!(g.effective_block().is_none());
    }

    #[test]
    fn answers_of_the_wrong_shape_do_not_decode() {
        for bad in [r#"{}"#, r#"{"selected":7}"#, r#"{"selected":null}"#, r#"{"selected":"DIR"#] {
            assert!(serde_json::from_str::<EcbnGet>(bad).is_err(), "{bad}");
        }
        let deps = r#"{"isLocationEcbnDefault":false,"isSelfEcbnDefault":false,"dependentMemberCount":2}"#;
        assert_eq!(serde_json::from_str::<Dependencies>(deps).unwrap().dependent_member_count, 2);
        for bad in [
            deps.replace("2}", "\"2\"}"),
            deps.replace("false,\"isSelf", "\"no\",\"isSelf"),
            deps.replace(",\"dependentMemberCount\":2", ""),
        ] {
            assert!(serde_json::from_str::<Dependencies>(&bad).is_err(), "{bad}");
        }
        for bad in [r#"{}"#, r#"{"items":{}}"#, r#"{"items":null}"#] {
            assert!(serde_json::from_str::<PeopleList>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<WorkspaceList>(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<VirtualLineList>(r#"{"items":[]}"#).is_err());
    }

    #[test]
    fn enum_values_the_tool_does_not_know_are_kept_as_read() {
        let j = r#"{"selected":"LOCATION_MEMBER_NUMBER","locationMemberInfo":{"effectiveLevel":"ORG_DEFAULT",
            "quality":"EXCELLENT","memberType":"ROBOT","effectiveValue":"+1"}}"#;
        let g: EcbnGet = serde_json::from_str(j).unwrap();
        let b = g.effective_block().unwrap();
        assert_eq!(b.quality.as_deref(), Some("EXCELLENT"));
        assert_eq!(b.member_type.as_deref(), Some("ROBOT"));
        assert_eq!(b.effective_level.as_deref(), Some("ORG_DEFAULT"));
    }

    #[test]
    fn selected_parse_case_insensitive() {
        assert_eq!(Selected::parse(" direct_line "), Some(Selected::DirectLine));
        assert_eq!(Selected::parse("Location_Member_Number"), Some(Selected::LocationMemberNumber));
        assert_eq!(Selected::parse("bogus"), None);
        assert!(crate::ids::KINDS.iter().all(|k| !k.settable.contains(&Selected::None)), "NONE is never set");
        assert_eq!(Selected::parse("location_number"), Some(Selected::LocationNumber));
    }

    #[test]
    fn put_body_sends_only_what_is_set() {
        let b = EcbnPut { selected: Some("DIRECT_LINE".into()), ..Default::default() };
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"selected":"DIRECT_LINE"}"#);
    }
}
