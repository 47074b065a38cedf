//! Credentials kept out of sight: a z2jh hub's `values.yaml` with its credentials replaced by
//! placeholders, and put back byte for byte; credentials masked in URLs and in text holding
//! URLs ([`mask_url_credentials`]); a [`Secret`] type that never prints its value.
//!
//! [`redact`] never re-serializes the document: its output is the input with only the source
//! bytes of each credential scalar replaced, so comments, key order, quoting, indentation and
//! line breaks stay as they were, and [`restore`] of an untouched redacted text gives the
//! input back exactly. The YAML is read by `saphyr-parser`'s event parser; the spans it
//! reports are narrowed to each scalar's own text (see `tree.rs`).
//!
//! # The placeholder
//!
//! `"<redacted proxy.secretToken sha256:3fa9c2d1>"`: a double-quoted scalar on one line that
//! names the field's path and the first 8 hex digits of a SHA-256 over the path and the
//! value. Double-quoted because that is the one style that reads as a string wherever a
//! credential can sit (block or flow mapping, block or flow list, after `&anchor !tag`, in
//! place of a multi-line `|`/`>` block), whatever characters the path holds. The path lets a
//! person see what was hidden and lets [`restore`] refuse a placeholder moved to another key;
//! the fingerprint lets it refuse one whose credential the Secret no longer holds.
//! `<redacted … sha256:…>` is distinct from the `<redacted>` people write in examples.
//!
//! # What is a credential
//!
//! A scalar is redacted when it is a non-blank *string* (never a number, boolean or null:
//! quoted and block scalars are strings, a plain one is unless it reads as a YAML 1.2 number
//! or null or a 1.1/1.2 boolean; `!!str` makes it one) and
//! - its key names a credential, it is in a list under such a key (`CryptKeeper.keys`), or
//!   a value of a map of credentials under one (`passwords: {ada: …}`); a map under a
//!   credential key that holds settings (`name`, `create`, `registry`, `username`, … or a
//!   credential-named key of its own, like z2jh's `imagePullSecret`) is a settings block
//!   where only the credential-named keys count;
//! - or it is the `value` of an env entry whose `name` names a credential
//!   (`extraEnv: [{name: GITHUB_TOKEN, value: …}]`);
//! - or it is, whole, a URL with a password (`hub.db.url: postgresql://hub:pw@db/hub`);
//! - or it is anchored and an alias of it stands where a credential would.
//!
//! A key names a credential by its *last* word, case style aside (`apiToken`, `api_token`,
//! `API_TOKEN` are `api token`): `token`, `secret`, `password`, `passwd` (also as the end of
//! a run-together word: `apitoken`, `cookiesecret`), `passphrase`, `pwd`, `pass`,
//! `credential(s)`, `apikey`, `privatekey`, `secretkey`, `accesskey`, `htpasswd`,
//! `dockerconfigjson`; trailing `value`/`b64`/`data`/`hash`… are looked through. So
//! `secretToken`, `cookieSecret`, `client_secret`, `hub.db.password` are credentials, and
//! `tokenTTL`, `token_lifetime_seconds`, `token_url`, `secretName`, `client_secret_file` are
//! not: they are a duration, a URL, a name, a path *about* a credential. `key`/`keys` count
//! only with a kind before them (`privateKey`, `api_key`, `accessKey`, `secretKey`,
//! `signing_key`, `sshKey`…), under `CryptKeeper`, or (`key`) under `tls`, `ssl` or `manual`
//! (`proxy.https.manual.key`; its `cert` is public); `keyMaterial` counts, `publicKey` does
//! not. References to Kubernetes Secrets do not count: `existingSecret`,
//! `imagePullSecret(s)`, `pullSecrets`. Keys are never redacted, and neither is code
//! (`hub.extraConfig` is shown as written).
//!
//! ```
//! use hubdeck_core::secrets::{redact, restore};
//! let values = "proxy:\n  secretToken: 6f1c0a  # generated\nsingleuser:\n  cpu: 2\n";
//! let r = redact(values).unwrap();
//! assert_eq!(
//!     r.text,
//!     "proxy:\n  secretToken: \"<redacted proxy.secretToken sha256:d9db025d>\"  # generated\nsingleuser:\n  cpu: 2\n"
//! );
//! let edited = r.text.replace("cpu: 2", "cpu: 4");
//! let back = restore(&edited, values).unwrap();
//! assert_eq!(back.text, values.replace("cpu: 2", "cpu: 4"));
//! assert!(back.changed.is_empty());
//! ```

mod analyze;
mod names;
mod placeholder;
mod tree;
mod url;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use url::mask_url_credentials;

use analyze::Analysis;
use tree::ParseError;

/// A values.yaml text with its credentials replaced by placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The input with each credential's source text replaced by its placeholder.
    pub text: String,
    /// The credentials replaced, in document order.
    pub secrets: Vec<SecretField>,
}

/// One redacted credential: where it was and a short fingerprint, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretField {
    /// Its path: `hub.services.hubdeck.apiToken`, `hub.config.CryptKeeper.keys[0]`.
    pub path: String,
    /// The first 8 hex digits of a SHA-256 over the path and the value.
    pub fingerprint: String,
    /// The 1-based line of the input on which its value starts.
    pub line: usize,
}

/// An edited redacted text with the original credentials put back.
///
/// Its text holds credentials again, so its `Debug` shows the text's size, not the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Restored {
    /// The edited text, each untouched placeholder replaced by the original credential:
    /// for writing to the cluster, not for showing or logging.
    pub text: String,
    /// Paths of the credentials the edit set anew, added or removed, in the original's
    /// order (then the added ones in the edit's order).
    pub changed: Vec<String>,
}

impl fmt::Debug for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restored")
            .field(
                "text",
                &format_args!("‹{} bytes with credentials›", self.text.len()),
            )
            .field("changed", &self.changed)
            .finish()
    }
}

/// Which text an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// The text given to [`redact`], or the edited text given to [`restore`].
    Values,
    /// The original (the Secret's current values.yaml) given to [`restore`].
    Current,
}

impl fmt::Display for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Doc::Values => "values.yaml",
            Doc::Current => "current values.yaml",
        })
    }
}

/// Why a text could not be redacted or restored. Each message is one line that names the
/// line it concerns and never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// Not valid YAML.
    #[error("{doc}:{line}: not valid YAML: {reason}")]
    Yaml {
        /// Which text.
        doc: Doc,
        /// 1-based line.
        line: usize,
        /// The parser's reason (a fixed text, never a quote of the document).
        reason: String,
    },
    /// A second YAML document (`---`): a values.yaml holds one.
    #[error("{doc}:{line}: a second YAML document starts here; a values.yaml holds one")]
    MultipleDocuments {
        /// Which text.
        doc: Doc,
        /// 1-based line.
        line: usize,
    },
    /// Nested deeper than any values.yaml does.
    #[error("{doc}:{line}: nested deeper than {max} levels", max = tree::MAX_DEPTH)]
    TooDeep {
        /// Which text.
        doc: Doc,
        /// 1-based line.
        line: usize,
    },
    /// A credential path given twice: which one counts is not for hubdeck to guess.
    #[error("{doc}:{line}: {path} is set twice")]
    Duplicate {
        /// Which text.
        doc: Doc,
        /// 1-based line of the second one.
        line: usize,
        /// The credential's path.
        path: String,
    },
    /// [`redact`] was given a text that already holds a placeholder.
    #[error(
        "{doc}:{line}: holds a redaction placeholder already; redact the Secret's own text, not a redacted copy"
    )]
    AlreadyRedacted {
        /// Which text.
        doc: Doc,
        /// 1-based line.
        line: usize,
    },
    /// A scalar's source text could not be located exactly, so it cannot be replaced safely.
    #[error("{doc}:{line}: cannot redact this value safely: its text could not be located")]
    Unlocatable {
        /// Which text.
        doc: Doc,
        /// 1-based line.
        line: usize,
    },
    /// A placeholder was changed but not replaced whole.
    #[error(
        "values.yaml:{line}: a redaction placeholder was altered; put it back as it was, or replace it whole with a new value"
    )]
    PlaceholderAltered {
        /// 1-based line of the edited text.
        line: usize,
    },
    /// A placeholder stands somewhere other than where its credential was.
    #[error(
        "values.yaml:{line}: placeholder for {path} stands at {at}; a placeholder can only stay where it was"
    )]
    PlaceholderMoved {
        /// 1-based line of the edited text.
        line: usize,
        /// The path the placeholder names.
        path: String,
        /// Where it stands in the edited text.
        at: String,
    },
    /// A placeholder whose credential the current values do not hold (any more).
    #[error("values.yaml:{line}: placeholder for {path} does not match the Secret's current value")]
    PlaceholderMismatch {
        /// 1-based line of the edited text.
        line: usize,
        /// The path the placeholder names.
        path: String,
    },
    /// A credential could not be put back where its placeholder stands.
    #[error(
        "values.yaml:{line}: the value of {path} cannot be put back here; undo the change around it or write the value out"
    )]
    NotRestorable {
        /// 1-based line of the edited text.
        line: usize,
        /// The credential's path.
        path: String,
    },
}

impl SecretsError {
    fn parse(doc: Doc, e: ParseError) -> Self {
        match e {
            ParseError::Syntax { line, reason } => SecretsError::Yaml { doc, line, reason },
            ParseError::MultipleDocuments { line } => SecretsError::MultipleDocuments { doc, line },
            ParseError::TooDeep { line } => SecretsError::TooDeep { doc, line },
            ParseError::Unlocatable { line } => SecretsError::Unlocatable { doc, line },
        }
    }
}

/// Parses and walks `src`, refusing repeated credential paths.
fn analyze(doc: Doc, src: &str) -> Result<Analysis, SecretsError> {
    let a = analyze::analyze(src).map_err(|e| SecretsError::parse(doc, e))?;
    a.secrets_by_path()
        .map_err(|(line, path)| SecretsError::Duplicate { doc, line, path })?;
    Ok(a)
}

/// Replaces every credential in a values.yaml text by a placeholder (see the module docs).
///
/// The result is checked before it is returned: it parses, every credential's path holds
/// exactly its placeholder, and [`restore`] of it gives `values` back byte for byte; a text
/// for which that does not hold is an error, never a half-redacted text.
pub fn redact(values: &str) -> Result<Redacted, SecretsError> {
    let doc = Doc::Values;
    let a = analyze(doc, values)?;
    if let Some(v) = a
        .visits
        .iter()
        .find(|v| placeholder::looks_like(&a.scalar(v).value))
    {
        return Err(SecretsError::AlreadyRedacted {
            doc,
            line: a.scalar(v).line,
        });
    }
    let mut text = String::with_capacity(values.len());
    let mut secrets = Vec::new();
    let mut at = 0;
    for v in a.secrets() {
        let s = a.scalar(v);
        if s.range.start < at {
            return Err(SecretsError::Unlocatable { doc, line: s.line });
        }
        let fingerprint = placeholder::fingerprint(&v.path, &s.value);
        text.push_str(&values[at..s.range.start]);
        text.push_str(&placeholder::source(&v.path, &fingerprint));
        at = s.range.end;
        secrets.push(SecretField {
            path: v.path.clone(),
            fingerprint,
            line: s.line,
        });
    }
    text.push_str(&values[at..]);
    verify_redacted(&text, values, &secrets)?;
    Ok(Redacted { text, secrets })
}

/// Checks a redaction: every credential's path holds exactly its placeholder, nothing else
/// holds one, nothing else reads as a credential, and restoring gives the input back.
fn verify_redacted(text: &str, values: &str, secrets: &[SecretField]) -> Result<(), SecretsError> {
    let first_line = secrets.first().map_or(1, |s| s.line);
    let unlocatable = |line| SecretsError::Unlocatable {
        doc: Doc::Values,
        line,
    };
    let Ok(a) = analyze::analyze(text) else {
        return Err(unlocatable(first_line));
    };
    let mut placeholders: HashMap<&str, &str> = HashMap::new();
    for v in &a.visits {
        let value = a.scalar(v).value.as_str();
        if placeholder::looks_like(value) {
            placeholders.insert(v.path.as_str(), value);
        }
    }
    for s in secrets {
        if placeholders.remove(s.path.as_str())
            != Some(placeholder::value(&s.path, &s.fingerprint).as_str())
        {
            return Err(unlocatable(s.line));
        }
    }
    if !placeholders.is_empty() {
        return Err(unlocatable(first_line));
    }
    // Nothing that reads as a credential in the redacted text is anything but a placeholder.
    if let Some(v) = a
        .secrets()
        .find(|v| placeholder::parse(&a.scalar(v).value).is_none())
    {
        return Err(unlocatable(a.scalar(v).line));
    }
    match restore(text, values) {
        Ok(r) if r.text == values && r.changed.is_empty() => Ok(()),
        _ => Err(unlocatable(first_line)),
    }
}

/// Puts the original credentials back where the edited text still has an untouched
/// placeholder; `original` is the Secret's current values.yaml.
///
/// A placeholder that stands where its credential was, with the fingerprint of the current
/// value, gets the original source text back, byte for byte (or, where the edit moved it to
/// another indentation or into a flow list, the value as a double-quoted scalar, so the YAML
/// still reads the same value). A placeholder that was altered, moved to another key, or
/// whose fingerprint no current credential has is an error naming its line: a placeholder is
/// never written into a cluster as if it were a value. [`Restored::changed`] lists the
/// credentials the edit replaced, added or removed.
pub fn restore(edited: &str, original: &str) -> Result<Restored, SecretsError> {
    let orig = analyze(Doc::Current, original)?;
    let by_path = orig
        .secrets_by_path()
        .map_err(|(line, path)| SecretsError::Duplicate {
            doc: Doc::Current,
            line,
            path,
        })?;
    let ed = analyze(Doc::Values, edited)?;

    let mut replacements: Vec<(std::ops::Range<usize>, String, &str, usize)> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for v in &ed.visits {
        let s = ed.scalar(v);
        if !placeholder::looks_like(&s.value) {
            continue;
        }
        let line = s.line;
        let Some((path, fp)) = placeholder::parse(&s.value) else {
            return Err(SecretsError::PlaceholderAltered { line });
        };
        if v.is_key || path != v.path {
            let at = if v.is_key {
                format!("a key of {}", v.path)
            } else {
                v.path.clone()
            };
            return Err(SecretsError::PlaceholderMoved {
                line,
                path: path.to_string(),
                at,
            });
        }
        let mismatch = || SecretsError::PlaceholderMismatch {
            line,
            path: path.to_string(),
        };
        let o = by_path.get(path).ok_or_else(mismatch)?;
        let os = orig.scalar(o);
        if placeholder::fingerprint(path, &os.value) != fp {
            return Err(mismatch());
        }
        if !seen.insert(&o.path) {
            return Err(SecretsError::Duplicate {
                doc: Doc::Values,
                line,
                path: path.to_string(),
            });
        }
        let same_place = os.in_flow == s.in_flow && os.indent == s.indent;
        let bytes = if same_place {
            original[os.range.clone()].to_string()
        } else {
            placeholder::double_quote(&os.value)
        };
        replacements.push((s.range.clone(), bytes, &o.path, line));
    }
    replacements.sort_by_key(|r| r.0.start);

    let mut text = String::with_capacity(edited.len() + original.len() / 4);
    let mut at = 0;
    for (range, bytes, _, _) in &replacements {
        text.push_str(&edited[at..range.start]);
        text.push_str(bytes);
        at = range.end;
    }
    text.push_str(&edited[at..]);

    // The restored text must read each put-back credential as its original value.
    let not_restorable = |(_, _, path, line): &(_, _, &str, usize)| SecretsError::NotRestorable {
        line: *line,
        path: path.to_string(),
    };
    let after = match analyze::analyze(&text) {
        Ok(a) => a,
        Err(_) => {
            return Err(replacements.first().map_or(
                SecretsError::Unlocatable {
                    doc: Doc::Values,
                    line: 1,
                },
                not_restorable,
            ));
        }
    };
    let values_after: HashMap<&str, &str> = after
        .visits
        .iter()
        .filter(|v| !v.is_key)
        .map(|v| (v.path.as_str(), after.scalar(v).value.as_str()))
        .collect();
    for r in &replacements {
        let want = by_path.get(r.2).map(|o| orig.scalar(o).value.as_str());
        if values_after.get(r.2).copied() != want {
            return Err(not_restorable(r));
        }
    }
    if let Some(v) = after
        .visits
        .iter()
        .find(|v| placeholder::looks_like(&after.scalar(v).value))
    {
        // Cannot happen (every placeholder-like value was handled above); refuse anyway.
        return Err(SecretsError::PlaceholderAltered {
            line: after.scalar(v).line,
        });
    }

    let now: Vec<(&str, &str)> = after
        .secrets()
        .map(|v| (v.path.as_str(), after.scalar(v).value.as_str()))
        .collect();
    let now_map: HashMap<&str, &str> = now.iter().copied().collect();
    let mut changed: Vec<String> = orig
        .secrets()
        .filter(|o| now_map.get(o.path.as_str()).copied() != Some(orig.scalar(o).value.as_str()))
        .map(|o| o.path.clone())
        .collect();
    changed.extend(
        now.iter()
            .filter(|(p, _)| !by_path.contains_key(p))
            .map(|(p, _)| p.to_string()),
    );
    Ok(Restored { text, changed })
}

/// Whether `text` holds a redaction placeholder in one of its values or keys (comments do
/// not count), so that a caller refuses to write it to a cluster unrestored. A text that does
/// not parse is searched as plain text, so the answer errs towards "yes".
pub fn has_placeholder(text: &str) -> bool {
    match tree::parse(text) {
        Ok(doc) => doc
            .scalars
            .iter()
            .any(|s| placeholder::looks_like(&s.value)),
        Err(_) => placeholder::looks_like(text),
    }
}

/// A credential carried in memory: its `Debug` and `Display` print `‹redacted›`, so it can
/// sit in structs that are logged or shown; [`Secret::expose`] is the one way to the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The credential itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the credential is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("‹redacted›")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("‹redacted›")
    }
}
