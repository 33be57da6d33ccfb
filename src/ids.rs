//! Webex IDs: unpadded base64 of `ciscospark://<cluster>/<TYPE>/<uuid>`.
//!
//! The same entity can come back in several spellings (padded, URL-safe alphabet,
//! `urn:TEAM:<cluster>` instead of `us`), so IDs are compared by the decoded trailing
//! UUID and never as strings. An ID is decoded once, when it is read; its spelling is
//! kept because requests and reports use the ID as it was written.

use crate::wire::Selected;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use std::borrow::Cow;
use std::fmt;

/// The entity types that appear in the IDs this tool handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum IdKind {
    People,
    Place,
    /// A virtual line, as the API's own examples decode.
    VirtualProfile,
    VirtualLine,
    HuntGroup,
    Location,
    Organization,
    Other,
}

impl IdKind {
    pub(crate) fn parse(s: &str) -> IdKind {
        match s.to_ascii_uppercase().as_str() {
            "PEOPLE" => IdKind::People,
            "PLACE" => IdKind::Place,
            "VIRTUAL_PROFILE" => IdKind::VirtualProfile,
            "VIRTUAL_LINE" => IdKind::VirtualLine,
            "HUNT_GROUP" => IdKind::HuntGroup,
            "LOCATION" => IdKind::Location,
            "ORGANIZATION" => IdKind::Organization,
            _ => IdKind::Other,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            IdKind::People => "PEOPLE",
            IdKind::Place => "PLACE",
            IdKind::VirtualProfile => "VIRTUAL_PROFILE",
            IdKind::VirtualLine => "VIRTUAL_LINE",
            IdKind::HuntGroup => "HUNT_GROUP",
            IdKind::Location => "LOCATION",
            IdKind::Organization => "ORGANIZATION",
            IdKind::Other => "OTHER",
        }
    }

    /// Kinds that can be the target of a LOCATION_MEMBER_NUMBER ECBN.
    pub(crate) fn is_member(self) -> bool {
        self == IdKind::HuntGroup || Kind::of_id(self).is_some_and(|k| k.spec().member)
    }
}

/// The kinds of entity with an ECBN of their own: the members of a location (people,
/// workspaces, virtual lines) and the location itself. All this program knows of each —
/// its names, ID types, values, endpoints and listing — is its row of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Person,
    Workspace,
    VirtualLine,
    Location,
}

/// One kind of member, all in one place.
#[derive(Debug)]
pub(crate) struct KindSpec {
    pub(crate) kind: Kind,
    /// As reports, files, counts and the command line write it (`virtual_line`).
    pub(crate) name: &'static str,
    /// As a sentence says it (`virtual line`).
    pub(crate) noun: &'static str,
    /// As a sentence refers back to it (`their` ECBN, `its` ECBN).
    pub(crate) possessive: &'static str,
    /// The ID types that name it.
    pub(crate) id_types: &'static [IdKind],
    /// Its type as the API writes it in `memberType` and `owner.type`, and as the
    /// simulator's fixtures do.
    pub(crate) api_type: &'static str,
    /// An active number of it is a RECOMMENDED callback number [doc: "an activated
    /// number, associated with a User or Workspace"]; else NOT_RECOMMENDED.
    pub(crate) recommended: bool,
    /// A member of a location: it can be a LOCATION_MEMBER_NUMBER target, others can
    /// depend on it, and it may follow its location's ECBN (LOCATION_ECBN).
    pub(crate) member: bool,
    /// The values a row of this kind may set.
    pub(crate) settable: &'static [Selected],
    /// Its ECBN (`GET`, `PUT`), as a route template under the base URL: its URLs are
    /// this with the ID in the `{…}` segment.
    pub(crate) ecbn: &'static str,
    /// Who depends on it (members only: nobody points at a location).
    pub(crate) dependencies: Option<&'static str>,
    pub(crate) available_numbers: &'static str,
    /// The paged listing of every member of the kind.
    pub(crate) listing: &'static str,
}

const MEMBER_VALUES: &[Selected] = &[Selected::DirectLine, Selected::LocationEcbn, Selected::LocationMemberNumber];

pub(crate) const KINDS: [KindSpec; 4] = [
    KindSpec {
        kind: Kind::Person,
        name: "person",
        noun: "person",
        possessive: "their",
        id_types: &[IdKind::People],
        api_type: "PEOPLE",
        recommended: true,
        member: true,
        settable: MEMBER_VALUES,
        ecbn: "/telephony/config/people/{personId}/emergencyCallbackNumber",
        dependencies: Some("/telephony/config/people/{personId}/emergencyCallbackNumber/dependencies"),
        available_numbers: "/telephony/config/people/{personId}/emergencyCallbackNumber/availableNumbers",
        listing: "/people",
    },
    KindSpec {
        kind: Kind::Workspace,
        name: "workspace",
        noun: "workspace",
        possessive: "its",
        id_types: &[IdKind::Place],
        api_type: "PLACE",
        recommended: true,
        member: true,
        settable: MEMBER_VALUES,
        ecbn: "/telephony/config/workspaces/{workspaceId}/emergencyCallbackNumber",
        dependencies: Some("/telephony/config/workspaces/{workspaceId}/emergencyCallbackNumber/dependencies"),
        available_numbers: "/telephony/config/workspaces/{workspaceId}/emergencyCallbackNumber/availableNumbers",
        listing: "/workspaces",
    },
    KindSpec {
        kind: Kind::VirtualLine,
        name: "virtual_line",
        noun: "virtual line",
        possessive: "its",
        // VIRTUAL_PROFILE as the API's examples decode; VIRTUAL_LINE too [guess]
        id_types: &[IdKind::VirtualProfile, IdKind::VirtualLine],
        api_type: "VIRTUAL_LINE",
        recommended: false,
        member: true,
        settable: MEMBER_VALUES,
        ecbn: "/telephony/config/virtualLines/{virtualLineId}/emergencyCallbackNumber",
        dependencies: Some("/telephony/config/virtualLines/{virtualLineId}/emergencyCallbackNumber/dependencies"),
        available_numbers: "/telephony/config/virtualLines/{virtualLineId}/emergencyCallbackNumber/availableNumbers",
        listing: "/telephony/config/virtualLines",
    },
    KindSpec {
        kind: Kind::Location,
        name: "location",
        noun: "location",
        possessive: "its",
        id_types: &[IdKind::Location],
        api_type: "LOCATION",
        recommended: false,
        member: false,
        settable: &[Selected::LocationNumber, Selected::LocationMemberNumber],
        ecbn: "/telephony/config/locations/{locationId}/features/emergencyCallbackNumber",
        dependencies: None,
        available_numbers: "/telephony/config/locations/{locationId}/emergencyCallbackNumber/availableNumbers",
        listing: "/locations",
    },
];

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Person, Kind::Workspace, Kind::VirtualLine, Kind::Location];

    /// Its row of [`KINDS`].
    pub(crate) fn spec(self) -> &'static KindSpec {
        let spec = &KINDS[self as usize];
        debug_assert_eq!(spec.kind, self, "KINDS is in the order of Kind");
        spec
    }

    /// As reports and files write it.
    pub(crate) fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// As a sentence says it.
    pub(crate) fn noun(self) -> &'static str {
        self.spec().noun
    }

    /// Its name, or any ID type or API type naming it (`person`, `PEOPLE`, `PLACE`,
    /// `VIRTUAL_LINE`, `VIRTUAL_PROFILE`, …); any case.
    pub(crate) fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        KINDS
            .iter()
            .find(|k| {
                k.name.eq_ignore_ascii_case(s)
                    || k.api_type.eq_ignore_ascii_case(s)
                    || k.id_types.iter().any(|t| t.as_str().eq_ignore_ascii_case(s))
            })
            .map(|k| k.kind)
    }

    /// The kind of member an ID names, if it has an ECBN of its own.
    pub(crate) fn of_id(t: IdKind) -> Option<Kind> {
        KINDS.iter().find(|k| k.id_types.contains(&t)).map(|k| k.kind)
    }
}

/// The command line names kinds as reports do.
impl clap::ValueEnum for Kind {
    fn value_variants<'a>() -> &'a [Self] {
        &Kind::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// The identity of an entity: the UUID its IDs end with. Standard UUIDs are held as
/// 16 bytes (a million of them fit in a few tens of MB); anything else, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Uuid {
    Std([u8; 16]),
    Other(Box<str>),
}

impl Uuid {
    pub(crate) fn parse(s: &str) -> Uuid {
        let hex: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
        let dashes_ok = s.len() == 36 && [8, 13, 18, 23].iter().all(|&i| s.as_bytes()[i] == b'-');
        if dashes_ok && hex.len() == 32 && hex.iter().all(u8::is_ascii_hexdigit) {
            let mut bytes = [0u8; 16];
            for (i, pair) in hex.chunks(2).enumerate() {
                let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                bytes[i] = digit(pair[0]) << 4 | digit(pair[1]);
            }
            Uuid::Std(bytes)
        } else {
            Uuid::Other(s.to_ascii_lowercase().into())
        }
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uuid::Std(b) => f.write_str(std::str::from_utf8(&uuid_text(b)).unwrap_or("")),
            Uuid::Other(s) => f.write_str(s),
        }
    }
}

/// A Webex ID as written, with its decoded kind and identity.
///
/// Equality is identity: two spellings of one entity are equal. An ID in the canonical
/// spelling with a standard UUID (every ID the API returns, every ID `export` writes)
/// is 32 bytes and no text; its spelling is made again when a request or a report
/// needs it. Anything else keeps its spelling as written.
#[derive(Debug, Clone)]
pub(crate) struct WebexId {
    /// The UUID, when it is a standard one.
    bytes: [u8; 16],
    kind: IdKind,
    odd: Option<Box<Odd>>,
}

/// What a compact ID cannot say.
#[derive(Debug, Clone)]
struct Odd {
    /// The spelling as written (not the canonical one, or a UUID that is not standard).
    spelling: Box<str>,
    /// The UUID when it is not a standard one, lower-cased.
    uuid: Option<Box<str>>,
}

impl PartialEq for WebexId {
    fn eq(&self, other: &Self) -> bool {
        self.odd_uuid() == other.odd_uuid() && self.bytes == other.bytes
    }
}

impl Eq for WebexId {}

impl WebexId {
    /// Decode any spelling of a Webex ID; `None` when it is not one.
    pub(crate) fn parse(raw: &str) -> Option<WebexId> {
        let spelling = raw.trim();
        decoded(spelling, |kind, uuid| WebexId::new(spelling, IdKind::parse(kind), kind, Uuid::parse(uuid)))
    }

    fn new(spelling: &str, kind: IdKind, kind_text: &str, uuid: Uuid) -> WebexId {
        match uuid {
            Uuid::Std(bytes) => {
                let canonical = kind_text == kind.as_str() && canonical(kind, &bytes, |c| c == spelling);
                let odd = (!canonical).then(|| Box::new(Odd { spelling: spelling.into(), uuid: None }));
                WebexId { bytes, kind, odd }
            }
            Uuid::Other(uuid) => WebexId {
                bytes: [0; 16],
                kind,
                odd: Some(Box::new(Odd { spelling: spelling.into(), uuid: Some(uuid) })),
            },
        }
    }

    /// The TYPE an ID says it is, as written in it (for a message about an odd one).
    pub(crate) fn type_name(raw: &str) -> Option<String> {
        decoded(raw.trim(), |kind, _| kind.to_string())
    }

    /// An ID the API returned. It always decodes in practice; if one did not, its whole
    /// spelling stands in for the UUID, so two undecodable IDs still compare as strings.
    pub(crate) fn from_api(raw: &str) -> WebexId {
        WebexId::parse(raw).unwrap_or_else(|| {
            let raw = raw.trim();
            WebexId::new(raw, IdKind::Other, "", Uuid::Other(raw.into()))
        })
    }

    /// The ID as written (the canonical spelling, made again, for a compact one).
    pub(crate) fn spelling(&self) -> Cow<'_, str> {
        match &self.odd {
            Some(odd) => Cow::Borrowed(&odd.spelling),
            None => Cow::Owned(canonical(self.kind, &self.bytes, str::to_owned)),
        }
    }

    /// Whether `text` is this ID's spelling (no text made for it).
    pub(crate) fn spelled_as(&self, text: &str) -> bool {
        match &self.odd {
            Some(odd) => *odd.spelling == *text,
            None => canonical(self.kind, &self.bytes, |c| c == text),
        }
    }

    pub(crate) fn kind(&self) -> IdKind {
        self.kind
    }

    pub(crate) fn uuid(&self) -> Uuid {
        match self.odd_uuid() {
            Some(other) => Uuid::Other(other.into()),
            None => Uuid::Std(self.bytes),
        }
    }

    fn odd_uuid(&self) -> Option<&str> {
        self.odd.as_ref()?.uuid.as_deref()
    }

    /// The canonical spelling: unpadded base64 of `ciscospark://us/<TYPE>/<uuid>`.
    pub(crate) fn encode(kind: IdKind, uuid: &str) -> String {
        STANDARD_NO_PAD.encode(format!("ciscospark://us/{}/{}", kind.as_str(), uuid))
    }
}

/// A standard UUID as text, lower-case with its four dashes, on the stack.
fn uuid_text(bytes: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [0u8; 36];
    let mut n = 0;
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text[n] = b'-';
            n += 1;
        }
        text[n] = HEX[usize::from(byte >> 4)];
        text[n + 1] = HEX[usize::from(byte & 15)];
        n += 2;
    }
    text
}

/// The canonical spelling of a standard UUID's ID, made on the stack and handed to `f`:
/// a big run spells IDs millions of times.
fn canonical<T>(kind: IdKind, bytes: &[u8; 16], f: impl FnOnce(&str) -> T) -> T {
    // `ciscospark://us/` + the longest TYPE (15) + `/` + 36
    let mut text = [0u8; 68];
    let mut n = 0;
    for part in [&b"ciscospark://us/"[..], kind.as_str().as_bytes(), b"/", &uuid_text(bytes)] {
        text[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    let mut out = [0u8; 92];
    let len = STANDARD_NO_PAD.encode_slice(&text[..n], &mut out).unwrap_or(0);
    f(std::str::from_utf8(&out[..len]).unwrap_or(""))
}

/// Decode `ciscospark://<cluster>/<TYPE>/<uuid>` from any base64 spelling and hand its
/// TYPE and UUID to `f`.
fn decoded<T>(spelling: &str, f: impl FnOnce(&str, &str) -> T) -> Option<T> {
    let trimmed = spelling.trim_end_matches('=');
    if trimmed.len() < 20 || trimmed.len() > 256 {
        return None;
    }
    // decode on the stack: this runs for every row of files with millions of rows
    let mut buf = [0u8; 192];
    let n = STANDARD_NO_PAD
        .decode_slice(trimmed, &mut buf)
        .or_else(|_| URL_SAFE_NO_PAD.decode_slice(trimmed, &mut buf))
        .ok()?;
    let text = std::str::from_utf8(&buf[..n]).ok()?;
    let rest = text.strip_prefix("ciscospark://")?;
    let mut parts = rest.rsplit('/');
    let uuid = parts.next()?;
    let kind = parts.next()?;
    // at least the cluster segment must precede TYPE/uuid
    parts.next()?;
    let uuid_ok = !uuid.is_empty() && uuid.len() <= 64 && uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (uuid_ok && !kind.is_empty()).then(|| f(kind, uuid))
}

impl fmt::Display for WebexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spelling())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    const UUID: &str = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    #[test]
    fn round_trip_and_spellings_compare_by_uuid() {
        let id = WebexId::encode(IdKind::People, UUID);
        assert!(!id.ends_with('='));
        let d = WebexId::parse(&id).unwrap();
        assert_eq!(d.kind(), IdKind::People);
        assert_eq!(d.uuid().to_string(), UUID);
        assert!(matches!(d.uuid(), Uuid::Std(_)), "a standard UUID is held as 16 bytes");
        assert_eq!(d.spelling(), id, "the spelling is kept");
        assert!(d.odd.is_none(), "a canonical ID keeps no text");
        assert!(d.spelled_as(&id) && !d.spelled_as(&format!("{id}=")));
        for kind in [IdKind::VirtualProfile, IdKind::Organization, IdKind::HuntGroup] {
            let long = WebexId::encode(kind, UUID);
            assert_eq!(WebexId::parse(&long).unwrap().spelling(), long, "{kind:?}");
        }
        let padded = STANDARD.encode(format!("ciscospark://us/PEOPLE/{UUID}"));
        let team = STANDARD_NO_PAD.encode(format!("ciscospark://urn:TEAM:us-east-2_a/PEOPLE/{}", UUID.to_uppercase()));
        assert_eq!(d, WebexId::parse(&padded).unwrap());
        assert_eq!(d, WebexId::parse(&team).unwrap());
        for odd in [&padded, &team] {
            assert_eq!(WebexId::parse(odd).unwrap().spelling(), odd.as_str(), "an odd spelling is kept as written");
        }
        let lower_kind = STANDARD_NO_PAD.encode(format!("ciscospark://us/people/{UUID}"));
        assert_eq!(WebexId::parse(&lower_kind).unwrap().spelling(), lower_kind);
        assert_ne!(d, WebexId::parse(&WebexId::encode(IdKind::People, "other")).unwrap());
        assert_eq!(Uuid::parse("Other"), Uuid::Other("other".into()));
    }

    #[test]
    fn rejects_non_ids_and_keeps_api_ids_anyway() {
        assert!(WebexId::parse("alice@example.com").is_none());
        assert!(WebexId::parse("+14085550101").is_none());
        assert!(WebexId::parse(&STANDARD_NO_PAD.encode("https://example.com/PEOPLE/x")).is_none());
        assert!(WebexId::parse("").is_none());
        let odd = WebexId::from_api("not-an-id");
        assert_eq!(odd.spelling(), "not-an-id");
        assert_eq!(odd, WebexId::from_api(" not-an-id "));
        assert_ne!(odd, WebexId::from_api("another"));
    }

    #[test]
    fn kinds() {
        let ws = WebexId::encode(IdKind::Place, UUID);
        assert_eq!(WebexId::parse(&ws).unwrap().kind(), IdKind::Place);
        assert!(IdKind::HuntGroup.is_member());
        assert!(!IdKind::Location.is_member());
        // virtual lines decode to VIRTUAL_PROFILE in the API's examples; VIRTUAL_LINE too
        let vp = WebexId::parse(&WebexId::encode(IdKind::VirtualProfile, UUID)).unwrap();
        assert_eq!(Kind::of_id(vp.kind()), Some(Kind::VirtualLine));
        assert_eq!(Kind::of_id(IdKind::VirtualLine), Some(Kind::VirtualLine));
        assert_eq!(Kind::of_id(IdKind::HuntGroup), None);
        for (s, k) in [("Person", Kind::Person), ("PLACE", Kind::Workspace), ("virtual_profile", Kind::VirtualLine)] {
            assert_eq!(Kind::parse(s), Some(k), "{s}");
        }
        assert_eq!(Kind::parse("hunt_group"), None);
        let odd = STANDARD_NO_PAD.encode(format!("ciscospark://us/AUTO_ATTENDANT/{UUID}"));
        assert_eq!(WebexId::type_name(&odd).as_deref(), Some("AUTO_ATTENDANT"));
    }
}
