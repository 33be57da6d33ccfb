//! The simulator's fixture format (also `samples/org.json` and `/_sim/state`): one
//! org with its tokens, or several orgs and the tokens over them.

use serde::{Deserialize, Serialize};

/// A fixture file, in either shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum FixtureFile {
    /// `{"orgs": [<org>, ...], "tokens": [...]}`; each org in the single-org shape.
    Orgs {
        orgs: Vec<Fixture>,
        #[serde(default)]
        tokens: Vec<TokenSpec>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        clients: Vec<ClientSpec>,
    },
    Single(Fixture),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fixture {
    pub org_id: String,
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// OAuth clients (integrations, service apps) that may refresh tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientSpec>,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default)]
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenSpec {
    pub token: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The org a request without `orgId` acts on [default: the first org].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_org_id: Option<String>,
    /// The orgs the token may manage [default: all].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orgs: Option<Vec<String>>,
    /// When the token stops working (Unix seconds on the simulator's clock); absent:
    /// never (a fixture's own tokens). Set on the access tokens a refresh mints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// An OAuth client (an integration or a service app) of `POST /access_token`: its
/// secret, its current refresh token, and the fixture token whose scopes and orgs the
/// access tokens it mints get. The keys are the OAuth spelling (`client_id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClientSpec {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// A token of the fixture: what the minted access tokens may do.
    pub token: String,
    /// When `refresh_token` stops working (Unix seconds, simulator clock); absent: the
    /// refresh token lifetime from the simulator's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<u64>,
    /// Values rotated out that still work, oldest first: those issued at or after the
    /// last one used (the client may hold any of them, if it was stopped before it
    /// saved an answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_refresh_tokens: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Location {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub main_number: Option<String>,
    #[serde(default)]
    pub ecbn: LocationEcbn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LocationEcbn {
    pub selected: String,
    #[serde(default)]
    pub location_member_id: Option<String>,
}

impl Default for LocationEcbn {
    fn default() -> Self {
        LocationEcbn { selected: "LOCATION_NUMBER".into(), location_member_id: None }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Member {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecbn: Option<MemberEcbn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberEcbn {
    pub selected: String,
    #[serde(default)]
    pub location_member_id: Option<String>,
}

impl Member {
    pub(crate) fn active_number(&self) -> Option<&str> {
        let inactive = self.number_state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("INACTIVE"));
        self.phone_number.as_deref().filter(|_| !inactive)
    }

    pub(crate) fn display(&self) -> String {
        self.display_name.clone().unwrap_or_else(|| {
            format!("{} {}", self.first_name.as_deref().unwrap_or(""), self.last_name.as_deref().unwrap_or(""))
                .trim()
                .to_string()
        })
    }
}
