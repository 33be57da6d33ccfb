//! `POST /v1/access_token`: the OAuth refresh grant of integrations and service apps, on
//! the simulator's own clock (`POST /_sim/clock` moves it). A refresh mints an access
//! token with the scopes and orgs of the client's fixture token, living
//! `--access-token-ttl`; it extends the refresh token's life to `--refresh-token-ttl`
//! from now and, with `--rotate-refresh-tokens`, replaces its value.

use super::fixture::{ClientSpec, TokenSpec};
use super::world::World;
use crate::wire::AccessToken;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Lifetimes Webex has been seen to give (webex-api.md): 14 days and 90 days.
pub(crate) const ACCESS_TOKEN_TTL_SECS: u64 = 1_209_600;
pub(crate) const REFRESH_TOKEN_TTL_SECS: u64 = 7_776_000;

/// How the simulator's token endpoint mints tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenPolicy {
    pub access_ttl: u64,
    pub refresh_ttl: u64,
    /// Every refresh answers a new refresh token.
    pub rotate: bool,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy { access_ttl: ACCESS_TOKEN_TTL_SECS, refresh_ttl: REFRESH_TOKEN_TTL_SECS, rotate: false }
    }
}

/// The simulator's clock, for every expiry: this machine's, moved forward by
/// `POST /_sim/clock` (it never goes back, not even on a reset).
#[derive(Debug)]
pub(crate) struct Clock {
    started: u64,
    offset: AtomicU64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { started: system_now(), offset: AtomicU64::new(0) }
    }
}

fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Clock {
    /// Unix seconds on the simulator's clock.
    pub(crate) fn now(&self) -> u64 {
        system_now() + self.offset.load(Ordering::Acquire)
    }

    pub(crate) fn advance(&self, secs: u64) {
        self.offset.fetch_add(secs, Ordering::AcqRel);
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset.load(Ordering::Acquire)
    }

    /// When a refresh token without a recorded expiry (a fixture's) expires.
    fn first_expiry(&self, policy: &TokenPolicy) -> u64 {
        self.started + policy.refresh_ttl
    }
}

/// The form of a refresh (`application/x-www-form-urlencoded`).
#[derive(Debug, Default)]
pub(crate) struct RefreshForm {
    grant_type: String,
    client_id: String,
    client_secret: String,
    refresh_token: String,
}

impl RefreshForm {
    pub(crate) fn parse(body: &[u8]) -> RefreshForm {
        let mut f = RefreshForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let slot = match k.as_ref() {
                "grant_type" => &mut f.grant_type,
                "client_id" => &mut f.client_id,
                "client_secret" => &mut f.client_secret,
                "refresh_token" => &mut f.refresh_token,
                _ => continue,
            };
            *slot = v.into_owned();
        }
        f
    }
}

/// Why a refresh is refused (400 with a Webex error body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error("unsupported grant_type `{0}`; expected refresh_token")]
    GrantType(String),
    #[error("invalid client_id or client_secret")]
    Client,
    #[error("the refresh token is invalid or has been revoked")]
    UnknownRefreshToken,
    #[error("the refresh token has expired")]
    Expired,
}

/// One refresh: the client's credentials and refresh token checked, a new access token
/// minted into the world, the refresh token extended (or rotated). `fresh` makes a new
/// token value from a prefix.
pub(crate) fn refresh(
    world: &mut World,
    form: &RefreshForm,
    clock: &Clock,
    policy: &TokenPolicy,
    mut fresh: impl FnMut(&str) -> String,
) -> Result<AccessToken, Refusal> {
    if form.grant_type != "refresh_token" {
        return Err(Refusal::GrantType(form.grant_type.clone()));
    }
    let now = clock.now();
    let first_expiry = clock.first_expiry(policy);
    let c = world.clients.iter_mut().find(|c| c.client_id == form.client_id).ok_or(Refusal::Client)?;
    if c.client_secret != form.client_secret {
        return Err(Refusal::Client);
    }
    let expires = *c.refresh_token_expires_at.get_or_insert(first_expiry);
    if form.refresh_token != c.refresh_token && !c.earlier_refresh_tokens.contains(&form.refresh_token) {
        return Err(Refusal::UnknownRefreshToken);
    }
    if now >= expires {
        return Err(Refusal::Expired);
    }
    rotated_or_extended(c, &form.refresh_token, now, policy, &mut fresh);
    let (template, refresh_token) = (c.token.clone(), c.refresh_token.clone());
    let refresh_expires = c.refresh_token_expires_at.unwrap_or(now);
    let spec = world.token_spec(&template).ok_or(Refusal::Client)?;
    let access_token = fresh("SIM_AT");
    world.forget_expired(now);
    let minted = TokenSpec { token: access_token.clone(), expires_at: Some(now + policy.access_ttl), ..spec };
    world.set_token(minted).map_err(|_| Refusal::Client)?;
    Ok(AccessToken {
        access_token,
        expires_in: policy.access_ttl,
        refresh_token: Some(refresh_token),
        refresh_token_expires_in: Some(refresh_expires.saturating_sub(now)),
        token_type: Some("Bearer".into()),
    })
}

/// A refresh token in use lives on. Rotated, a value stays valid until a newer one is
/// used: the server cannot know which answer the client saved (it may have been stopped
/// before saving one, or a request of a stopped client may arrive late), but a client
/// that uses a value has saved it, and holds nothing older. [guess: Webex does not say
/// what happens to a rotated-out value]
fn rotated_or_extended(
    c: &mut ClientSpec,
    used: &str,
    now: u64,
    policy: &TokenPolicy,
    fresh: impl FnOnce(&str) -> String,
) {
    match c.earlier_refresh_tokens.iter().position(|t| t == used) {
        Some(i) => drop(c.earlier_refresh_tokens.drain(..i)),
        None => c.earlier_refresh_tokens.clear(), // the newest was used
    }
    c.refresh_token_expires_at = Some(now + policy.refresh_ttl);
    if policy.rotate {
        let old = std::mem::replace(&mut c.refresh_token, fresh("SIM_RT"));
        c.earlier_refresh_tokens.push(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::FixtureFile;

    fn world() -> World {
        let mut f: FixtureFile = serde_json::from_str(crate::sim::SAMPLE_ORG).unwrap();
        let FixtureFile::Single(org) = &mut f else { panic!("single") };
        org.clients = vec![ClientSpec {
            client_id: "C".into(),
            client_secret: "S".into(),
            refresh_token: "R0".into(),
            token: "admin-token".into(),
            ..Default::default()
        }];
        World::new(f).unwrap()
    }

    fn form(secret: &str, refresh: &str) -> RefreshForm {
        RefreshForm::parse(
            format!("grant_type=refresh_token&client_id=C&client_secret={secret}&refresh_token={refresh}").as_bytes(),
        )
    }

    #[test]
    fn a_refresh_mints_an_expiring_token_and_extends_the_refresh_token() {
        let (mut w, clock) = (world(), Clock::default());
        let policy = TokenPolicy { access_ttl: 100, refresh_ttl: 1000, rotate: false };
        let mut n = 0;
        let mut fresh = |p: &str| {
            n += 1;
            format!("{p}{n}")
        };
        let a = refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh).unwrap();
        assert_eq!((a.expires_in, a.refresh_token.as_deref()), (100, Some("R0")));
        assert_eq!(a.refresh_token_expires_in, Some(1000));
        let g = w.grant(&a.access_token).unwrap();
        assert_eq!(g.expires_at, Some(clock.now() + 100));
        assert!(g.scopes.iter().any(|s| s == "spark-admin:telephony_config_write"), "the client token's scopes");
        assert_eq!(refresh(&mut w, &form("wrong", "R0"), &clock, &policy, &mut fresh), Err(Refusal::Client));
        assert_eq!(refresh(&mut w, &form("S", "R9"), &clock, &policy, &mut fresh), Err(Refusal::UnknownRefreshToken));
        clock.advance(999);
        assert!(refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh).is_ok(), "used in time: extended");
        clock.advance(1000);
        assert_eq!(refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh), Err(Refusal::Expired));
        assert!(w.grant(&a.access_token).is_none(), "expired minted tokens are forgotten");
    }

    #[test]
    fn a_rotated_value_works_until_the_new_one_is_used() {
        let (mut w, clock) = (world(), Clock::default());
        let policy = TokenPolicy { rotate: true, ..TokenPolicy::default() };
        let mut n = 0;
        let mut fresh = |p: &str| {
            n += 1;
            format!("{p}{n}")
        };
        let first = refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh).unwrap();
        let new = first.refresh_token.unwrap();
        assert_ne!(new, "R0");
        // killed before the new value was saved: the old one still refreshes, and the
        // value the first answer gave still works too (that client may have saved it)
        let again = refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh).unwrap();
        let newer = again.refresh_token.unwrap();
        let third = refresh(&mut w, &form("S", &new), &clock, &policy, &mut fresh).unwrap();
        // a newer value used: what was issued before it is gone, what came after stays
        assert_eq!(refresh(&mut w, &form("S", "R0"), &clock, &policy, &mut fresh), Err(Refusal::UnknownRefreshToken));
        assert!(refresh(&mut w, &form("S", &newer), &clock, &policy, &mut fresh).is_ok());
        let newest = third.refresh_token.unwrap();
        refresh(&mut w, &form("S", &newest), &clock, &policy, &mut fresh).unwrap();
        for gone in [&new, &newer] {
            assert_eq!(
                refresh(&mut w, &form("S", gone), &clock, &policy, &mut fresh),
                Err(Refusal::UnknownRefreshToken)
            );
        }
    }
}
