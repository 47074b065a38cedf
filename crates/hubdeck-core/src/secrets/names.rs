//! Which keys name a credential.
//!
//! A key is split into lowercase words (camelCase, `snake_case`, `kebab-case`, `SCREAMING_CASE`
//! and acronyms alike: `apiToken`, `api_token`, `API_TOKEN`, `APIToken` are all
//! `api token`). The *last* word says what the value is, so `secretToken` and
//! `client_secret` are credentials while `tokenTTL`, `token_url`, `secretName`,
//! `client_secret_file` and `token_lifetime_seconds` are not: they are a duration, a URL, a
//! name and a path *about* a credential. Trailing encoding words (`value`, `b64`, `base64`,
//! `data`, `hash`, `encoded`) are looked through: `tokenValue` is a token.
//!
//! The last word is a credential when it is (or, for lowercase run-together keys like
//! `apitoken` or `cookiesecret`, ends in) `token`, `secret`, `password`, `passwd`, or is
//! `passphrase`, `pwd`, `pass`, `credential(s)`, `creds`, `apikey`, `privatekey`,
//! `secretkey`, `accesskey`, `htpasswd`, `dockerconfigjson`. A `key`/`keys` is a credential
//! only when the word before says what kind (`privateKey`, `api_key`, `accessKey`,
//! `secretKey`, `signing_key`, `encryptionKey`, `sshKey`, `clientKey`…), or when it sits under
//! `CryptKeeper` (JupyterHub's auth-state keys) or under a `tls`, `ssl` or `manual` block
//! (`proxy.https.manual.key` is the TLS private key; the `cert`/`crt` beside it is public).
//! `keyMaterial`/`key_material` is key material. `publicKey`, `keyName`, `key_id` are not.
//!
//! Kubernetes references to Secrets are not credentials: `existingSecret`,
//! `imagePullSecret(s)`/`pullSecrets` (Secret names, or z2jh's settings block whose own
//! `password` is the credential).

/// Words before `key`/`keys` that make it key material.
const KEY_KINDS: &[&str] = &[
    "private",
    "api",
    "access",
    "secret",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "crypt",
    "client",
    "master",
    "ssh",
    "hmac",
    "session",
    "auth",
    "shared",
    "jwt",
    "tls",
    "ssl",
    "license",
    "storage",
    "account",
];

/// Parents under which a bare `key` is TLS/SSH key material.
const KEY_PARENTS: &[&str] = &["tls", "ssl", "manual", "ssh"];

/// Trailing words that say how a credential is encoded, not what it is.
const ENCODINGS: &[&str] = &[
    "value", "values", "b64", "base64", "data", "hash", "hashed", "encoded", "raw", "plain",
];

/// Last words that are a credential outright.
const CREDENTIAL_WORDS: &[&str] = &[
    "passphrase",
    "pwd",
    "pass",
    "credential",
    "credentials",
    "creds",
    "apikey",
    "apikeys",
    "privatekey",
    "secretkey",
    "accesskey",
    "htpasswd",
    "dockerconfigjson",
];

/// Endings of a last word that make it a credential (`token`, `apitoken`, `cookiesecret`).
const CREDENTIAL_ENDINGS: &[&str] = &[
    "token",
    "tokens",
    "secret",
    "secrets",
    "password",
    "passwords",
    "passwd",
];

/// Splits a key into lowercase words at separators, lower-to-upper case changes and the end
/// of an acronym (`APIToken` → `api`, `token`); digits stay in their word (`oauth2`, `b64`).
pub(super) fn words(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j)) {
            let next = chars.get(i + 1).copied();
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase()
                    && c.is_uppercase()
                    && next.is_some_and(|n| n.is_lowercase()));
            if boundary && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether `key` names a credential; `parent` is the key of the mapping it sits in (list
/// indices between are looked through), if any.
pub(super) fn is_credential_key(key: &str, parent: Option<&str>) -> bool {
    let mut w = words(key);
    while w.len() > 1 && w.last().is_some_and(|l| ENCODINGS.contains(&l.as_str())) {
        w.pop();
    }
    let Some(last) = w.last().map(String::as_str) else {
        return false;
    };
    let before = w
        .len()
        .checked_sub(2)
        .and_then(|i| w.get(i))
        .map(String::as_str);
    // References to Kubernetes Secrets, not credentials.
    if w.first().is_some_and(|f| f == "existing") {
        return false;
    }
    if before == Some("pull") && matches!(last, "secret" | "secrets") {
        return false;
    }
    if CREDENTIAL_WORDS.contains(&last) || CREDENTIAL_ENDINGS.iter().any(|e| last.ends_with(e)) {
        return true;
    }
    if last == "material" && before == Some("key") {
        return true;
    }
    if matches!(last, "key" | "keys") {
        if before.is_some_and(|b| KEY_KINDS.contains(&b)) {
            return true;
        }
        if before.is_none() {
            let p = parent.map(words).unwrap_or_default();
            if p.iter().any(|x| x == "crypt" || x == "cryptkeeper") {
                return true;
            }
            if last == "key" && p.len() == 1 && KEY_PARENTS.contains(&p[0].as_str()) {
                return true;
            }
        }
    }
    false
}

/// Keys whose presence makes a mapping under a credential key a settings block (z2jh's
/// `imagePullSecret: {create, registry, username, password}`, a volume's
/// `secret: {secretName, items}`, `proxy.https.secret: {name, key, crt}`) rather than a map
/// of credentials (`passwords: {ada: …, bob: …}`): there only the credential-named keys are
/// secret.
pub(super) fn is_settings_key(key: &str) -> bool {
    let w = words(key);
    matches!(
        w.last().map(String::as_str),
        Some(
            "name"
                | "names"
                | "create"
                | "enabled"
                | "enable"
                | "registry"
                | "username"
                | "user"
                | "email"
                | "items"
                | "optional"
                | "mode"
                | "ref"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_every_case_style() {
        assert_eq!(words("apiToken"), ["api", "token"]);
        assert_eq!(words("api_token"), ["api", "token"]);
        assert_eq!(words("API_TOKEN"), ["api", "token"]);
        assert_eq!(words("APIToken"), ["api", "token"]);
        assert_eq!(words("tokenTTL"), ["token", "ttl"]);
        assert_eq!(
            words("oauth2-client.secret"),
            ["oauth2", "client", "secret"]
        );
        assert!(words("--").is_empty());
    }

    #[test]
    fn credentials_by_name() {
        for k in [
            "secretToken",
            "cookieSecret",
            "cookie_secret",
            "apiToken",
            "api_token",
            "auth_token",
            "JUPYTERHUB_API_TOKEN",
            "GITHUB_CLIENT_SECRET",
            "client_secret",
            "clientSecret",
            "password",
            "Password",
            "lookup_dn_search_password",
            "passwd",
            "htpasswd",
            "dbPass",
            "apikey",
            "api_key",
            "ApiKey",
            "privateKey",
            "private_key",
            "accessKey",
            "secretAccessKey",
            "secret_key",
            "signing_key",
            "encryptionKey",
            "sshKey",
            "keyMaterial",
            "key_material",
            "token",
            "tokens",
            "secrets",
            "credentials",
            "gcsCredentials",
            "tokenValue",
            "secret_b64",
            "apitoken",
            "cookiesecret",
            "passphrase",
        ] {
            assert!(is_credential_key(k, None), "{k} should be a credential");
        }
    }

    #[test]
    fn not_credentials_by_name() {
        for k in [
            "tokenTTL",
            "token_lifetime_seconds",
            "token_url",
            "tokenUrl",
            "secretName",
            "secret_name",
            "secretKeyRef",
            "client_secret_file",
            "client_id",
            "existingSecret",
            "imagePullSecret",
            "imagePullSecrets",
            "pullSecrets",
            "publicKey",
            "keyName",
            "key_id",
            "accessKeyId",
            "key",
            "keys",
            "extraConfig",
            "cpu",
            "admin_users",
            "auth_state",
            "enable_auth_state",
            "admin_access",
            "value",
            "name",
            "cert",
            "crt",
        ] {
            assert!(
                !is_credential_key(k, None),
                "{k} should not be a credential"
            );
        }
    }

    #[test]
    fn key_depends_on_its_parent() {
        assert!(is_credential_key("keys", Some("CryptKeeper")));
        assert!(is_credential_key("key", Some("manual")));
        assert!(is_credential_key("key", Some("tls")));
        assert!(!is_credential_key("cert", Some("manual")));
        assert!(!is_credential_key("crt", Some("tls")));
        // proxy.https.secret.key names the key *in* a Secret: a reference.
        assert!(!is_credential_key("key", Some("secret")));
        assert!(!is_credential_key("keys", Some("hub")));
    }
}
