//! Every org the simulator holds, and the tokens over them. A token has a home org
//! (what a request without `orgId` acts on, as a partner admin's own org) and the orgs it
//! may manage; a request for any other org is refused (403), as the real API does.

use super::fixture::{ClientSpec, Fixture, FixtureFile, TokenSpec};
use super::org::{Org, OrgError, uuid_of};
use std::collections::BTreeMap;

/// What a token may do.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) scopes: Vec<String>,
    home: usize,
    /// `None`: every org.
    orgs: Option<Vec<usize>>,
    /// When it stops working (Unix seconds, simulator clock); `None`: never.
    pub(crate) expires_at: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) orgs: Vec<Org>,
    grants: BTreeMap<String, Grant>,
    /// The tokens as the fixture gave them (for the state file and `/_sim/state`).
    tokens: Vec<TokenSpec>,
    /// The OAuth clients of `POST /access_token` (`oauth`).
    pub(crate) clients: Vec<ClientSpec>,
    /// The fixture was the multi-org shape (the state file keeps its shape).
    several: bool,
}

impl World {
    pub(crate) fn new(file: FixtureFile) -> Result<World, OrgError> {
        let (fixtures, tokens, mut clients, several) = match file {
            FixtureFile::Orgs { orgs, tokens, clients } => (orgs, tokens, clients, true),
            FixtureFile::Single(f) => (vec![f], Vec::new(), Vec::new(), false),
        };
        let mut orgs = Vec::with_capacity(fixtures.len());
        // (token, the org that is its home unless it says otherwise)
        let mut all: Vec<(TokenSpec, usize)> = tokens.into_iter().map(|t| (t, 0)).collect();
        for mut f in fixtures {
            // an org's own tokens have it as their home
            all.extend(std::mem::take(&mut f.tokens).into_iter().map(|t| (t, orgs.len())));
            clients.append(&mut f.clients);
            orgs.push(Org::new(f)?);
        }
        if orgs.is_empty() {
            return Err(OrgError::NoOrg);
        }
        let mut w = World { orgs, grants: BTreeMap::new(), tokens: Vec::new(), clients, several };
        for (t, home) in all {
            w.grant_token(t, home)?;
        }
        if let Some(c) = w.clients.iter().find(|c| !w.grants.contains_key(&c.token)) {
            return Err(OrgError::UnknownClientToken { client: c.client_id.clone(), token: c.token.clone() });
        }
        Ok(w)
    }

    /// The index of the org with this ID (any spelling).
    fn org_index(&self, id: &str) -> Option<usize> {
        let u = uuid_of(id)?;
        self.orgs.iter().position(|o| uuid_of(&o.state.org_id).as_ref() == Some(&u))
    }

    pub(crate) fn grant(&self, token: &str) -> Option<&Grant> {
        self.grants.get(token)
    }

    /// The org a request acts on: its `orgId`, else the token's home; `None` when the
    /// token may not manage that org (or it does not exist).
    pub(crate) fn org_for(&self, grant: &Grant, org_id: Option<&str>) -> Option<usize> {
        let i = match org_id {
            None => grant.home,
            Some(id) => self.org_index(id)?,
        };
        grant.orgs.as_ref().is_none_or(|allowed| allowed.contains(&i)).then_some(i)
    }

    /// Add or change a token (`POST /_sim/tokens`); [`World::revoke`] removes one.
    pub(crate) fn set_token(&mut self, t: TokenSpec) -> Result<(), OrgError> {
        self.grant_token(t, 0)
    }

    fn grant_token(&mut self, t: TokenSpec, default_home: usize) -> Result<(), OrgError> {
        let index = |id: &String| self.org_index(id).ok_or_else(|| OrgError::UnknownOrg(id.clone()));
        let home = t.home_org_id.as_ref().map(index).transpose()?.unwrap_or(default_home);
        let orgs = t.orgs.as_ref().map(|v| v.iter().map(index).collect::<Result<Vec<_>, _>>()).transpose()?;
        self.revoke(&t.token);
        let grant = Grant { scopes: t.scopes.clone(), home, orgs, expires_at: t.expires_at };
        self.grants.insert(t.token.clone(), grant);
        self.tokens.push(t);
        Ok(())
    }

    /// A token as the fixture (or a refresh) gave it.
    pub(crate) fn token_spec(&self, token: &str) -> Option<TokenSpec> {
        self.tokens.iter().find(|t| t.token == token).cloned()
    }

    /// Drop the tokens that expired before `now` (minted ones; the state stays small).
    pub(crate) fn forget_expired(&mut self, now: u64) {
        let expired: Vec<String> =
            self.tokens.iter().filter(|t| t.expires_at.is_some_and(|e| e <= now)).map(|t| t.token.clone()).collect();
        for t in expired {
            self.revoke(&t);
        }
    }

    pub(crate) fn revoke(&mut self, token: &str) {
        self.grants.remove(token);
        self.tokens.retain(|t| t.token != token);
    }

    /// The whole state, in the fixture's shape.
    pub(crate) fn snapshot(&self) -> FixtureFile {
        if self.several {
            let orgs = self.orgs.iter().map(|o| o.state.clone()).collect();
            FixtureFile::Orgs { orgs, tokens: self.tokens.clone(), clients: self.clients.clone() }
        } else {
            FixtureFile::Single(self.org_state(0))
        }
    }

    /// One org's state in the single-org shape (with the tokens); `orgId` absent: the first.
    pub(crate) fn org_snapshot(&self, org_id: Option<&str>) -> Option<Fixture> {
        let i = match org_id {
            None => 0,
            Some(id) => self.org_index(id)?,
        };
        Some(self.org_state(i))
    }

    /// One org's state with the world's tokens and OAuth clients.
    fn org_state(&self, i: usize) -> Fixture {
        let mut f = self.orgs[i].state.clone();
        f.tokens = self.tokens.clone();
        f.clients = self.clients.clone();
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SAMPLE_ORG;

    fn two_orgs() -> World {
        let customer: Fixture = serde_json::from_str(SAMPLE_ORG).unwrap();
        let mut partner = customer.clone();
        partner.org_id = crate::sim::org::new_id(crate::ids::IdKind::Organization, 2, 7);
        partner.locations.clear();
        partner.members.clear();
        partner.tokens.clear();
        let token = TokenSpec {
            token: "partner".into(),
            scopes: vec!["spark-admin:telephony_config_read".into()],
            home_org_id: Some(partner.org_id.clone()),
            orgs: Some(vec![partner.org_id.clone(), customer.org_id.clone()]),
            expires_at: None,
        };
        let limited = TokenSpec { token: "own-only".into(), orgs: Some(vec![partner.org_id.clone()]), ..token.clone() };
        let mut customer = customer;
        customer.tokens.clear();
        let orgs = vec![customer, partner];
        World::new(FixtureFile::Orgs { orgs, tokens: vec![token, limited], clients: vec![] }).unwrap()
    }

    #[test]
    fn a_request_acts_on_its_org_or_the_tokens_home() {
        let w = two_orgs();
        let customer = w.orgs[0].state.org_id.clone();
        let partner = w.orgs[1].state.org_id.clone();
        let g = w.grant("partner").unwrap().clone();
        assert_eq!(w.org_for(&g, None), Some(1), "no orgId: the home org");
        assert_eq!(w.org_for(&g, Some(&customer)), Some(0));
        let own = w.grant("own-only").unwrap().clone();
        assert_eq!(w.org_for(&own, Some(&customer)), None, "not an org it may manage: 403");
        assert_eq!(w.org_for(&own, Some(&partner)), Some(1));
        assert_eq!(w.org_for(&g, Some("no-such-org")), None);
        assert!(matches!(w.snapshot(), FixtureFile::Orgs { .. }));
        assert_eq!(w.org_snapshot(Some(&partner)).unwrap().org_id, partner);
    }

    #[test]
    fn a_single_org_fixture_keeps_its_shape() {
        let w = World::new(serde_json::from_str(SAMPLE_ORG).unwrap()).unwrap();
        let g = w.grant("admin-token").unwrap().clone();
        assert_eq!(w.org_for(&g, None), Some(0));
        match w.snapshot() {
            FixtureFile::Single(f) => assert_eq!(f.tokens.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
