//! The protocol's closed vocabularies: the words a client, a tenant or a token may carry where
//! the protocol allows only a fixed set, as Rust enums ([`crate::wire_enum!`]).
//!
//! keygate-codegen reads this file. A role that reads a schema `enum` field through one of these
//! types (`fn token_endpoint_auth_method(&self) -> ClientAuthMethod`) makes it the field's Rust
//! type in the generated model, request bodies and responses, after checking that every value
//! the schema allows is one of the enum's wire values (a located `role-enum-values` error
//! otherwise). Protocol code then matches on variants; a misspelt word is a compile error.

crate::wire_enum! {
    /// How a client authenticates at the token endpoint (RFC 7591 §2
    /// `token_endpoint_auth_method`).
    pub enum ClientAuthMethod {
        /// The client secret in an HTTP Basic `Authorization` header (RFC 6749 §2.3.1).
        ClientSecretBasic = "client_secret_basic",
        /// The client secret in the form body (RFC 6749 §2.3.1).
        ClientSecretPost = "client_secret_post",
        /// A JWT assertion signed with a key from the client's `jwks` (RFC 7523 §2.2, OIDC Core
        /// §9).
        PrivateKeyJwt = "private_key_jwt",
        /// No authentication: a public client (RFC 6749 §2.1), which must use PKCE.
        None = "none",
    }
}

impl ClientAuthMethod {
    /// Whether the server issues the client a secret (`client_secret_basic`,
    /// `client_secret_post`); a public client and one that signs assertions get none.
    pub fn has_secret(self) -> bool {
        matches!(self, ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost)
    }

    /// Whether it is a public client (`none`), which cannot keep a secret (RFC 6749 §2.1).
    pub fn is_public(self) -> bool {
        self == ClientAuthMethod::None
    }
}

crate::wire_enum! {
    /// The kind of client (OIDC Registration §2 `application_type`), which decides the redirect
    /// URIs it may use.
    pub enum ApplicationType {
        /// A web server or browser app: `https`, or `http` on a loopback host.
        Web = "web",
        /// An app on the user's device: also private-use schemes and loopback ports chosen at
        /// run time (RFC 8252 §7.1, §7.3).
        Native = "native",
    }
}

crate::wire_enum! {
    /// JWS algorithms Keygate signs with and accepts (RFC 7518 §3.1, RFC 8037 §3.1); the wire
    /// value is the `alg` header value.
    pub enum Algorithm {
        /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys. Required for OpenID Connect ID tokens.
        RS256 = "RS256",
        /// ECDSA on P-256 with SHA-256.
        ES256 = "ES256",
        /// Ed25519.
        EdDSA = "EdDSA",
    }
}

crate::wire_enum! {
    /// Who may register clients dynamically (RFC 7591 §3): a tenant's `registration` setting.
    pub enum RegistrationMode {
        /// Holders of an initial access token (the default).
        Token = "token",
        /// Anyone.
        Open = "open",
        /// Nobody.
        Closed = "closed",
    }
}

crate::wire_enum! {
    /// Grant types the token endpoint implements (RFC 6749 §4.1, §6, §4.4), as clients register
    /// them (RFC 7591 §2 `grant_types`).
    pub enum GrantType {
        /// Redeeming an authorization code (RFC 6749 §4.1.3).
        AuthorizationCode = "authorization_code",
        /// Refreshing (RFC 6749 §6).
        RefreshToken = "refresh_token",
        /// A confidential client acting for itself (RFC 6749 §4.4).
        ClientCredentials = "client_credentials",
    }
}

impl GrantType {
    /// Whether `grant_types` (a client's registered list, as stored) holds this grant type.
    pub fn is_in(self, grant_types: &[String]) -> bool {
        grant_types.iter().any(|g| g == self.as_str())
    }
}

crate::wire_enum! {
    /// Whether sign-in asks for a second factor: a tenant's `mfa_policy`, and a client's, which
    /// takes effect only when stricter ([`MfaPolicy::stricter`]).
    pub enum MfaPolicy {
        /// Never asked; enrolment is refused.
        Off = "off",
        /// Asked of users who enrolled a factor.
        Optional = "optional",
        /// Asked of every user; one without a factor enrols at sign-in.
        Required = "required",
    }
}

impl MfaPolicy {
    /// The stricter of two policies (`off` < `optional` < `required`).
    pub fn stricter(self, other: Option<MfaPolicy>) -> MfaPolicy {
        let rank = |policy: MfaPolicy| match policy {
            MfaPolicy::Off => 0,
            MfaPolicy::Optional => 1,
            MfaPolicy::Required => 2,
        };
        match other {
            Some(other) if rank(other) > rank(self) => other,
            _ => self,
        }
    }
}

crate::wire_enum! {
    /// The kind of a second factor.
    pub enum FactorKind {
        /// An RFC 6238 TOTP authenticator app.
        Totp = "totp",
        /// A WebAuthn credential (W3C WebAuthn Level 2).
        Passkey = "passkey",
    }
}

crate::wire_enum! {
    /// What a WebAuthn ceremony in flight is for.
    pub enum CeremonyPurpose {
        /// A signed-in user registers a passkey.
        Register = "register",
        /// A passwordless sign-in with a discoverable credential.
        SignIn = "sign_in",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every vocabulary enum's name and wire values.
    const VOCABULARIES: [(&str, &[&str]); 8] = [
        ("ClientAuthMethod", ClientAuthMethod::VALUES),
        ("ApplicationType", ApplicationType::VALUES),
        ("Algorithm", Algorithm::VALUES),
        ("RegistrationMode", RegistrationMode::VALUES),
        ("GrantType", GrantType::VALUES),
        ("MfaPolicy", MfaPolicy::VALUES),
        ("FactorKind", FactorKind::VALUES),
        ("CeremonyPurpose", CeremonyPurpose::VALUES),
    ];

    /// Whether `line` compares a vocabulary word as a string: a wire value beside `==`/`!=`, in
    /// `Some("...")` or `matches!`, or a string compared with an accessor a role reads as an enum.
    fn compares_a_word_as_a_string(line: &str, accessors: &[String]) -> bool {
        let literal = VOCABULARIES.iter().flat_map(|(_, values)| values.iter()).any(|value| {
            let quoted = format!("\"{value}\"");
            [format!("== {quoted}"), format!("!= {quoted}"), format!("{quoted} =="), format!("{quoted} !=")]
                .iter()
                .any(|pattern| line.contains(pattern.as_str()))
                || line.contains(&format!("Some({quoted})"))
                || (line.contains("matches!(") && line.contains(&quoted))
        });
        let compares_string = line.contains("== \"") || line.contains("!= \"") || line.contains("matches!(");
        literal || (compares_string && accessors.iter().any(|accessor| line.contains(accessor.as_str())))
    }

    /// `name()` of every role accessor whose type is a vocabulary enum, read from `roles.rs`.
    fn enum_accessors(roles: &str) -> Vec<String> {
        roles
            .lines()
            .filter_map(|line| {
                let (name, returned) = line.trim().strip_prefix("fn ")?.split_once("(&self) -> ")?;
                VOCABULARIES.iter().any(|(vocabulary, _)| returned.contains(vocabulary)).then(|| format!("{name}()"))
            })
            .collect()
    }

    fn scan(dir: &Path, accessors: &[String], found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, accessors, found);
                continue;
            }
            let declares = ["vocab.rs", "wire_enum.rs"].iter().any(|name| path.ends_with(name));
            if declares || path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (number, line) in source.lines().enumerate() {
                if !line.trim_start().starts_with("//") && compares_a_word_as_a_string(line, accessors) {
                    found.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                }
            }
        }
    }

    /// Schema `enum` fields reach protocol code as these enums, so no protocol code compares
    /// their words as strings; a comparison that creeps back in fails here.
    #[test]
    fn protocol_code_compares_vocabulary_as_enums() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let accessors = enum_accessors(&std::fs::read_to_string(src.join("roles.rs")).unwrap());
        assert!(accessors.len() >= 6, "roles.rs reads the schema's enum fields as enums: {accessors:?}");
        for offending in [
            r#"if client.model.token_endpoint_auth_method() == "none" {"#,
            r#"let public = method != "private_key_jwt";"#,
            r#"if matches!(kind.as_str(), "web" | "native") {"#,
            r#"jwk.alg.as_deref() == Some("ES256")"#,
            r#"if row.registration() == "x" {"#,
        ] {
            assert!(compares_a_word_as_a_string(offending, &accessors), "not caught: {offending}");
        }
        assert!(!compares_a_word_as_a_string(r#""none" => prompt.none = true,"#, &accessors));
        let mut found = Vec::new();
        scan(&src, &accessors, &mut found);
        assert!(found.is_empty(), "compare the `crate::vocab` enums instead:\n{}", found.join("\n"));
    }

    #[test]
    fn wire_values_are_the_protocol_words() {
        assert_eq!(ClientAuthMethod::VALUES, ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]);
        assert_eq!(Algorithm::from_wire("EdDSA"), Some(Algorithm::EdDSA));
        assert_eq!(Algorithm::from_wire("eddsa"), None, "`alg` values are case-sensitive (RFC 7515 §4.1.1)");
        assert!(ClientAuthMethod::ClientSecretPost.has_secret() && !ClientAuthMethod::PrivateKeyJwt.has_secret());
        assert!(ClientAuthMethod::None.is_public());
        let registered = ["refresh_token".to_owned()];
        assert!(GrantType::RefreshToken.is_in(&registered) && !GrantType::AuthorizationCode.is_in(&registered));
        assert_eq!(MfaPolicy::Optional.stricter(Some(MfaPolicy::Required)), MfaPolicy::Required);
        assert_eq!(MfaPolicy::Required.stricter(Some(MfaPolicy::Off)), MfaPolicy::Required, "never laxer");
        assert_eq!(MfaPolicy::Off.stricter(None), MfaPolicy::Off);
    }
}
