//! The resolved schema: every name checked, every default filled in, every route computed.
//!
//! Emitters read only this. It is also serialised as `schema.json` (the compiled schema), which
//! tools and the schema-driven test suite walk instead of re-parsing YAML.

use serde::Serialize;

use crate::hooks::{ParamKind, Phase};

/// The whole API.
#[derive(Debug, Clone, Serialize)]
pub struct Ir {
    /// Whether ops identify callers beyond the admin credential (`auth:` rules); the generated
    /// handlers then resolve every caller through the runtime's roles, superadmins included.
    pub rules: bool,
    /// OpenAPI title.
    pub title: String,
    /// Path prefix of every route, without a trailing slash (may be empty).
    pub prefix: String,
    /// How rows are split between tenants, when they are.
    pub tenancy: Option<Tenancy>,
    /// Entities in schema order.
    pub entities: Vec<Entity>,
    /// Protocol endpoints in schema order.
    pub endpoints: Vec<Endpoint>,
    /// Entities bound to runtime roles.
    pub roles: Vec<RoleBinding>,
}

/// An entity playing a runtime role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleBinding {
    /// The role's trait name, e.g. `OauthClient`.
    pub trait_name: String,
    /// Path of the trait.
    pub path: String,
    /// The entity.
    pub entity: String,
    /// Fields the role reads, with how each accessor returns it.
    pub fields: Vec<(String, crate::hooks::Access)>,
    /// How runtime code creates rows of this role, if the role has a constructor.
    pub constructor: Option<ConstructorBinding>,
    /// The columns runtime code queries and sets, if the role has column handles.
    pub columns: Option<ColumnsBinding>,
}

/// A role constructor bound to an entity.
#[derive(Debug, Clone, Serialize)]
pub struct ConstructorBinding {
    /// Path of the `New{Role}` struct.
    pub path: String,
    /// Fields it sets, in order.
    pub params: Vec<String>,
}

/// A role's column handles bound to an entity.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnsBinding {
    /// Path of the `{Role}Columns` trait.
    pub path: String,
    /// `(constant, field)` pairs, in declaration order; every field is stored, of the handle's type.
    pub handles: Vec<(String, String)>,
}

/// A route whose behaviour is a hand-written handler.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    /// Endpoint name.
    pub name: String,
    /// HTTP method, uppercase.
    pub method: String,
    /// Full route path.
    pub path: String,
    /// Whether the path names a tenant (`{tenant}`), resolved before the handler runs.
    pub tenant_scoped: bool,
    /// Who may call it.
    pub auth: Auth,
    /// Path of the handler function.
    pub handler: String,
    /// Whether the handler is generic over the schema's `Roles`.
    pub needs_roles: bool,
    /// Body encoding the handler reads.
    pub encoding: Encoding,
    /// How every refusal of the route is written.
    pub errors: ErrorFamily,
    /// Cross-origin access.
    pub cors: Cors,
    /// Generated route function, e.g. `endpoint_jwks`.
    pub route_fn: String,
    /// One-line description.
    pub doc: String,
    /// Line in schema.yaml.
    pub line: usize,
}

/// `tenancy:` resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Tenancy {
    /// The tenant entity.
    pub entity: String,
    /// The tenant field that names a tenant in URLs.
    pub key: String,
    /// Path of one tenant's scope, e.g. `/admin/tenants/{tenant}`.
    pub scope_path: String,
}

/// One entity.
#[derive(Debug, Clone, Serialize)]
pub struct Entity {
    /// snake_case name, e.g. `api_key`.
    pub name: String,
    /// The field naming a row's owning user, for `auth: owner`.
    pub owner: Option<String>,
    /// Unique string fields sharing one space of values (`unique_across:`); empty for none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unique_across: Vec<String>,
    /// The `timestamp` field past which housekeeping deletes a row (`expires:`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// PascalCase name, e.g. `ApiKey`.
    pub pascal: String,
    /// Table name.
    pub table: String,
    /// One-line description.
    pub doc: String,
    /// Whether rows belong to a tenant.
    pub tenant_scoped: bool,
    /// Name of the primary-key field.
    pub primary_key: String,
    /// Stored fields, `tenant_id` included when scoped.
    pub fields: Vec<Field>,
    /// Virtual fields.
    pub virtuals: Vec<Virtual>,
    /// Named has-many relationships.
    pub relations: Vec<Relation>,
    /// Enabled operations.
    pub ops: Vec<Op>,
    /// Line of the entity in schema.yaml.
    pub line: usize,
}

impl Entity {
    /// The stored field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The virtual field called `name`.
    pub fn virtual_field(&self, name: &str) -> Option<&Virtual> {
        self.virtuals.iter().find(|v| v.name == name)
    }

    /// The primary-key field.
    pub fn pk(&self) -> &Field {
        self.field(&self.primary_key).expect("validated: the primary key is a field")
    }

    /// The op performing `action` under its standard name, if enabled.
    pub fn standard_op(&self, action: Action) -> Option<&Op> {
        self.ops.iter().find(|op| op.action == action && op.name == action.as_str())
    }
}

/// Value types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FieldType {
    /// A UUID.
    Uuid,
    /// A bounded string.
    String,
    /// An unbounded string.
    Text,
    /// A 64-bit integer.
    Integer,
    /// A boolean.
    Bool,
    /// A UTC timestamp.
    Timestamp,
    /// Any JSON value.
    Json,
    /// A list of strings (stored as JSON).
    Strings,
    /// One of a fixed set of strings.
    Enum {
        /// The allowed values.
        values: Vec<String>,
        /// The Rust enum its values are (generated code only; not part of `schema.json`).
        #[serde(skip)]
        rust: EnumType,
    },
}

/// The Rust enum of an `enum` field: a type in its entity's module, either generated from the
/// schema's values or, when a role reads the field through a runtime vocabulary enum, an alias
/// of that enum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnumType {
    /// Its name in the entity's module, the field name in UpperCamelCase (`TokenEndpointAuthMethod`).
    pub name: String,
    /// Its path from generated code (`crate::entities::client::TokenEndpointAuthMethod`).
    pub path: String,
    /// The variant of each value, in the order of the field's `values`.
    pub variants: Vec<String>,
    /// The runtime vocabulary enum it is, when a role reads the field through one.
    pub runtime: Option<RuntimeEnum>,
}

/// A runtime vocabulary enum (`wire_enum!` in a hook module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeEnum {
    /// Its name, e.g. `ClientAuthMethod`.
    pub name: String,
    /// Its path, e.g. `::keygate_runtime::vocab::ClientAuthMethod`.
    pub path: String,
    /// The role whose binding made it the field's type.
    pub role: String,
}

impl FieldType {
    /// The schema spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldType::Uuid => "uuid",
            FieldType::String => "string",
            FieldType::Text => "text",
            FieldType::Integer => "integer",
            FieldType::Bool => "bool",
            FieldType::Timestamp => "timestamp",
            FieldType::Json => "json",
            FieldType::Strings => "strings",
            FieldType::Enum { .. } => "enum",
        }
    }

    /// Whether values of this type can be compared, so used as a filter or sort key.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, FieldType::Json | FieldType::Strings)
    }
}

/// A default value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum DefaultValue {
    /// A fresh random UUID (RFC 9562 §5.4).
    UuidV4,
    /// A fresh time-ordered UUID (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, then 74
    /// random bits, so keys drawn later sort later.
    UuidV7,
    /// The current time.
    Now,
    /// A boolean literal.
    Bool(bool),
    /// An integer literal.
    Integer(i64),
    /// A string literal (also enum values).
    String(String),
    /// An empty list (`strings`) or JSON `[]`.
    EmptyList,
}

/// Uniqueness of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unique {
    /// Not unique.
    No,
    /// Unique in the whole table.
    Global,
    /// Unique among the rows of one tenant.
    Tenant,
}

/// What happens to a row when the row it references is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// Delete this row too.
    Cascade,
    /// Refuse the delete.
    Restrict,
    /// Set this field to NULL.
    SetNull,
}

/// A foreign key.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// The referenced entity.
    pub entity: String,
    /// Its primary-key field.
    pub field: String,
    /// Delete behaviour.
    pub on_delete: OnDelete,
}

/// Who sees a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Accepted and returned.
    Normal,
    /// Neither accepted nor returned; set by the server or hooks.
    Hidden,
    /// Accepted, never returned.
    WriteOnly,
    /// Returned, never accepted.
    ReadOnly,
}

impl Visibility {
    /// Whether request bodies may carry the field.
    pub fn is_writable(self) -> bool {
        matches!(self, Visibility::Normal | Visibility::WriteOnly)
    }

    /// Whether responses carry the field.
    pub fn is_readable(self) -> bool {
        matches!(self, Visibility::Normal | Visibility::ReadOnly)
    }
}

/// A check on string values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// An email address.
    Email,
    /// An absolute URI.
    Uri,
    /// Lowercase letters, digits and single dashes.
    Slug,
}

/// One stored field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// Column and JSON name.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Whether it is the primary key.
    pub primary_key: bool,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Value when the request does not give one.
    pub default: Option<DefaultValue>,
    /// Refreshed to the current time on every update.
    pub on_update_now: bool,
    /// Uniqueness.
    pub unique: Unique,
    /// Whether the column is indexed.
    pub index: bool,
    /// Foreign key, if any.
    pub references: Option<Reference>,
    /// Who sees it.
    pub visibility: Visibility,
    /// Maximum length in characters.
    pub max_length: Option<u32>,
    /// Minimum length in characters.
    pub min_length: Option<u32>,
    /// Smallest accepted value (integers).
    pub minimum: Option<i64>,
    /// Largest accepted value (integers).
    pub maximum: Option<i64>,
    /// Value format checked on input.
    pub format: Option<Format>,
    /// One-line description.
    pub doc: String,
    /// Whether the generator added it (`tenant_id`).
    pub implicit: bool,
}

impl Field {
    /// Whether a create request must carry it.
    pub fn required_on_create(&self) -> bool {
        !self.nullable && self.default.is_none()
    }
}

/// One virtual field.
#[derive(Debug, Clone, Serialize)]
pub struct Virtual {
    /// JSON name.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// Accepted in request bodies.
    pub input: bool,
    /// Returned in responses.
    pub output: bool,
    /// Required on create.
    pub required: bool,
    /// Minimum length in characters.
    pub min_length: Option<u32>,
    /// Maximum length in characters.
    pub max_length: Option<u32>,
    /// One-line description.
    pub doc: String,
}

/// A has-many relationship.
#[derive(Debug, Clone, Serialize)]
pub struct Relation {
    /// Name used in `?include=`.
    pub name: String,
    /// The child entity.
    pub entity: String,
    /// The child's field referencing this entity.
    pub via: String,
}

/// The standard behaviours an op performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Insert a row.
    Create,
    /// Fetch a row by primary key.
    Read,
    /// Change a row.
    Update,
    /// Delete a row.
    Delete,
    /// Page through rows.
    List,
}

impl Action {
    /// All actions, in their canonical order.
    pub const ALL: [Action; 5] = [Action::Create, Action::Read, Action::Update, Action::Delete, Action::List];

    /// The action's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::List => "list",
        }
    }

    /// The action called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// Whether the op takes a request body.
    pub fn has_body(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }

    /// Whether the path names one row.
    pub fn is_item(self) -> bool {
        matches!(self, Action::Read | Action::Update | Action::Delete)
    }
}

/// Which browser origins may call an endpoint (CORS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cors {
    /// Same-origin only: no CORS headers.
    None,
    /// Any origin (`Access-Control-Allow-Origin: *`); for public documents.
    Any,
    /// Origins registered by the tenant's clients (`allowed_cors_origins`).
    Registered,
}

impl Cors {
    /// Whether cross-origin requests are answered at all.
    pub fn enabled(self) -> bool {
        self != Cors::None
    }
}

/// The error format of an endpoint (`keygate_runtime::ErrorFamily`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorFamily {
    /// RFC 6749 §5.2 JSON.
    OAuth,
    /// RFC 6750 §3 `WWW-Authenticate: Bearer` and JSON.
    Bearer,
    /// RFC 9457 problem+json.
    Problem,
    /// An HTML error page.
    Page,
}

impl ErrorFamily {
    /// The runtime variant's name.
    pub fn variant(self) -> &'static str {
        match self {
            ErrorFamily::OAuth => "OAuth",
            ErrorFamily::Bearer => "Bearer",
            ErrorFamily::Problem => "Problem",
            ErrorFamily::Page => "Page",
        }
    }
}

/// Request body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// An access rule beyond the admin credential (which passes every rule).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// Any signed-in user of the tenant.
    pub user: bool,
    /// Users, for rows they own.
    pub owner: bool,
    /// Any service of the tenant (by a service key).
    pub service: bool,
    /// Users with any of these roles.
    pub roles: Vec<String>,
}

/// Who may call an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Auth {
    /// The admin credential, or a superadmin when the schema identifies users (ops with rules).
    Admin,
    /// Anyone.
    Public,
    /// Endpoints only: an OAuth client, authenticated by the generated route before the handler,
    /// which receives it (RFC 6749 §2.3).
    Client,
    /// The admin credential, and the users the op's [`Rule`] admits.
    Rule,
}

/// What a success returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseShape {
    /// The row (or page of rows).
    Record,
    /// No body.
    Empty,
}

/// One hook parameter bound to a field.
#[derive(Debug, Clone, Serialize)]
pub struct Binding {
    /// Parameter name.
    pub param: String,
    /// What it binds to.
    pub kind: ParamKind,
    /// The field.
    pub field: String,
}

/// A hook call in an op.
#[derive(Debug, Clone, Serialize)]
pub struct HookCall {
    /// Hook name.
    pub hook: String,
    /// Path of the function.
    pub path: String,
    /// When it runs.
    pub phase: Phase,
    /// Arguments, in parameter order.
    pub bindings: Vec<Binding>,
    /// Whether it is generic over the schema's roles (`<R: Roles>`).
    pub needs_roles: bool,
    /// Line in schema.yaml.
    pub line: usize,
}

/// List settings.
#[derive(Debug, Clone, Serialize)]
pub struct ListSpec {
    /// Fields usable as filters.
    pub filters: Vec<String>,
    /// Fields usable as sort keys; the first is the default.
    pub sort: Vec<String>,
    /// Page size without `?limit=`.
    pub page_size: u32,
    /// Largest `?limit=`.
    pub max_page_size: u32,
}

/// One operation.
#[derive(Debug, Clone, Serialize)]
pub struct Op {
    /// Op name, e.g. `create` or `revoke`.
    pub name: String,
    /// What it does.
    pub action: Action,
    /// HTTP method, uppercase.
    pub method: String,
    /// Full route path, e.g. `/admin/tenants/{tenant}/users/{id}`.
    pub path: String,
    /// Body encoding.
    pub encoding: Encoding,
    /// Who may call it.
    pub auth: Auth,
    /// The rule beyond the admin credential, when `auth` is [`Auth::Rule`].
    pub rule: Rule,
    /// Fields the body accepts (create/update), stored and virtual.
    pub input: Vec<String>,
    /// What a success returns.
    pub response: ResponseShape,
    /// HTTP status of a success.
    pub status: u16,
    /// Hooks before the write.
    pub pre: Vec<HookCall>,
    /// Hooks after the write.
    pub post: Vec<HookCall>,
    /// List settings (list ops).
    pub list: Option<ListSpec>,
    /// Generated handler name, e.g. `create_user`.
    pub handler: String,
    /// Line in schema.yaml.
    pub line: usize,
}
