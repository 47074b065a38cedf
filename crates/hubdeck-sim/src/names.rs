//! Names that make the demo fleet look like a real community hub provider's: clusters per cloud,
//! community hub names, users as GitHub handles and e-mail addresses, and KubeSpawner's escaping.

/// (cluster name, provider) of the demo fleet, in the order clusters are created.
pub(crate) const CLUSTERS: &[(&str, &str)] = &[
    ("2i2c-gcp-us", "gcp"),
    ("openscapes", "aws"),
    ("utoronto", "azure"),
    ("leap", "gcp"),
    ("nasa-cryo", "aws"),
    ("catalyst-latam", "gcp"),
    ("2i2c-aws-us", "aws"),
    ("smithsonian", "aws"),
    ("awi-ciroh", "gcp"),
    ("victor", "aws"),
    ("jupyter-health", "aws"),
    ("earthscope", "aws"),
    ("callysto", "gcp"),
    ("cloudbank", "gcp"),
    ("projectpythia", "aws"),
];

/// Community hub names; `staging` and `prod` come first on every cluster.
pub(crate) const HUBS: &[&str] = &[
    "staging",
    "prod",
    "climatematch",
    "neurohackademy",
    "cosmicds",
    "temple",
    "ucmerced",
    "dask-staging",
    "ohw",
    "pythia",
    "aup",
    "mills",
    "climaterisk",
    "binderhub-ui",
    "cryocloud",
    "esip",
    "nmfs-openscapes",
    "workshop",
    "espm-157",
    "data8x",
];

const FIRST: &[&str] = &[
    "alice",
    "bob",
    "chidi",
    "dana",
    "eun-ji",
    "farah",
    "gabriel",
    "hana",
    "ines",
    "jamal",
    "kwame",
    "lucia",
    "mateo",
    "nadia",
    "oskar",
    "priya",
    "quinn",
    "rafael",
    "sofia",
    "tomas",
    "uma",
    "valentina",
    "wei",
    "ximena",
    "yusuf",
    "zoe",
];

const LAST: &[&str] = &[
    "smith",
    "okafor",
    "garcia",
    "nguyen",
    "kowalski",
    "tanaka",
    "mendes",
    "oconnor",
    "haddad",
    "lindqvist",
    "mbeki",
    "rossi",
    "sato",
    "kumar",
    "dubois",
    "jensen",
];

const DOMAINS: &[&str] = &[
    "berkeley.edu",
    "gmail.com",
    "utoronto.ca",
    "nasa.gov",
    "uw.edu",
];

/// The i-th user of a hub: a GitHub handle or an e-mail address, unique per index.
pub(crate) fn user(i: usize) -> String {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len()) % LAST.len()];
    let n = i / (FIRST.len() * LAST.len());
    let suffix = if n == 0 { String::new() } else { n.to_string() };
    match i % 3 {
        0 => format!("{first}-{last}{suffix}"),
        1 => format!(
            "{}{}{}{}{suffix}",
            first[..1].to_uppercase(),
            &first[1..],
            last[..1].to_uppercase(),
            &last[1..]
        ),
        _ => format!(
            "{first}.{last}{suffix}@{}",
            DOMAINS[(i / 3) % DOMAINS.len()]
        ),
    }
}

/// Named-server names used for a share of servers.
pub(crate) const SERVER_NAMES: &[&str] = &["gpu", "dask", "r-studio", "big-memory"];

/// KubeSpawner's legacy escaping (escapism with lowercase letters and digits safe, `-` escape).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_lowercase() || b.is_ascii_digit() {
            out.push(b as char);
        } else {
            out.push_str(&format!("-{b:02x}"));
        }
    }
    out
}

/// The pod name KubeSpawner gives a user's (named) server.
pub(crate) fn server_pod_name(user: &str, server: &str) -> String {
    if server.is_empty() {
        format!("jupyter-{}", escape(user))
    } else {
        format!("jupyter-{}--{}", escape(user), escape(server))
    }
}

/// Cluster names beyond the list get numbered, like a growing fleet.
pub(crate) fn cluster(i: usize) -> (String, &'static str) {
    let (name, provider) = CLUSTERS[i % CLUSTERS.len()];
    let round = i / CLUSTERS.len();
    if round == 0 {
        (name.to_string(), provider)
    } else {
        (format!("{name}-{}", round + 1), provider)
    }
}

/// Hub names beyond the list get numbered.
pub(crate) fn hub(i: usize) -> String {
    let round = i / HUBS.len();
    let name = HUBS[i % HUBS.len()];
    if round == 0 {
        name.to_string()
    } else {
        format!("{name}-{}", round + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubespawner_escaping_keeps_lowercase_and_digits() {
        assert_eq!(escape("alice-smith"), "alice-2dsmith");
        assert_eq!(escape("Ana.b@x.org"), "-41na-2eb-40x-2eorg");
        assert_eq!(server_pod_name("bob", "gpu"), "jupyter-bob--gpu");
    }

    #[test]
    fn generated_users_are_unique() {
        let users: std::collections::HashSet<String> = (0..5000).map(user).collect();
        assert_eq!(users.len(), 5000);
    }
}
