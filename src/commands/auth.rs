//! `auth status [--check]`: where the run's token comes from and when it expires, from
//! the configuration and the token cache alone (no request); `--check` adds one
//! `GET /people/me` (after a refresh, when the grant's token needs one) and says whom
//! the token acts for. No secret is printed: only where each one is kept.

use super::api::Api;
use crate::cli::AuthStatusArgs;
use crate::config::{Credentials, SecretFrom, Settings};
use crate::error::{Error, Outcome};
use crate::webex::TokenSource;
use crate::webex::auth::cache::{GrantStatus, unix_now, when};
use crate::webex::auth::files::readable_by_others;
use std::fmt::Write as _;
use std::path::Path;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(a: &AuthStatusArgs, s: &Settings, interrupt: CancellationToken) -> Result<Outcome, Error> {
    let now = unix_now();
    print!("{}", describe(s, now));
    // the token must load as a run would load it (exit 78 naming what is missing)
    if !s.sandbox {
        TokenSource::load(&s.credentials)?;
    }
    if let Credentials::Grant(g) = &s.credentials
        && let Some(w) = GrantStatus::read(g).warning(now, g.warn_within)
    {
        tracing::warn!("{w}");
    }
    if a.check {
        let api = Api::connect(s, interrupt.child_token()).await?;
        let call = api.client.me().await;
        let fatal = api.client.transport().fatal();
        api.close().await;
        match (call.result, fatal) {
            (Ok(me), _) => {
                let email = me.emails.first().map(|e| format!(" <{e}>")).unwrap_or_default();
                println!("acts for:        {}{email}, org {}", me.display_name, me.org_id);
            }
            (Err(_), Some(f)) => return Err(Error::Api(f)),
            (Err(_), None) if interrupt.is_cancelled() => return Err(Error::Interrupted),
            (Err(e), None) => return Err(anyhow::anyhow!("GET /people/me: {e}").into()),
        }
    }
    Ok(Outcome::Clean)
}

/// What the settings and the cache say of the token, a line per fact.
fn describe(s: &Settings, now: u64) -> String {
    let mut out = String::new();
    let w = &mut out;
    if s.sandbox {
        let _ = writeln!(w, "token:           the sandbox's own (no account needed)");
        return out;
    }
    match &s.credentials {
        Credentials::Fixed { token_env, token_file: Some(f) } => {
            let _ = writeln!(w, "token:           fixed, from the file {}{}", f.display(), mode(f));
            let _ = writeln!(w, "                 ({token_env} is not read)");
            let _ = writeln!(
                w,
                "expires:         unknown: a fixed token carries no expiry (a developer-portal token lives 12 hours)"
            );
        }
        Credentials::Fixed { token_env, token_file: None } => {
            let set = std::env::var_os(token_env).is_some_and(|v| !v.is_empty());
            let _ = writeln!(
                w,
                "token:           fixed, from the variable {token_env} ({})",
                if set { "set" } else { "not set" }
            );
            let _ = writeln!(
                w,
                "expires:         unknown: a fixed token carries no expiry (a developer-portal token lives 12 hours)"
            );
        }
        Credentials::Grant(g) => {
            let _ = writeln!(w, "token:           refresh grant of the integration or service app {}", g.client_id);
            let secret = match &g.secret {
                SecretFrom::Env(var) => format!("the variable {var}"),
                SecretFrom::File(f) => format!("the file {}{}", f.display(), mode(f)),
            };
            let _ = writeln!(w, "client secret:   {secret}");
            let _ = writeln!(
                w,
                "refresh token:   the file {}{}",
                g.refresh_token_file.display(),
                mode(&g.refresh_token_file)
            );
            let _ = writeln!(w, "token cache:     {}{}", g.cache_file.display(), mode(&g.cache_file));
            let _ = writeln!(w, "token URL:       {}", g.token_url);
            let st = GrantStatus::read(g);
            let never = "no cached token yet: the next run refreshes";
            let at = |t: Option<u64>| t.map_or_else(|| never.to_string(), |t| when(t, now));
            let _ = writeln!(w, "access token:    expires {}", at(st.access_token_expires_at));
            let refresh = match (st.refresh_token_expires_at, st.access_token_expires_at) {
                (Some(t), _) => format!("expires {}", when(t, now)),
                (None, Some(_)) => "expiry unknown (the token endpoint did not say)".to_string(),
                (None, None) => never.to_string(),
            };
            let _ = writeln!(w, "refresh token:   {refresh}");
            if let Some(t) = st.refreshed_at {
                let _ = writeln!(w, "last refresh:    {}", when(t, now));
            }
            let margin = g.margin.as_secs();
            let _ = writeln!(w, "refreshes when:  less than {margin} s of the access token's life is left");
        }
    }
    out
}

/// ` (mode 0600)` of a file, and a word when group or others may read it.
fn mode(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if readable_by_others(path).is_some() => {
            format!(" (mode {:04o}: readable by group or others; chmod 600 it)", m.permissions().mode() & 0o7777)
        }
        Ok(m) => format!(" (mode {:04o})", m.permissions().mode() & 0o7777),
        Err(_) => " (not there)".to_string(),
    }
}
