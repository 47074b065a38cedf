//! Properties of redaction over generated values documents (credential and other keys, every
//! scalar style, block and flow lists and maps, comments) and over arbitrary text.

mod common;

use hubdeck_core::secrets::{has_placeholder, redact, restore};
use proptest::prelude::*;

/// Keys that are credentials somewhere, keys that are not, and keys that change what their
/// children are.
const KEYS: &[&str] = &[
    "secretToken",
    "cookieSecret",
    "apiToken",
    "api_token",
    "client_secret",
    "password",
    "privateKey",
    "keys",
    "key",
    "passwords",
    "tokenTTL",
    "token_url",
    "token_lifetime_seconds",
    "secretName",
    "name",
    "value",
    "cpu",
    "memory",
    "limit",
    "extraConfig",
    "admin_users",
    "hub",
    "proxy",
    "singleuser",
    "services",
    "config",
    "CryptKeeper",
    "tls",
    "manual",
    "imagePullSecret",
    "registry",
    "extraEnv",
];

#[derive(Debug, Clone)]
enum Scalar {
    Plain(String),
    Single(String),
    Double(String),
    /// Lines, the chomping indicator, literal (`|`) or folded (`>`).
    Block(Vec<String>, &'static str, bool),
    Number(i64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone)]
enum Node {
    Scalar(Scalar, Option<String>),
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    FlowSeq(Vec<Scalar>),
    FlowMap(Vec<(String, Scalar)>),
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-z][a-zA-Z_]{0,8}",
    ]
}

fn comment() -> impl Strategy<Value = Option<String>> {
    proptest::option::weighted(0.2, "[ -~]{0,20}")
}

fn inline_scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        3 => "[a-zA-Z][a-zA-Z0-9_./=+-]{0,12}( [a-zA-Z0-9][a-zA-Z0-9_./=+-]{0,7}){0,2}".prop_map(Scalar::Plain),
        2 => "[ -~éü€😀]{0,16}".prop_map(Scalar::Single),
        2 => any::<String>().prop_map(|s| Scalar::Double(s.chars().take(16).collect())),
        1 => any::<i64>().prop_map(Scalar::Number),
        1 => any::<bool>().prop_map(Scalar::Bool),
        1 => Just(Scalar::Null),
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        4 => inline_scalar(),
        1 => (
            proptest::collection::vec("[a-zA-Z0-9=+/-][ -~]{0,24}|", 1..5),
            proptest::sample::select(&["", "-", "+"][..]),
            any::<bool>()
        )
            .prop_map(|(mut lines, chomp, literal)| {
                // The first line sets the indentation: it may not be empty.
                if lines[0].is_empty() {
                    lines[0] = "x".to_string();
                }
                Scalar::Block(lines, chomp, literal)
            }),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => (scalar(), comment()).prop_map(|(s, c)| Node::Scalar(s, c)),
        1 => proptest::collection::vec(inline_scalar(), 0..4).prop_map(Node::FlowSeq),
        1 => proptest::collection::vec((key(), inline_scalar()), 0..3).prop_map(Node::FlowMap),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            3 => proptest::collection::vec((key(), inner.clone()), 1..6).prop_map(Node::Map),
            1 => proptest::collection::vec(inner, 1..4).prop_map(Node::Seq),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    (proptest::collection::vec((key(), node()), 1..8), comment()).prop_map(|(pairs, head)| {
        let mut out = String::new();
        if let Some(c) = head {
            out.push_str(&format!("# {c}\n"));
        }
        render_map(&dedup(pairs), 0, &mut out);
        out
    })
}

fn dedup<T>(pairs: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut seen = std::collections::HashSet::new();
    pairs
        .into_iter()
        .filter(|(k, _)| seen.insert(k.clone()))
        .collect()
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) > 0xffff => out.push_str(&format!("\\U{:08x}", c as u32)),
            c if c.is_ascii_control() || !c.is_ascii() => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn inline(s: &Scalar) -> String {
    match s {
        Scalar::Plain(p) => p.clone(),
        Scalar::Single(v) => format!("'{}'", v.replace('\'', "''")),
        Scalar::Double(v) => double_quoted(v),
        Scalar::Number(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Null => "~".to_string(),
        Scalar::Block(..) => unreachable!("blocks are not inline"),
    }
}

/// ` value  # comment\n`, or a block scalar's header and lines.
fn render_scalar(s: &Scalar, comment: &Option<String>, indent: usize, out: &mut String) {
    let c = comment
        .as_ref()
        .map(|c| format!("  # {c}"))
        .unwrap_or_default();
    match s {
        Scalar::Block(lines, chomp, literal) => {
            let ind = if *literal { "|" } else { ">" };
            out.push_str(&format!(" {ind}{chomp}{c}\n"));
            for l in lines {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{:w$}{l}\n", "", w = indent + 2));
                }
            }
        }
        s => out.push_str(&format!(" {}{c}\n", inline(s))),
    }
}

fn render_value(n: &Node, indent: usize, out: &mut String) {
    match n {
        Node::Scalar(s, c) => render_scalar(s, c, indent, out),
        Node::FlowSeq(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            out.push_str(&format!(" [{}]\n", items.join(", ")));
        }
        Node::FlowMap(pairs) => {
            let pairs: Vec<String> = dedup(pairs.clone())
                .iter()
                .map(|(k, v)| format!("{k}: {}", inline(v)))
                .collect();
            out.push_str(&format!(" {{{}}}\n", pairs.join(", ")));
        }
        Node::Map(pairs) => {
            out.push('\n');
            render_map(&dedup(pairs.clone()), indent + 2, out);
        }
        Node::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&format!("{:w$}-", "", w = indent + 2));
                match item {
                    Node::Map(pairs) => {
                        out.push('\n');
                        render_map(&dedup(pairs.clone()), indent + 4, out);
                    }
                    Node::Seq(_) => {
                        out.push_str(" []\n");
                    }
                    other => render_value(other, indent + 2, out),
                }
            }
        }
    }
}

fn render_map(pairs: &[(String, Node)], indent: usize, out: &mut String) {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i % 3 == 2 {
            out.push_str(&format!("{:w$}# between entries\n", "", w = indent));
        }
        out.push_str(&format!("{:w$}{k}:", "", w = indent));
        render_value(v, indent, out);
    }
}

fn placeholder_source(path: &str, fp: &str) -> String {
    format!("\"<redacted {path} sha256:{fp}>\"")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_round_trip(doc in document()) {
        let r = redact(&doc).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        let back = restore(&r.text, &doc).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        prop_assert_eq!(&back.text, &doc);
        prop_assert!(back.changed.is_empty());
        prop_assert_eq!(has_placeholder(&r.text), !r.secrets.is_empty());
        // Another parser reads the same document, strings aside that became placeholders.
        if let Some(replaced) = common::replaced_strings(&doc, &r.text) {
            prop_assert!(replaced.len() >= r.secrets.len());
        }
    }

    #[test]
    fn edits_elsewhere_and_new_values(doc in document(), pick in any::<prop::sample::Index>()) {
        let r = redact(&doc).map_err(|e| TestCaseError::fail(format!("{e}\n{doc}")))?;
        // A key added at the end: the credentials come back, nothing is reported changed.
        let edited = format!("{}zz_added: 1\n", r.text);
        let back = restore(&edited, &doc).map_err(|e| TestCaseError::fail(format!("{e}\n{edited}")))?;
        prop_assert_eq!(back.text, format!("{doc}zz_added: 1\n"));
        prop_assert!(back.changed.is_empty());
        // One placeholder replaced by a new value: it stays, and it alone is reported.
        if !r.secrets.is_empty() {
            let s = &r.secrets[pick.index(r.secrets.len())];
            let ph = placeholder_source(&s.path, &s.fingerprint);
            prop_assert_eq!(r.text.matches(&ph).count(), 1);
            let edited = r.text.replace(&ph, "\"fresh value 42\"");
            let back = restore(&edited, &doc).map_err(|e| TestCaseError::fail(format!("{e}\n{edited}")))?;
            prop_assert!(back.text.contains("\"fresh value 42\""));
            prop_assert_eq!(back.changed, vec![s.path.clone()]);
            prop_assert!(!has_placeholder(&back.text));
        }
    }

    #[test]
    fn arbitrary_text_errors_or_round_trips(text in any::<String>()) {
        let _ = has_placeholder(&text);
        if let Ok(r) = redact(&text) {
            let back = restore(&r.text, &text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(back.text, text);
        }
    }

    #[test]
    fn yaml_like_text_errors_or_round_trips(
        text in "([a-z]{1,6}|secretToken|password|keys|apiToken|[ \\t\\n:'\"|>#&*!,\\[\\]{}?-]|-{3}|\\\\|é){0,60}"
    ) {
        if let Ok(r) = redact(&text) {
            let back = restore(&r.text, &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text:?}")))?;
            prop_assert_eq!(back.text, text);
        }
    }
}
