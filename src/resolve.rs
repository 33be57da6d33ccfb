//! Emails and phone numbers to IDs, with the fewest requests: up to 20 distinct emails →
//! one `/people?email=` each; more → one paged listing. An email resolves only when
//! exactly one person has it. Phone-number targets → one `availableNumbers?phoneNumber=`
//! per row, which also proves the number is a valid ECBN target (active, same location).

use crate::ids::{Uuid, WebexId};
use crate::phone;
use crate::report::names;
use crate::row::{
    Desired, Email, Failure, Field, Found, FoundNumber, LookedUp, MemberRef, Problem, Resolved, Row, RowErrors, Rows,
    Setting, TargetRef, Trail, Unresolved,
};
use crate::webex::{ApiError, Client, Tally};
use crate::wire::{AvailableNumbers, Person, number_quality};
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};

/// At most this many distinct emails are looked up one by one.
pub(crate) const EMAIL_LOOKUP_MAX: usize = 20;

/// Why an email did not resolve to one person.
#[derive(Debug)]
pub(crate) enum NotFound {
    Unknown,
    Ambiguous(usize),
    Failed(ApiError),
    Stopped,
}

/// What the API says of each email asked about: the people who have it.
pub(crate) struct EmailBook {
    people: HashMap<Email, Result<Vec<Person>, ApiError>>,
    /// What each email's own look-up cost; none when a listing served them all (a
    /// listing is made for the whole file, not for a row).
    asked: HashMap<Email, Tally>,
    /// The run stopped (a signal, a 401) during the look-ups: none of them counts.
    stopped: bool,
}

impl EmailBook {
    pub(crate) async fn look_up(client: &Client, emails: BTreeSet<Email>, concurrency: usize) -> EmailBook {
        let (mut book, mut asked) = (HashMap::new(), HashMap::new());
        if emails.len() <= EMAIL_LOOKUP_MAX {
            let mut s = futures_util::stream::iter(emails)
                .map(|e| async move {
                    let call = client.people_by_email(e.as_str()).await;
                    (e, call.tally(), call.result.map(|list| list.items))
                })
                .buffer_unordered(concurrency.max(1));
            while let Some((e, tally, people)) = s.next().await {
                asked.insert(e.clone(), tally);
                book.insert(e, people);
            }
            return EmailBook { people: book, asked, stopped: client.transport().stopped() };
        }
        book.extend(emails.into_iter().map(|e| (e, Ok(Vec::new()))));
        if let Err(err) = client.people_listing(None, |p| note_person(&mut book, p)).await {
            for v in book.values_mut() {
                *v = Err(err.clone());
            }
        }
        EmailBook { people: book, asked, stopped: client.transport().stopped() }
    }

    /// Book on a row the look-ups of its emails (a look-up shared by rows counts in each).
    fn account(&self, d: &Desired, trail: &mut Trail) {
        for e in d.emails() {
            if let Some(&tally) = self.asked.get(e) {
                trail.account(tally);
            }
        }
    }

    /// The one person who has `email` (compared case-insensitively and exactly).
    pub(crate) fn person(&self, email: &Email) -> Result<&Person, NotFound> {
        if self.stopped {
            return Err(NotFound::Stopped);
        }
        match self.people.get(email) {
            Some(Ok(people)) => {
                let mut matching =
                    people.iter().filter(|p| p.emails.iter().any(|x| x.eq_ignore_ascii_case(email.as_str())));
                match (matching.next(), matching.count()) {
                    (Some(p), 0) => Ok(p),
                    (Some(_), more) => Err(NotFound::Ambiguous(more + 1)),
                    (None, _) => Err(NotFound::Unknown),
                }
            }
            Some(Err(ApiError::Cancelled)) | None => Err(NotFound::Stopped),
            Some(Err(e)) => Err(NotFound::Failed(e.clone())),
        }
    }

    /// The person's ID and how a person reads them (`Ana Silva <ana@…>`).
    fn id(&self, email: &Email, field: Field) -> Result<(WebexId, Box<str>), Unresolved> {
        let p = self.person(email).map_err(|why| not_found(why, email, field))?;
        let name = p
            .display_name
            .clone()
            .map(Box::from)
            .or_else(|| names::full_name(p.first_name.as_deref(), p.last_name.as_deref()));
        let label = match name {
            Some(n) => names::target(&n, Some(email.as_str()), None).into(),
            None => email.as_str().into(),
        };
        Ok((WebexId::from_api(&p.id), label))
    }
}

fn note_person(book: &mut HashMap<Email, Result<Vec<Person>, ApiError>>, p: Person) {
    for e in &p.emails {
        if let Some(Ok(v)) = book.get_mut(&Email::new(e)) {
            v.push(p.clone());
        }
    }
}

/// A look-up that found no single person: the file's fault, the API's, or a stop.
pub(crate) fn not_found(why: NotFound, email: &Email, field: Field) -> Unresolved {
    let invalid = |problem| Unresolved::Invalid(RowErrors::one(field, problem));
    match why {
        NotFound::Unknown => invalid(Problem::UnknownEmail(email.clone())),
        NotFound::Ambiguous(matches) => invalid(Problem::AmbiguousEmail { email: email.clone(), matches }),
        NotFound::Failed(error) => {
            Unresolved::Failed(Failure::Lookup { field, subject: LookedUp::Email(email.clone()), error })
        }
        NotFound::Stopped => Unresolved::Stopped,
    }
}

/// What a phone-number target resolved to and what its look-up cost, by the row's
/// position in the file.
type PhoneTargets = HashMap<usize, (Result<(WebexId, Found), Unresolved>, Tally)>;

/// Resolve every row's emails and phone numbers; rows keep their order.
pub(crate) async fn resolve(
    client: &Client,
    rows: Rows<Row<Desired>>,
    concurrency: usize,
) -> Rows<Row<Result<Resolved, Unresolved>>> {
    let emails: BTreeSet<Email> = rows.iter().flat_map(|r| r.stage.emails()).cloned().collect();
    let book = EmailBook::look_up(client, emails, concurrency).await;
    let mut phones = look_up_phones(client, &rows, &book, concurrency).await;
    let rows = rows.into_iter().enumerate().map(|(i, mut r)| {
        // the row's look-ups count among its attempts, as its other requests do
        book.account(&r.stage, &mut r.trail);
        let phone = phones.remove(&i).map(|(target, tally)| {
            r.trail.account(tally);
            target
        });
        r.map(|d| resolved(d, &book, phone))
    });
    rows.collect()
}

/// The row's member by ID.
fn member_id(d: &Desired, book: &EmailBook) -> Result<WebexId, Unresolved> {
    match &d.member {
        MemberRef::Id(id) => Ok(id.clone()),
        MemberRef::Email(e) => book.id(e, Field::Member).map(|(id, _)| id),
    }
}

/// The row with its member and target by ID; `phone`: what its phone-number target
/// resolved to (none when the run stopped before the look-up).
fn resolved(
    d: Desired,
    book: &EmailBook,
    phone: Option<Result<(WebexId, Found), Unresolved>>,
) -> Result<Resolved, Unresolved> {
    let member = member_id(&d, book)?;
    let (setting, found) = match d.setting {
        Setting::DirectLine => (Setting::DirectLine, None),
        Setting::LocationEcbn => (Setting::LocationEcbn, None),
        Setting::LocationNumber => (Setting::LocationNumber, None),
        Setting::LocationMember(TargetRef::Id(id)) => (Setting::LocationMember(id), None),
        Setting::LocationMember(TargetRef::Email(e)) => {
            let (id, label) = book.id(&e, Field::LocationMember)?;
            (Setting::LocationMember(id), Some(Box::new(Found { label, number: None })))
        }
        Setting::LocationMember(TargetRef::Phone(_)) => {
            let (id, found) = phone.unwrap_or(Err(Unresolved::Stopped))?;
            (Setting::LocationMember(id), Some(Box::new(found)))
        }
    };
    Ok(Resolved { member, kind: d.kind, setting, found })
}

/// One `availableNumbers` look-up per row whose target is a phone number and whose
/// member resolved; none once the run has stopped (a signal, a 401, an outage).
async fn look_up_phones(
    client: &Client,
    rows: &Rows<Row<Desired>>,
    book: &EmailBook,
    concurrency: usize,
) -> PhoneTargets {
    if client.transport().stopped() {
        return PhoneTargets::new();
    }
    let jobs = rows.iter().enumerate().filter_map(|(i, r)| match r.stage.setting.target() {
        Some(TargetRef::Phone(number)) => Some((i, member_id(&r.stage, book).ok()?, r.stage.kind, number.clone())),
        _ => None,
    });
    let jobs: Vec<_> = jobs.collect();
    futures_util::stream::iter(jobs)
        .map(|(i, member, kind, number)| async move {
            let call = client.available_numbers(kind, &member.spelling(), &number).await;
            let tally = call.tally();
            (i, (target_of(call.result, &number), tally))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The member whose active number `number` is, among a member's valid targets, how a
/// person reads it (`Lobby Phone, workspace`; the number when the owner has no name),
/// and the number as the API wrote it.
fn target_of(answer: Result<AvailableNumbers, ApiError>, number: &str) -> Result<(WebexId, Found), Unresolved> {
    let invalid = |problem| Unresolved::Invalid(RowErrors::one(Field::LocationMember, problem));
    let list = match answer {
        Ok(list) => list,
        Err(ApiError::Cancelled) => return Err(Unresolved::Stopped),
        Err(error) => {
            let subject = LookedUp::Phone(number.into());
            return Err(Unresolved::Failed(Failure::Lookup { field: Field::LocationMember, subject, error }));
        }
    };
    let hit =
        list.phone_numbers.iter().find(|n| n.phone_number.as_deref().is_some_and(|x| phone::same_number(x, number)));
    match hit {
        Some(n) if n.state.as_deref() != Some("ACTIVE") => Err(invalid(Problem::InactiveNumber {
            number: number.into(),
            state: n.state.as_deref().unwrap_or("unknown").into(),
        })),
        Some(n) => match &n.owner {
            Some(o) => {
                let name = names::full_name(o.first_name.as_deref(), o.last_name.as_deref())
                    .or_else(|| o.display_name.clone().map(Box::from));
                let label = name
                    .map_or_else(|| number.into(), |n| names::target(&n, None, names::noun_of_type(&o.kind)).into());
                let found = FoundNumber {
                    number: n.phone_number.as_deref().unwrap_or(number).into(),
                    quality: number_quality(true, &o.kind),
                };
                Ok((WebexId::from_api(&o.id), Found { label, number: Some(found) }))
            }
            None => Err(invalid(Problem::NumberWithoutOwner(number.into()))),
        },
        None => Err(invalid(Problem::NotATarget(number.into()))),
    }
}

/// Which member is in which of `locations` (member UUID → location UUID), from the
/// paged listings of each location's people, workspaces and virtual lines: what a run
/// asks only when its file changes a location, so that the members who follow the
/// location's ECBN are predicted right. A listing that fails leaves its members out
/// (their prediction is then today's block, as without the location's row).
pub(crate) async fn members_of(client: &Client, locations: &[WebexId]) -> HashMap<Uuid, Uuid> {
    let mut of = HashMap::new();
    for loc in locations {
        let (id, u) = (loc.spelling(), loc.uuid());
        let mut note = |member: &str| {
            of.insert(WebexId::from_api(member).uuid(), u.clone());
        };
        let listed = [
            client.people_listing(Some(&id), |p| note(&p.id)).await,
            client.workspaces_listing(Some(&id), |w| note(&w.id)).await,
            client.virtual_lines_listing(Some(&id), |v| note(&v.id)).await,
        ];
        for e in listed.into_iter().filter_map(Result::err) {
            tracing::warn!(location = %id, "listing a changed location's members failed: {e}; their predictions keep today's location");
        }
    }
    of
}
