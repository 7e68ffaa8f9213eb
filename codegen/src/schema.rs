//! The serde model of `schema.yaml`, exactly as written, with a position on every name.
//!
//! Nothing here is checked beyond its YAML shape: `validate` turns this into the resolved `ir`.
//! Unknown keys are rejected by `deny_unknown_fields`; marked-yaml attaches their position.

use indexmap::IndexMap;
use marked_yaml::Spanned;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A name in the schema, with where it was written.
pub type Name = Spanned<String>;

/// Hook parameter name to field name.
pub type HookArgs = IndexMap<Name, Name>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaFile {
    /// Schema language version; only `1` exists.
    pub version: Spanned<u32>,
    /// Service-wide settings.
    #[serde(default)]
    pub service: ServiceDef,
    /// How rows are split between tenants.
    pub tenancy: Option<TenancyDef>,
    /// The entities, in the order they are written.
    pub entities: IndexMap<Name, EntityDef>,
    /// Protocol routes whose behaviour is a hand-written handler.
    #[serde(default)]
    pub endpoints: IndexMap<Name, EndpointDef>,
    /// User roles that `auth:` rules may name, and the rule of ops that name none.
    pub access: Option<AccessDef>,
}

/// `access:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessDef {
    /// Role names `auth:` rules may use (tenants may define more, for their own use).
    #[serde(default)]
    pub roles: Vec<Name>,
    /// The rule of ops without `auth:`; `admin` when absent.
    pub default: Option<Spanned<AuthSpec>>,
}

/// An `auth:` rule: one word or a list of them, any of which lets the caller in.
#[derive(Debug, Clone)]
pub struct AuthSpec(pub Vec<String>);

impl<'de> Deserialize<'de> for AuthSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = AuthSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a caller class (`admin`, `public`, `user`, `owner`, a role) or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AuthSpec, E> {
                Ok(AuthSpec(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AuthSpec, A::Error> {
                let mut words = Vec::new();
                while let Some(word) = seq.next_element::<String>()? {
                    words.push(word);
                }
                Ok(AuthSpec(words))
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

/// One entry under `endpoints:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointDef {
    /// `METHOD /path`; under the tenant's URL (`/{tenant}/path`) unless the path places
    /// `{tenant}` itself or `scope: service`.
    pub http: Name,
    /// `tenant` (default when the schema has tenancy) or `service`.
    pub scope: Option<Name>,
    /// Who may call it: `public` (default), `admin` (the admin credential or a superadmin, as on
    /// ops) or `client` (an OAuth client the route authenticates for the handler).
    pub auth: Option<Name>,
    /// Body encoding documented for POST endpoints: `json` (default) or `form`.
    pub encoding: Option<Name>,
    /// The error format: `problem` (default), `oauth`, `bearer` or `page`.
    pub errors: Option<Name>,
    /// Handler function; defaults to the endpoint's name.
    pub handler: Option<Name>,
    /// Cross-origin access for browser apps: `none` (default), `any` (`*`, for public documents)
    /// or `registered` (the origins the tenant's clients register).
    pub cors: Option<Name>,
    /// One-line description.
    pub doc: Option<String>,
}

/// `service:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDef {
    /// Title of the OpenAPI document.
    pub title: Option<String>,
    /// Path prefix of every generated route, e.g. `/admin`.
    pub prefix: Option<Spanned<String>>,
}

/// `tenancy:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenancyDef {
    /// The entity whose rows are tenants.
    pub entity: Name,
    /// The field of that entity that names a tenant in URLs.
    pub key: Name,
}

/// One entry under `entities:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// Table name; defaults to the entity name.
    pub table: Option<Name>,
    /// One-line description, used in docs and OpenAPI.
    pub doc: Option<String>,
    /// Whether rows belong to a tenant (adds a `tenant_id` column and scopes every route).
    #[serde(default)]
    pub tenant_scoped: Option<Spanned<bool>>,
    /// The field holding the id of the user who owns a row (`id` for the user entity itself),
    /// for `auth: owner`.
    pub owner: Option<Name>,
    /// The rule of this entity's ops that name none (before `access.default`).
    pub auth: Option<Spanned<AuthSpec>>,
    /// The runtime role (a trait in `runtime/src/roles.rs`) this entity plays, when its name is
    /// not the role's own: `plays: oauth_client` on `client`. An entity named like a role plays
    /// it without saying so.
    pub plays: Option<Name>,
    /// `primary_key: id`: declares the server-assigned key `id: { type: uuid, primary_key: true,
    /// default: uuid_v4 }` as the first field (after `tenant_id`).
    pub primary_key: Option<Name>,
    /// `timestamps: true` declares `created_at` and `updated_at` after the other fields,
    /// `timestamps: created_at` only `created_at` (`false`: neither).
    pub timestamps: Option<Spanned<Literal>>,
    /// Unique fields that share one space of values: no row may hold, in one of them, a value
    /// another row holds in any of them (e.g. a username that is another user's email).
    #[serde(default)]
    pub unique_across: Vec<Name>,
    /// The `timestamp` field past which a row is dead (`expires: expires_at`): housekeeping
    /// deletes rows whose value is in the past, in every tenant, through an index on it.
    pub expires: Option<Name>,
    /// Stored columns.
    #[serde(default)]
    pub fields: IndexMap<Name, FieldDef>,
    /// Accepted or returned by ops but never stored.
    #[serde(default, rename = "virtual")]
    pub virtual_fields: IndexMap<Name, VirtualDef>,
    /// Named relationships, usable as `?include=`.
    #[serde(default)]
    pub relations: IndexMap<Name, RelationDef>,
    /// `internal: true`: the rows are protocol state written by hand-written code; the entity
    /// has only the ops listed under `ops:` (none by default).
    pub internal: Option<Spanned<bool>>,
    /// Operations; the five standard ones exist unless switched off (or, on an internal entity,
    /// unless listed).
    #[serde(default)]
    pub ops: IndexMap<Name, Spanned<OpEntry>>,
}

/// One stored field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// `uuid`, `string`, `text`, `integer`, `bool`, `timestamp`, `json`, `strings` or `enum`.
    /// Optional here so its absence is reported at the field's name, not at the top of the file.
    #[serde(rename = "type")]
    pub ty: Option<Name>,
    /// Allowed values of an `enum` field.
    pub values: Option<Vec<Name>>,
    /// The primary key.
    pub primary_key: Option<Spanned<bool>>,
    /// Whether NULL is allowed.
    pub nullable: Option<Spanned<bool>>,
    /// `uuid_v4`, `uuid_v7`, `now`, or a literal.
    pub default: Option<Spanned<Literal>>,
    /// `now` to refresh the value on every update.
    pub on_update: Option<Name>,
    /// `true` (unique in the table) or `tenant` (unique within a tenant).
    pub unique: Option<Spanned<Literal>>,
    /// Adds a database index.
    pub index: Option<Spanned<bool>>,
    /// Foreign key.
    pub references: Option<ReferenceDef>,
    /// Never returned and never accepted; set by hooks.
    pub hidden: Option<Spanned<bool>>,
    /// Accepted on input but never returned.
    pub write_only: Option<Spanned<bool>>,
    /// Returned but never accepted; server-set.
    pub read_only: Option<Spanned<bool>>,
    /// Smallest accepted value (integers).
    pub minimum: Option<Spanned<i64>>,
    /// Largest accepted value (integers).
    pub maximum: Option<Spanned<i64>>,
    /// Maximum length in characters (strings).
    pub max_length: Option<Spanned<u32>>,
    /// Minimum length in characters (strings).
    pub min_length: Option<Spanned<u32>>,
    /// `email` or `uri`.
    pub format: Option<Name>,
    /// `slug`: lowercase letters, digits and dashes.
    pub pattern: Option<Name>,
    /// One-line description.
    pub doc: Option<String>,
}

/// `references:` of a field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceDef {
    /// The referenced entity (its primary key).
    pub entity: Name,
    /// `cascade`, `restrict` or `set_null`.
    pub on_delete: Option<Name>,
}

/// One virtual field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualDef {
    /// Same types as stored fields.
    #[serde(rename = "type")]
    pub ty: Option<Name>,
    /// Accepted in request bodies.
    pub input: Option<Spanned<bool>>,
    /// Returned in responses (by hooks).
    pub output: Option<Spanned<bool>>,
    /// Required on create (inputs only).
    pub required: Option<Spanned<bool>>,
    /// Minimum length in characters.
    pub min_length: Option<Spanned<u32>>,
    /// Maximum length in characters.
    pub max_length: Option<Spanned<u32>>,
    /// One-line description.
    pub doc: Option<String>,
}

/// One named relationship.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationDef {
    /// The child entity.
    pub has_many: Name,
    /// The child's field that references this entity.
    pub via: Name,
}

/// An op entry: `false` switches a standard op off, a mapping configures it.
#[derive(Debug)]
pub enum OpEntry {
    /// `create: false` / `create: true`.
    Enabled(bool),
    /// `create: { ... }`.
    Def(Box<OpDef>),
}

/// One operation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpDef {
    /// Which standard action a custom op performs (op alias).
    pub action: Option<Name>,
    /// `METHOD /path`, relative to the entity's scope.
    pub http: Option<Name>,
    /// `json` or `form`.
    pub encoding: Option<Name>,
    /// Who may call it: `admin` (default), `public`, `user`, `owner`, a role from `access.roles`,
    /// or a list of these.
    pub auth: Option<Spanned<AuthSpec>>,
    /// Which fields the body accepts (create/update).
    pub input: Option<Vec<Name>>,
    /// `record` (default) or `empty`.
    pub response: Option<Name>,
    /// HTTP status of a success.
    pub status: Option<Spanned<u16>>,
    /// Hooks run before the write, in order.
    #[serde(default)]
    pub pre: Vec<Spanned<HookRef>>,
    /// Hooks run after the write, in order.
    #[serde(default)]
    pub post: Vec<Spanned<HookRef>>,
    /// List: fields usable as `?field=value`.
    pub filters: Option<Vec<Name>>,
    /// List: fields usable as `?sort=field` / `?sort=-field`.
    pub sort: Option<Vec<Name>>,
    /// List: page size when `?limit=` is absent.
    pub page_size: Option<Spanned<u32>>,
    /// List: the largest `?limit=` accepted.
    pub max_page_size: Option<Spanned<u32>>,
}

/// A hook reference: `hash_pw` or `{ hook: hash_pw, args: { password: secret } }`.
#[derive(Debug)]
pub enum HookRef {
    /// A bare name; parameters bind to fields of the same name.
    Bare(String),
    /// A name with parameter bindings.
    Bound {
        /// The hook's name.
        hook: Name,
        /// Parameter name to field name.
        args: HookArgs,
    },
}

/// A scalar or an empty list, as written; its meaning depends on the field type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// Any scalar, as text.
    Scalar(String),
    /// `[]` or a list of scalars.
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for Literal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LiteralVisitor;
        impl<'de> Visitor<'de> for LiteralVisitor {
            type Value = Literal;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a scalar or a list of scalars")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Literal, E> {
                Ok(Literal::Scalar(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Literal, E> {
                Ok(Literal::Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Literal, E> {
                Ok(Literal::Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Literal, E> {
                Ok(Literal::Scalar(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Literal, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    items.push(item);
                }
                Ok(Literal::List(items))
            }
        }
        deserializer.deserialize_any(LiteralVisitor)
    }
}

impl<'de> Deserialize<'de> for OpEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OpVisitor;
        impl<'de> Visitor<'de> for OpVisitor {
            type Value = OpEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`false`, `true` or a mapping of op settings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OpEntry, E> {
                match v {
                    "true" => Ok(OpEntry::Enabled(true)),
                    "false" => Ok(OpEntry::Enabled(false)),
                    other => {
                        Err(E::custom(format!("expected `false`, `true` or a mapping of op settings, found `{other}`")))
                    }
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<OpEntry, E> {
                Ok(OpEntry::Enabled(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OpEntry, A::Error> {
                let def = OpDef::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(OpEntry::Def(Box::new(def)))
            }
        }
        deserializer.deserialize_any(OpVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HookRefMap {
    hook: Name,
    #[serde(default)]
    args: IndexMap<Name, Name>,
}

impl<'de> Deserialize<'de> for HookRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = HookRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a hook name or `{ hook: NAME, args: { PARAM: FIELD } }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HookRef, E> {
                Ok(HookRef::Bare(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HookRef, A::Error> {
                let map = HookRefMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(HookRef::Bound { hook: map.hook, args: map.args })
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}
