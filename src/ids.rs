//! Webex IDs: unpadded base64 of `ciscospark://<cluster>/<TYPE>/<uuid>`.
//!
//! The same entity can come back in several spellings (padded, URL-safe alphabet,
//! `urn:TEAM:<cluster>` instead of `us`), so IDs are always compared by the decoded
//! trailing UUID and never as strings.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The entity types that appear in the IDs this tool handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    People,
    Place,
    VirtualLine,
    HuntGroup,
    Location,
    Organization,
    Other,
}

impl IdKind {
    pub fn parse(s: &str) -> IdKind {
        match s.to_ascii_uppercase().as_str() {
            "PEOPLE" => IdKind::People,
            "PLACE" => IdKind::Place,
            "VIRTUAL_LINE" => IdKind::VirtualLine,
            "HUNT_GROUP" => IdKind::HuntGroup,
            "LOCATION" => IdKind::Location,
            "ORGANIZATION" => IdKind::Organization,
            _ => IdKind::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::People => "PEOPLE",
            IdKind::Place => "PLACE",
            IdKind::VirtualLine => "VIRTUAL_LINE",
            IdKind::HuntGroup => "HUNT_GROUP",
            IdKind::Location => "LOCATION",
            IdKind::Organization => "ORGANIZATION",
            IdKind::Other => "OTHER",
        }
    }

    /// Kinds that can be the target of a LOCATION_MEMBER_NUMBER ECBN.
    pub fn is_member(self) -> bool {
        matches!(
            self,
            IdKind::People | IdKind::Place | IdKind::VirtualLine | IdKind::HuntGroup
        )
    }
}

/// A decoded Webex ID: its type and its lower-cased UUID (the identity).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebexId {
    pub kind: IdKind,
    pub uuid: String,
}

impl WebexId {
    /// Decode any spelling of a Webex ID; `None` when it is not one.
    pub fn decode(raw: &str) -> Option<WebexId> {
        let trimmed = raw.trim().trim_end_matches('=');
        if trimmed.len() < 20 {
            return None;
        }
        // decode on the stack: this runs for every row of files with millions of rows
        let mut buf = [0u8; 192];
        if trimmed.len() > 256 {
            return None;
        }
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
        let uuid_ok = !uuid.is_empty()
            && uuid.len() <= 64
            && uuid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !uuid_ok || kind.is_empty() {
            return None;
        }
        Some(WebexId {
            kind: IdKind::parse(kind),
            uuid: uuid.to_ascii_lowercase(),
        })
    }

    /// The canonical spelling: unpadded base64 of `ciscospark://us/<TYPE>/<uuid>`.
    pub fn encode(kind: IdKind, uuid: &str) -> String {
        STANDARD_NO_PAD.encode(format!("ciscospark://us/{}/{}", kind.as_str(), uuid))
    }
}

/// The UUID of an ID, or the trimmed raw string when it does not decode (so two
/// undecodable spellings still compare as strings rather than all being equal).
pub fn identity(raw: &str) -> String {
    WebexId::decode(raw)
        .map(|id| id.uuid)
        .unwrap_or_else(|| raw.trim().to_string())
}

/// Whether two ID spellings name the same entity.
pub fn same_entity(a: &str, b: &str) -> bool {
    identity(a) == identity(b)
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
        let d = WebexId::decode(&id).unwrap();
        assert_eq!(d.kind, IdKind::People);
        assert_eq!(d.uuid, UUID);
        let padded = STANDARD.encode(format!("ciscospark://us/PEOPLE/{UUID}"));
        let team = STANDARD_NO_PAD.encode(format!(
            "ciscospark://urn:TEAM:us-east-2_a/PEOPLE/{}",
            UUID.to_uppercase()
        ));
        assert!(same_entity(&id, &padded));
        assert!(same_entity(&id, &team));
        assert!(!same_entity(&id, &WebexId::encode(IdKind::People, "other")));
    }

    #[test]
    fn rejects_non_ids() {
        assert!(WebexId::decode("alice@example.com").is_none());
        assert!(WebexId::decode("+14085550101").is_none());
        assert!(WebexId::decode(&STANDARD_NO_PAD.encode("https://example.com/PEOPLE/x")).is_none());
        assert!(WebexId::decode("").is_none());
    }

    #[test]
    fn kinds() {
        let ws = WebexId::encode(IdKind::Place, UUID);
        assert_eq!(WebexId::decode(&ws).unwrap().kind, IdKind::Place);
        assert!(IdKind::HuntGroup.is_member());
        assert!(!IdKind::Location.is_member());
    }
}
