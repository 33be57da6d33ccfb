//! What the simulator lists: a member's available ECBN numbers, and the people,
//! workspace and virtual-line listings, with the owner fields the published spec gives
//! each kind.

use super::{Holder, Org, uuid_of};
use crate::ids::{Kind, Uuid};
use crate::phone;
use crate::sim::fixture::Member;
use crate::wire::{
    AvailableNumber, IdName, LocationItem, NumberOwner, Person, PersonPhone, VirtualLine, VirtualLineNumber, Workspace,
    WorkspaceCalling,
};

#[derive(Debug, Default)]
pub(crate) struct PeopleQuery {
    pub(crate) email: Option<String>,
    pub(crate) ids: Option<Vec<String>>,
    pub(crate) location_id: Option<String>,
    pub(crate) calling_data: bool,
}

/// The filters of the workspace and virtual-line listings.
#[derive(Debug, Default)]
pub(crate) struct ListQuery {
    /// Any of these locations (the virtual-line listing takes `locationId` repeated).
    pub(crate) location_ids: Vec<String>,
    /// Workspaces: `webexCalling` keeps those with Webex Calling.
    pub(crate) calling: Option<String>,
}

/// The part of a listing one request asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: usize,
    pub(crate) max: usize,
}

impl Window {
    #[cfg(test)]
    pub(crate) const ALL: Window = Window { start: 0, max: usize::MAX };
}

/// One page of a listing, and whether more items follow it.
#[derive(Debug)]
pub(crate) struct Page<T> {
    pub(crate) items: Vec<T>,
    pub(crate) more: bool,
}

impl<T> Page<T> {
    /// The items of `all` in `w`, each made with `view` — only those of the page: a big
    /// org is listed a page at a time, so a page must not cost the whole org.
    pub(crate) fn of<U>(all: impl Iterator<Item = U>, w: Window, view: impl FnMut(U) -> T) -> Page<T> {
        let mut items: Vec<T> = all.skip(w.start).take(w.max.saturating_add(1)).map(view).collect();
        let more = items.len() > w.max;
        items.truncate(w.max);
        Page { items, more }
    }
}

impl Org {
    /// Valid ECBN targets for a member or a location: the numbers of the (other) members
    /// of the location, and the location's main number (no owner).
    pub(crate) fn available_numbers(
        &self,
        h: Holder,
        phone_filter: Option<&str>,
        owner_name: Option<&str>,
    ) -> Vec<AvailableNumber> {
        let (location, me) = match h {
            Holder::Member(i) => (self.location_of(&self.state.members[i]), Some(i)),
            Holder::Location(l) => (Some(&self.state.locations[l]), None),
        };
        let wanted: Option<Vec<&str>> =
            phone_filter.map(|f| f.split(',').map(str::trim).filter(|s| !s.is_empty()).collect());
        let matches = |n: &str| wanted.as_ref().is_none_or(|w| w.iter().any(|x| phone::same_number(x, n)));
        let my_loc = location.and_then(|l| uuid_of(&l.id));
        let main = location.and_then(|l| l.main_number.clone()).filter(|n| matches(n) && owner_name.is_none());
        let main = main.map(|n| AvailableNumber {
            phone_number: Some(n),
            state: Some("ACTIVE".into()),
            is_main_number: true,
            telephony_type: Some("PSTN_NUMBER".into()),
            ..Default::default()
        });
        let members = self
            .state
            .members
            .iter()
            .enumerate()
            .filter(|(j, m)| Some(*j) != me && my_loc.is_some() && m.location_id.as_deref().and_then(uuid_of) == my_loc)
            .filter(|(_, m)| m.phone_number.as_deref().is_some_and(matches))
            .filter(|(_, m)| owner_name.is_none_or(|o| m.display().to_lowercase().contains(&o.to_lowercase())))
            .map(|(_, m)| AvailableNumber {
                phone_number: m.phone_number.clone(),
                extension: m.extension.clone(),
                state: Some(if m.active_number().is_some() { "ACTIVE" } else { "INACTIVE" }.into()),
                is_main_number: false,
                telephony_type: Some("PSTN_NUMBER".into()),
                toll_free_number: false,
                is_service_number: false,
                owner: Some(owner(m)),
            });
        main.into_iter().chain(members).collect()
    }

    /// `/locations`: every location, in fixture order.
    pub(crate) fn locations(&self, w: Window) -> Page<LocationItem> {
        Page::of(self.state.locations.iter(), w, |l| LocationItem {
            id: l.id.clone(),
            name: Some(l.name.clone()),
            org_id: Some(self.state.org_id.clone()),
        })
    }

    /// People matching a `/people` query, in fixture order.
    pub(crate) fn people(&self, q: &PeopleQuery, w: Window) -> Page<Person> {
        let ids: Option<Vec<Uuid>> = q.ids.as_ref().map(|v| v.iter().filter_map(|s| uuid_of(s)).collect());
        // a location filter that is not an ID matches no one
        let loc: Option<Option<Uuid>> = q.location_id.as_deref().map(uuid_of);
        let candidates: Box<dyn Iterator<Item = &Member>> = match &q.email {
            Some(e) => {
                Box::new(self.by_email.get(&e.to_lowercase()).into_iter().flatten().map(|&i| &self.state.members[i]))
            }
            None => Box::new(self.state.members.iter()),
        };
        let matching = candidates
            .filter(|m| m.kind == Kind::Person.spec().api_type)
            .filter(|m| ids.as_ref().is_none_or(|ids| uuid_of(&m.id).is_some_and(|u| ids.contains(&u))))
            .filter(|m| loc.as_ref().is_none_or(|l| l.is_some() && m.location_id.as_deref().and_then(uuid_of) == *l));
        Page::of(matching, w, |m| self.person_view(m, q.calling_data))
    }

    fn person_view(&self, m: &Member, calling: bool) -> Person {
        Person {
            id: m.id.clone(),
            emails: m.email.iter().cloned().collect(),
            display_name: Some(m.display()),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            phone_numbers: m
                .phone_number
                .iter()
                .map(|n| PersonPhone { kind: "work".into(), value: n.clone(), primary: true })
                .collect(),
            extension: if calling { m.extension.clone() } else { None },
            location_id: if calling { m.location_id.clone() } else { None },
            org_id: Some(self.state.org_id.clone()),
        }
    }

    /// `/workspaces`: a workspace with a location has Webex Calling. [seen] The listing
    /// never returns `calling.webexCalling` (the SDKs note a backend limitation): the
    /// workspace's `locationId` says where it is.
    pub(crate) fn workspaces(&self, q: &ListQuery, w: Window) -> Page<Workspace> {
        let calling_kind = |m: &Member| if m.location_id.is_some() { "webexCalling" } else { "none" };
        let matching =
            self.of_type(Kind::Workspace, q).filter(|m| q.calling.as_deref().is_none_or(|c| calling_kind(m) == c));
        Page::of(matching, w, |m| Workspace {
            id: m.id.clone(),
            display_name: Some(m.display()),
            location_id: m.location_id.clone(),
            calling: Some(WorkspaceCalling { kind: Some(calling_kind(m).into()), webex_calling: None }),
        })
    }

    /// `/telephony/config/virtualLines`.
    pub(crate) fn virtual_lines(&self, q: &ListQuery, w: Window) -> Page<VirtualLine> {
        Page::of(self.of_type(Kind::VirtualLine, q), w, |m| VirtualLine {
            id: m.id.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            number: Some(VirtualLineNumber {
                external: m.phone_number.clone(),
                extension: m.extension.clone(),
                primary: true,
            }),
            location: self.location_of(m).map(|l| IdName { id: l.id.clone(), name: Some(l.name.clone()) }),
        })
    }

    /// Members of a kind, in fixture order, in any of the query's locations.
    fn of_type<'a>(&'a self, kind: Kind, q: &'a ListQuery) -> impl Iterator<Item = &'a Member> + 'a {
        let locs: Vec<Option<Uuid>> = q.location_ids.iter().map(|l| uuid_of(l)).collect();
        let t = kind.spec().api_type;
        self.state.members.iter().filter(move |m| {
            m.kind == t && (locs.is_empty() || locs.contains(&m.location_id.as_deref().and_then(uuid_of)))
        })
    }
}

/// [doc] `availableNumbers` owners: first and last name for people and virtual lines,
/// a display name for workspaces and hunt groups.
fn owner(m: &Member) -> NumberOwner {
    let named = matches!(Kind::parse(&m.kind), Some(Kind::Person | Kind::VirtualLine));
    NumberOwner {
        id: m.id.clone(),
        kind: m.kind.clone(),
        first_name: if named { m.first_name.clone() } else { None },
        last_name: if named { m.last_name.clone() } else { None },
        display_name: if named { None } else { Some(m.display()) },
    }
}
