//! The notification: after the run, one `POST /messages` with the run's Markdown summary
//! to the `[notify]` room, when `on` says so. Its own small transport (the run's is
//! closed by then): the bot's token from `notify.token_env`, else the run's; no `orgId`
//! (the space belongs to the bot's org); few, short retries, so a down API delays the
//! end of a nightly job by seconds, not minutes. A notification that cannot be sent is
//! a warning: it never changes the exit code and never touches the reports.

use super::api::transport_config;
use crate::config::{Credentials, Notify, Settings};
use crate::error::{Error, Outcome};
use crate::report::notify::About;
use crate::report::{Recorder, notify};
use crate::webex::{Client, TokenSource, Transport};
use crate::wire::MessagePost;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub(crate) async fn send(s: &Settings, n: &Notify, recorder: &Recorder, end: &Result<Outcome, Error>, about: &About) {
    let record = recorder.taken();
    if !notify::wanted(n.on, end, record.as_ref(), about) {
        return;
    }
    let markdown = notify::markdown(recorder.mode(), end, record.as_ref(), about);
    if s.sandbox {
        // the sandbox's simulator is gone by now, and the room is not the sandbox's
        tracing::info!(room = %n.room_id, "sandbox: the notification is not sent; it reads:\n{markdown}");
        return;
    }
    let body = MessagePost { room_id: Some(n.room_id.clone()), markdown: Some(markdown), text: None };
    match post(s, n, &body).await {
        Ok(()) => tracing::info!(room = %n.room_id, "notification posted"),
        Err(why) => tracing::warn!(room = %n.room_id, "the notification could not be posted: {why}"),
    }
}

async fn post(s: &Settings, n: &Notify, body: &MessagePost) -> Result<(), String> {
    let token = match &n.token_env {
        Some(var) => TokenSource::load(&Credentials::Fixed { token_env: var.clone(), token_file: None }),
        None => TokenSource::load(&s.credentials),
    }
    .map_err(|e| e.to_string())?;
    let mut config = transport_config(s, &s.base_url).map_err(|e| e.to_string())?;
    config.org_id = None;
    config.max_retries = config.max_retries.min(2);
    config.max_backoff = config.max_backoff.min(Duration::from_secs(5));
    let transport = Transport::new(config, token, CancellationToken::new()).map_err(|e| e.to_string())?;
    Client::new(Arc::new(transport)).post_message(body).await.result.map_err(|e| e.to_string())
}
