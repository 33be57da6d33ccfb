//! Resolution of emails and phone numbers to IDs, with the fewest requests: up to 20
//! distinct emails → one `/people?email=` each; more → one paged listing. Phone-number
//! targets → one `availableNumbers?phoneNumber=` per row, which also proves the number
//! is a valid ECBN target (active, same location).

use crate::desired::{PersonRef, Row, RowStatus, TargetRef};
use crate::phone;
use crate::webex::{ApiError, Client};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};

/// At most this many distinct emails are looked up one by one.
pub const EMAIL_LOOKUP_MAX: usize = 20;

fn emails_needed(rows: &[Row]) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for d in rows.iter().filter_map(Row::desired) {
        if let PersonRef::Email(e) = &d.person
            && d.person_id.is_none()
        {
            set.insert(e.clone());
        }
        if let Some(TargetRef::Email(e)) = &d.target
            && d.target_id.is_none()
        {
            set.insert(e.clone());
        }
    }
    set
}

/// email → IDs of the people with it (several = ambiguous), or the lookup's error.
type EmailMap = HashMap<String, Result<Vec<String>, String>>;

async fn lookup_emails(client: &Client, emails: &BTreeSet<String>, concurrency: usize) -> EmailMap {
    let mut map = EmailMap::new();
    if emails.is_empty() {
        return map;
    }
    if emails.len() <= EMAIL_LOOKUP_MAX {
        let mut s = futures_util::stream::iter(emails.iter().cloned())
            .map(|e| async move {
                let call = client.people_by_email(&e).await;
                (e, call)
            })
            .buffer_unordered(concurrency.max(1));
        while let Some((e, call)) = s.next().await {
            let r = call.result.map_err(|err| err.to_string()).map(|list| {
                list.items
                    .into_iter()
                    .filter(|p| p.emails.iter().any(|x| x.eq_ignore_ascii_case(&e)))
                    .map(|p| p.id)
                    .collect()
            });
            map.insert(e, r);
        }
        return map;
    }
    for e in emails {
        map.insert(e.clone(), Ok(Vec::new()));
    }
    let mut url = Some(client.people_listing_url(None));
    while let Some(u) = url.take() {
        let call = client.people_page(u).await;
        match call.result {
            Ok((list, next)) => {
                for p in list.items {
                    for e in &p.emails {
                        if let Some(Ok(v)) = map.get_mut(&e.to_lowercase()) {
                            v.push(p.id.clone());
                        }
                    }
                }
                url = next;
            }
            Err(err) => {
                let m = err.to_string();
                for v in map.values_mut() {
                    *v = Err(m.clone());
                }
            }
        }
    }
    map
}

fn pick(map: &EmailMap, email: &str, what: &str) -> Result<String, RowStatus> {
    match map.get(email) {
        Some(Ok(ids)) if ids.len() == 1 => Ok(ids[0].clone()),
        Some(Ok(ids)) if ids.is_empty() => Err(RowStatus::Invalid(format!("{what}: no person with the email `{email}`"))),
        Some(Ok(ids)) => Err(RowStatus::Invalid(format!("{what}: the email `{email}` matches {} people", ids.len()))),
        // the API did not answer: not the file's fault
        Some(Err(e)) => Err(RowStatus::Unresolved(format!("{what}: looking up `{email}` failed: {e}"))),
        None => Err(RowStatus::Unresolved(format!("{what}: `{email}` was not looked up"))),
    }
}

/// Resolve in place: rows whose email or number does not resolve become `Invalid`,
/// rows whose look-up failed (the API, not the file) become `Unresolved`.
pub async fn resolve(client: &Client, rows: &mut [Row], concurrency: usize) {
    let emails = emails_needed(rows);
    let map = lookup_emails(client, &emails, concurrency).await;
    let stopped = client.transport().stopped();
    for r in rows.iter_mut() {
        let RowStatus::Valid(d) = &mut r.status else { continue };
        if stopped {
            continue;
        }
        let mut err = None;
        if let PersonRef::Email(e) = &d.person
            && d.person_id.is_none()
        {
            match pick(&map, e, "person") {
                Ok(id) => d.person_id = Some(id),
                Err(m) => err = Some(m),
            }
        }
        if err.is_none()
            && let Some(TargetRef::Email(e)) = &d.target
            && d.target_id.is_none()
        {
            match pick(&map, e, "location_member") {
                Ok(id) => d.target_id = Some(id),
                Err(m) => err = Some(m),
            }
        }
        if let Some(status) = err {
            r.status = status;
        }
    }
    if client.transport().stopped() {
        // a stopped run (signal, 401, outage): unresolved rows are not the file's fault;
        // they stay valid and are reported `not_attempted`
        return;
    }
    resolve_phones(client, rows, concurrency).await;
}

async fn resolve_phones(client: &Client, rows: &mut [Row], concurrency: usize) {
    let jobs: Vec<(usize, String, String)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let d = r.desired()?;
            match (&d.target, &d.person_id, &d.target_id) {
                (Some(TargetRef::Phone(p)), Some(pid), None) => Some((i, pid.clone(), p.clone())),
                _ => None,
            }
        })
        .collect();
    let mut s = futures_util::stream::iter(jobs)
        .map(|(i, pid, number)| async move {
            let call = client.available_numbers(&pid, &number).await;
            (i, number, call.result)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((i, number, result)) = s.next().await {
        let outcome = match result {
            Ok(list) => {
                let hit = list
                    .phone_numbers
                    .iter()
                    .find(|n| n.phone_number.as_deref().is_some_and(|x| phone::same_number(x, &number)));
                match hit {
                    Some(n) if n.state.as_deref() != Some("ACTIVE") => Err(RowStatus::Invalid(format!(
                        "location_member: {number} is not an active number (state {})",
                        n.state.as_deref().unwrap_or("unknown")
                    ))),
                    Some(n) => n.owner.as_ref().map(|o| o.id.clone()).ok_or_else(|| {
                        RowStatus::Invalid(format!("location_member: {number} belongs to no member (a location number cannot be a member target)"))
                    }),
                    None => Err(RowStatus::Invalid(format!(
                        "location_member: {number} is not a valid ECBN target for this person (no active number of a member of their location)"
                    ))),
                }
            }
            Err(ApiError::Cancelled) => Err(RowStatus::Unresolved("location_member: not resolved: the run stopped".into())),
            Err(e) => Err(RowStatus::Unresolved(format!("location_member: looking up {number} failed: {e}"))),
        };
        let r = &mut rows[i];
        match outcome {
            Ok(id) => {
                if let RowStatus::Valid(d) = &mut r.status {
                    d.target_id = Some(id);
                }
            }
            Err(status) => r.status = status,
        }
    }
}
