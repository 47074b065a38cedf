//! Walks a parsed document and says, for every scalar, its path and whether it is a
//! credential.
//!
//! A scalar is a credential when it is a non-blank string (not a number, boolean or null) and
//! - it sits under a credential key (see [`super::names`]), directly, in a list under one
//!   (`CryptKeeper.keys: [a, b]`), or in a map of credentials under one
//!   (`passwords: {ada: …}`); a map under a credential key that holds settings (`name`,
//!   `create`, `registry`, `username`, … or a credential-named key of its own) is a settings
//!   block, and only its credential-named keys are secret;
//! - or it is the `value` of a Kubernetes env entry whose `name` is credential-named
//!   (`extraEnv: [{name: GITHUB_TOKEN, value: …}]`);
//! - or it is, whole, a URL with a password in it (`hub.db.url: postgresql://hub:pw@db/hub`);
//! - or it is anchored and an alias of it sits where a credential would (`password: *pw`).
//!
//! Keys themselves are never redacted.

use std::collections::{HashMap, HashSet};

use saphyr_parser::ScalarStyle;

use super::names::{is_credential_key, is_settings_key};
use super::tree::{self, Doc, Node, ParseError, Scalar};

/// One scalar with where it sits.
#[derive(Debug, Clone)]
pub(super) struct Visit {
    /// Index into [`Doc::scalars`].
    pub scalar: usize,
    /// The path of the value (for a key: of the entry it is the key of).
    pub path: String,
    pub is_key: bool,
    pub secret: bool,
}

/// A parsed document and its scalars' paths, in document order.
#[derive(Debug, Clone)]
pub(super) struct Analysis {
    pub doc: Doc,
    pub visits: Vec<Visit>,
}

impl Analysis {
    pub fn scalar(&self, v: &Visit) -> &Scalar {
        &self.doc.scalars[v.scalar]
    }

    /// The credentials, in document order.
    pub fn secrets(&self) -> impl Iterator<Item = &Visit> {
        self.visits.iter().filter(|v| v.secret)
    }

    /// Credential path -> visit; the line and path of the second one when a path repeats.
    pub fn secrets_by_path(&self) -> Result<HashMap<&str, &Visit>, (usize, String)> {
        let mut map = HashMap::new();
        for v in self.secrets() {
            if map.insert(v.path.as_str(), v).is_some() {
                return Err((self.scalar(v).line, v.path.clone()));
            }
        }
        Ok(map)
    }
}

/// Parses and walks `src`.
pub(super) fn analyze(src: &str) -> Result<Analysis, ParseError> {
    let doc = tree::parse(src)?;
    let mut forced: HashSet<usize> = HashSet::new();
    // Aliases under credential keys make their anchored nodes credentials; that can reveal
    // further aliases, so walk until no new anchor turns up (at most once per anchor).
    loop {
        let mut w = Walker {
            doc: &doc,
            forced: &forced,
            found: HashSet::new(),
            visits: Vec::new(),
        };
        if let Some(root) = &doc.root {
            w.walk(root, &mut Vec::new(), None, false);
        }
        let new: Vec<usize> = w.found.difference(&forced).copied().collect();
        if new.is_empty() {
            let mut visits = w.visits;
            visits.sort_by_key(|v| doc.scalars[v.scalar].range.start);
            return Ok(Analysis { doc, visits });
        }
        forced.extend(new);
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A path as people write it: `hub.services.hubdeck.apiToken`, `hub.config.CryptKeeper.keys[0]`;
/// a key that is not made of ASCII letters, digits, `_` and `-` is written `["a.b"]`, escaped,
/// so a path is always one printable line.
fn format_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
            Seg::Key(k) if is_simple(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push_str("[\"");
                for c in k.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        c if c.is_control() || c.is_whitespace() && c != ' ' || is_hidden(c) => {
                            out.push_str(&format!("\\u{{{:x}}}", c as u32));
                        }
                        c => out.push(c),
                    }
                }
                out.push_str("\"]");
            }
        }
    }
    if out.is_empty() {
        out.push_str("(root)");
    }
    out
}

fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}' | '\u{feff}')
}

fn is_simple(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

struct Walker<'d> {
    doc: &'d Doc,
    forced: &'d HashSet<usize>,
    found: HashSet<usize>,
    visits: Vec<Visit>,
}

impl Walker<'_> {
    fn key_text(&self, node: &Node) -> Option<&str> {
        match node {
            Node::Scalar { id, .. } => Some(self.doc.scalars[*id].value.as_str()),
            _ => None,
        }
    }

    fn walk(&mut self, node: &Node, path: &mut Vec<Seg>, parent: Option<&str>, secret: bool) {
        let secret = secret || (node.anchor() != 0 && self.forced.contains(&node.anchor()));
        match node {
            Node::Scalar { id, .. } => {
                let s = &self.doc.scalars[*id];
                let credential = is_string(s)
                    && !s.value.trim().is_empty()
                    && (secret || is_url_with_password(&s.value));
                self.visits.push(Visit {
                    scalar: *id,
                    path: format_path(path),
                    is_key: false,
                    secret: credential,
                });
            }
            Node::Seq { items, .. } => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Seg::Index(i));
                    self.walk(item, path, parent, secret);
                    path.pop();
                }
            }
            Node::Map { pairs, .. } => {
                let all_secret = secret
                    && !pairs.iter().any(|(k, _)| {
                        self.key_text(k)
                            .is_some_and(|t| is_settings_key(t) || is_credential_key(t, parent))
                    });
                let env_secret = !all_secret && self.is_credential_env(pairs);
                for (k, v) in pairs {
                    let text = self.key_text(k).map(str::to_string);
                    path.push(Seg::Key(text.clone().unwrap_or_else(|| "?".to_string())));
                    self.walk_key(k, path);
                    let child_secret = all_secret
                        || text.as_deref().is_some_and(|t| {
                            is_credential_key(t, parent) || (env_secret && t == "value")
                        });
                    self.walk(v, path, text.as_deref(), child_secret);
                    path.pop();
                }
            }
            Node::Alias { target } => {
                if secret {
                    self.found.insert(*target);
                }
            }
        }
    }

    /// Records the scalars of a key (a complex key may hold several).
    fn walk_key(&mut self, node: &Node, path: &[Seg]) {
        match node {
            Node::Scalar { id, .. } => self.visits.push(Visit {
                scalar: *id,
                path: format_path(path),
                is_key: true,
                secret: false,
            }),
            Node::Seq { items, .. } => items.iter().for_each(|n| self.walk_key(n, path)),
            Node::Map { pairs, .. } => pairs.iter().for_each(|(k, v)| {
                self.walk_key(k, path);
                self.walk_key(v, path);
            }),
            Node::Alias { .. } => {}
        }
    }

    /// `{name: SOME_TOKEN, value: …}`: a Kubernetes env entry naming a credential.
    fn is_credential_env(&self, pairs: &[(Node, Node)]) -> bool {
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| self.key_text(k) == Some(key))
                .map(|(_, v)| v)
        };
        get("value").is_some()
            && get("name")
                .and_then(|n| self.key_text(n))
                .is_some_and(|n| is_credential_key(n, None))
    }
}

/// Whether a scalar is a string: quoted and block scalars are; a plain one is unless it reads
/// as a null, boolean (YAML 1.2, and 1.1's `yes`/`no`/`on`/`off` that Helm still reads) or
/// number. An explicit tag decides first.
fn is_string(s: &Scalar) -> bool {
    const CORE: &str = "tag:yaml.org,2002:";
    match s.tag.as_deref() {
        Some(t) if t == "tag:yaml.org,2002:str" || t == "tag:yaml.org,2002:binary" => {
            return true;
        }
        Some(t) if t.starts_with(CORE) => {
            if matches!(&t[CORE.len()..], "null" | "bool" | "int" | "float") {
                return false;
            }
        }
        Some(_) => return true,
        None => {}
    }
    if s.style != ScalarStyle::Plain {
        return true;
    }
    let v = s.value.as_str();
    !(is_null(v) || is_bool(v) || is_number(v))
}

fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

fn is_bool(v: &str) -> bool {
    matches!(
        v,
        "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    )
}

/// YAML 1.2 core schema ints and floats (with 1.1's `_` separators and `0b`).
fn is_number(v: &str) -> bool {
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(v, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let radix = |digits: &str, ok: fn(u8) -> bool| {
        !digits.is_empty() && digits.bytes().all(|b| ok(b) || b == b'_')
    };
    if let Some(d) = v.strip_prefix("0x") {
        return radix(d, |b| b.is_ascii_hexdigit());
    }
    if let Some(d) = v.strip_prefix("0o") {
        return radix(d, |b| (b'0'..=b'7').contains(&b));
    }
    if let Some(d) = v.strip_prefix("0b") {
        return radix(d, |b| b == b'0' || b == b'1');
    }
    // [0-9][0-9_]* ( . [0-9_]* )? ( [eE] [-+]? [0-9]+ )?  or  . [0-9]+ ( exp )?
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let int_ok = digits(int) && int.bytes().next().is_none_or(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(digits);
    let has_digit = int.bytes().any(|b| b.is_ascii_digit())
        || frac.is_some_and(|f| f.bytes().any(|b| b.is_ascii_digit()));
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    int_ok && frac_ok && has_digit && exp_ok
}

/// Whether `v` is, whole, a URL whose userinfo holds a password (`scheme://user:pw@host…`).
fn is_url_with_password(v: &str) -> bool {
    let v = v.trim();
    if v.contains(char::is_whitespace) {
        return false;
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let userinfo = authority.rsplit_once('@').map(|(u, _)| u);
    scheme_ok
        && userinfo
            .and_then(|u| u.split_once(':'))
            .is_some_and(|(_, pw)| !pw.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(src: &str) -> Vec<(String, String)> {
        let a = analyze(src).unwrap();
        a.secrets()
            .map(|v| (v.path.clone(), a.scalar(v).value.clone()))
            .collect()
    }

    fn paths(src: &str) -> Vec<String> {
        secrets(src).into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn numbers_bools_and_nulls_are_not_strings() {
        for v in [
            "0", "-12", "1_000", "3.5", ".5", "1e3", "0x1F", "0o17", ".inf", "-.Inf", ".nan",
        ] {
            assert!(is_number(v), "{v}");
        }
        for v in ["1.2.3", "e3", "0x", "12a", "-", ".", "1e", "abc", "_1"] {
            assert!(!is_number(v), "{v}");
        }
        let src = "password: 1234\ntoken: true\nsecret: ~\napi_key: \"1234\"\npasswd: !!str 99\n";
        assert_eq!(paths(src), ["api_key", "passwd"]);
    }

    #[test]
    fn lists_and_maps_under_credential_keys() {
        let src = "hub:\n  config:\n    CryptKeeper:\n      keys: [a, b]\n      n: 1\n  x:\n    passwords:\n      ada: p1\n      bob: p2\n";
        assert_eq!(
            paths(src),
            [
                "hub.config.CryptKeeper.keys[0]",
                "hub.config.CryptKeeper.keys[1]",
                "hub.x.passwords.ada",
                "hub.x.passwords.bob"
            ]
        );
    }

    #[test]
    fn settings_blocks_under_credential_names() {
        let src = "imagePullSecret:\n  create: true\n  registry: quay.io\n  username: u\n  password: pw\nproxy:\n  https:\n    secret:\n      name: tls\n      key: tls.key\n      crt: tls.crt\n    manual:\n      key: KEY\n      cert: CERT\n";
        assert_eq!(
            paths(src),
            ["imagePullSecret.password", "proxy.https.manual.key"]
        );
    }

    #[test]
    fn env_entries_urls_and_aliases() {
        let src = "hub:\n  extraEnv:\n    - name: OAUTH_CLIENT_SECRET\n      value: s1\n    - name: LOG_LEVEL\n      value: debug\n  db:\n    url: postgresql://hub:pw@db:5432/hub\n    other: https://example.org/x\nbase: &pw hunter2\nhub2:\n  password: *pw\n";
        assert_eq!(
            secrets(src),
            [
                ("hub.extraEnv[0].value".to_string(), "s1".to_string()),
                (
                    "hub.db.url".to_string(),
                    "postgresql://hub:pw@db:5432/hub".to_string()
                ),
                ("base".to_string(), "hunter2".to_string()),
            ]
        );
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        let src = "\"a.b\":\n  \"x\\ny\": {password: p}\n";
        assert_eq!(paths(src), ["[\"a.b\"][\"x\\u{a}y\"].password"]);
    }

    #[test]
    fn duplicate_credential_paths_are_found() {
        let a = analyze("hub:\n  cookieSecret: a\n  cookieSecret: b\n").unwrap();
        assert_eq!(
            a.secrets_by_path().unwrap_err(),
            (3, "hub.cookieSecret".to_string())
        );
    }
}
