//! Which next-page links a run follows. The API does not promise to keep query
//! parameters in its `Link` headers (they have been seen to drop them), and a link is a
//! URL the token would be sent to: it must stay on the base URL's scheme, host and
//! port, and, with `org_id` set, in that organisation.

use reqwest::Url;

/// The URL to request for `link`: `orgId` added when the server left it out; `Err`
/// with the reason for a link that leaves the base URL or names another organisation.
pub(super) fn follow(link: &str, base: &Url, org_id: Option<&str>) -> Result<Url, String> {
    let mut url = Url::parse(link).map_err(|e| format!("`{link}` is not a URL: {e}"))?;
    let origin = |u: &Url| (u.scheme().to_string(), u.host_str().map(str::to_string), u.port_or_known_default());
    if origin(&url) != origin(base) {
        return Err(format!("`{link}` leaves {base}"));
    }
    if let Some(org) = org_id {
        let given: Vec<String> = url.query_pairs().filter(|(k, _)| k == "orgId").map(|(_, v)| v.into_owned()).collect();
        match given.as_slice() {
            [] => {
                url.query_pairs_mut().append_pair("orgId", org);
            }
            [one] if one == org => {}
            _ => return Err(format!("`{link}` names another organisation than {org}")),
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_stay_in_place_and_in_the_organisation() {
        let base = Url::parse("https://webexapis.com/v1").unwrap();
        let org = Some("ORG");
        let added = follow("https://webexapis.com/v1/people?max=100&start=100", &base, org).unwrap();
        assert_eq!(added.as_str(), "https://webexapis.com/v1/people?max=100&start=100&orgId=ORG");
        let kept = follow("https://webexapis.com/v1/people?orgId=ORG&start=100", &base, org).unwrap();
        assert_eq!(kept.as_str(), "https://webexapis.com/v1/people?orgId=ORG&start=100");
        assert!(follow("https://webexapis.com/v1/people?orgId=OTHER", &base, org).is_err());
        assert!(follow("https://webexapis.com/v1/people?orgId=ORG&orgId=OTHER", &base, org).is_err());
        for foreign in
            ["http://webexapis.com/v1/people", "https://evil.example/v1/people", "https://webexapis.com:8443/v1/x"]
        {
            assert!(follow(foreign, &base, None).is_err(), "{foreign}");
        }
        assert!(follow("https://webexapis.com/v1/people?start=1", &base, None).is_ok(), "no org_id: as it is");
    }
}
