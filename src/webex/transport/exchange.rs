//! One HTTP attempt: send, read the whole answer, and say how it ended.

use crate::webex::error::{ApiError, api_error};

/// How one attempt ended.
pub(crate) enum Attempt {
    Answer(Answer),
    Timeout,
    Dropped(String),
    /// Still on the wire when the run stopped and the grace period ran out.
    Abandoned,
}

/// A whole response: status, the headers the client uses, the body (read up to the cap).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) next_link: Option<String>,
    /// Where a 3xx points (reported, never followed).
    pub(crate) location: Option<String>,
    pub(crate) content_type: Option<String>,
    tracking: Option<String>,
    pub(crate) body: bytes::Bytes,
    /// The body went on past the cap; `body` holds what was read before it.
    pub(crate) oversize: bool,
}

impl Answer {
    /// Read an answer, its body chunk by chunk and never past `cap` bytes: a server
    /// that sends more is not believed, and not allowed to fill the memory. (The
    /// client's whole-request timeout bounds a body that drips.)
    pub(crate) async fn read(mut resp: reqwest::Response, cap: u64) -> Result<Answer, reqwest::Error> {
        let h = resp.headers();
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (retry_after, tracking, location) = (text("retry-after"), text("trackingid"), text("location"));
        let content_type = text("content-type");
        let next_link = h.get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(parse_next_link);
        let status = resp.status().as_u16();
        let mut body = bytes::BytesMut::new();
        let mut oversize = false;
        while let Some(chunk) = resp.chunk().await? {
            if (body.len() + chunk.len()) as u64 > cap {
                oversize = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        Ok(Answer { status, retry_after, next_link, location, content_type, tracking, body, oversize })
    }

    pub(crate) fn error(&self) -> ApiError {
        api_error(self.status, &self.body, self.tracking.clone())
    }
}

/// An error with its causes, for a row's message ("connection failed: …: …").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// `<url>; rel="next"` from a Link header.
pub(crate) fn parse_next_link(h: &str) -> Option<String> {
    h.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\"") || p.trim().eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        assert_eq!(
            parse_next_link(r#"<https://x/v1/people?start=100>; rel="next""#).as_deref(),
            Some("https://x/v1/people?start=100")
        );
        assert_eq!(
            parse_next_link(r#"<https://x/a>; rel="prev", <https://x/b>; rel="next""#).as_deref(),
            Some("https://x/b")
        );
        assert_eq!(parse_next_link(r#"<https://x/a>; rel="prev""#), None);
    }
}
