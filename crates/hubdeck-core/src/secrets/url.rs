//! Credentials masked in URLs, alone or inside free text (log lines, error chains, events).

use std::borrow::Cow;
use std::ops::Range;

use super::names::is_credential_key;

/// What a masked credential becomes.
const MASK: &str = "***";

/// Masks the credentials in a URL, or in free text holding URLs:
/// - the password of a URL's userinfo (`https://ada:pw@host` → `https://ada:***@host`), and
///   the whole userinfo when it is a token (`https://ghp_…@github.com` → `https://***@github.com`);
/// - path segments that look like tokens (a known token prefix such as `ghp_` or `glpat-`,
///   or 24+ letters-and-digits that are not a UUID);
/// - the values of credential query and fragment parameters, in absolute and relative URLs
///   alike: `?token=`, `&access_token=`, `#access_token=`, `api_key`, `client_secret`,
///   `password`, `sig`/`signature`, OAuth's `code`, `key`… (the key-name rule of
///   [`super::redact`], plus those).
///
/// Borrows when there is nothing to mask.
pub fn mask_url_credentials(text: &str) -> Cow<'_, str> {
    let mut masks: Vec<Range<usize>> = Vec::new();
    for url in urls(text) {
        mask_userinfo_and_path(text, url, &mut masks);
    }
    mask_params(text, &mut masks);
    if masks.is_empty() {
        return Cow::Borrowed(text);
    }
    masks.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in masks {
        if m.start < at {
            continue;
        }
        out.push_str(&text[at..m.start]);
        out.push_str(MASK);
        at = m.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Where a URL stops in free text.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`')
}

/// The byte ranges of `scheme://…` URLs in `text`.
fn urls(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://").map(|i| from + i) {
        let mut start = i;
        while start > 0
            && (bytes[start - 1].is_ascii_alphanumeric()
                || matches!(bytes[start - 1], b'+' | b'-' | b'.'))
        {
            start -= 1;
        }
        while start < i && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        let end = text[i + 3..]
            .find(ends_url)
            .map_or(text.len(), |j| i + 3 + j);
        if start < i {
            out.push(start..end);
        }
        from = end.max(i + 3);
    }
    out
}

fn mask_userinfo_and_path(text: &str, url: Range<usize>, masks: &mut Vec<Range<usize>>) {
    let s = &text[url.clone()];
    let Some(scheme_end) = s.find("://") else {
        return;
    };
    let rest_at = url.start + scheme_end + 3;
    let rest = &text[rest_at..url.end];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        match userinfo.find(':') {
            Some(colon) if colon + 1 < userinfo.len() => {
                masks.push(rest_at + colon + 1..rest_at + at);
            }
            Some(_) => {}
            None if looks_like_token(userinfo) => masks.push(rest_at..rest_at + at),
            None => {}
        }
    }
    let path_start = authority_len;
    let path_len = rest[path_start..]
        .find(['?', '#'])
        .unwrap_or(rest.len() - path_start);
    let path = &rest[path_start..path_start + path_len];
    let mut seg_at = rest_at + path_start;
    for seg in path.split('/') {
        if looks_like_token(seg) {
            masks.push(seg_at..seg_at + seg.len());
        }
        seg_at += seg.len() + 1;
    }
}

/// Known token prefixes (GitHub, GitLab, Slack), or 24+ characters of letters, digits, `_`
/// and `-` with both letters and digits that are not a UUID.
fn looks_like_token(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "ghp_",
        "gho_",
        "ghu_",
        "ghs_",
        "ghr_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxr-",
    ];
    let charset = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !charset || s.is_empty() {
        return false;
    }
    if PREFIXES
        .iter()
        .any(|p| s.starts_with(p) && s.len() > p.len() + 8)
    {
        return true;
    }
    s.len() >= 24
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && !is_uuid(s)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Parameter names that carry credentials beyond what the key-name rule says.
fn is_credential_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "sig"
            | "signature"
            | "code"
            | "key"
            | "auth"
            | "x-amz-signature"
            | "x-amz-credential"
            | "x-goog-signature"
            | "x-goog-credential"
    ) || is_credential_key(name, None)
}

/// Masks `?name=value`, `&name=value`, `;name=value` and `#name=value` for credential names,
/// anywhere in `text`.
fn mask_params(text: &str, masks: &mut Vec<Range<usize>>) {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'?' | b'&' | b';' | b'#') {
            continue;
        }
        let name_start = i + 1;
        let mut j = name_start;
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric() || matches!(bytes[j], b'_' | b'-' | b'.'))
        {
            j += 1;
        }
        if j == name_start || bytes.get(j) != Some(&b'=') {
            continue;
        }
        if !is_credential_param(&text[name_start..j]) {
            continue;
        }
        let value_start = j + 1;
        let value_end = text[value_start..]
            .find(|c: char| ends_url(c) || matches!(c, '&' | '#' | ';' | ')' | ']' | ','))
            .map_or(text.len(), |k| value_start + k);
        if value_end > value_start {
            masks.push(value_start..value_end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        mask_url_credentials(s).into_owned()
    }

    #[test]
    fn userinfo() {
        assert_eq!(
            m("https://ada:s3cr3t@hub.example.org/x"),
            "https://ada:***@hub.example.org/x"
        );
        assert_eq!(
            m("postgresql+psycopg2://hub:pw@db:5432/hub"),
            "postgresql+psycopg2://hub:***@db:5432/hub"
        );
        assert_eq!(m("redis://:pw@cache"), "redis://:***@cache");
        assert_eq!(
            m("https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r.git"),
            "https://***@github.com/o/r.git"
        );
        assert_eq!(m("ssh://git@github.com/o/r"), "ssh://git@github.com/o/r");
        assert_eq!(m("mailto:ada@example.org"), "mailto:ada@example.org");
    }

    #[test]
    fn query_fragment_and_relative() {
        assert_eq!(
            m("GET https://hub/user/ada/lab?token=abc123&x=1 200"),
            "GET https://hub/user/ada/lab?token=***&x=1 200"
        );
        assert_eq!(
            m("302 /hub/oauth_callback?code=Q1w2&state=s -> /user/ada/?access_token=zz"),
            "302 /hub/oauth_callback?code=***&state=s -> /user/ada/?access_token=***"
        );
        assert_eq!(
            m("https://h/cb#access_token=t0k&token_type=bearer"),
            "https://h/cb#access_token=***&token_type=bearer"
        );
        assert_eq!(
            m("https://s3/b/o?X-Amz-Signature=abcd&X-Amz-Expires=60"),
            "https://s3/b/o?X-Amz-Signature=***&X-Amz-Expires=60"
        );
        assert_eq!(m("?tokenTTL=3600&page=2"), "?tokenTTL=3600&page=2");
    }

    #[test]
    fn token_path_segments() {
        assert_eq!(
            m("https://hooks.slack.com/services/T0001/B0002/Xk3Lm9Qr2Tz8Wv5Yp1Ns7Hd4"),
            "https://hooks.slack.com/services/T0001/B0002/***"
        );
        let uuid = "https://k8s/api/v1/pods/0b5f3c9e-4d2a-4e8b-9c1f-7a6d5e4b3c2a";
        assert_eq!(m(uuid), uuid);
        assert!(matches!(
            mask_url_credentials("https://hub.example.org/hub/home"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn free_text_with_several_urls() {
        assert_eq!(
            m("pull from https://u:p@a.io and 'https://b.io/?api_key=k' done"),
            "pull from https://u:***@a.io and 'https://b.io/?api_key=***' done"
        );
        assert_eq!(m("no urls here"), "no urls here");
        assert_eq!(m("://"), "://");
    }
}
