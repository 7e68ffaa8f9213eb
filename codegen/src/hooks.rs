//! The hooks that exist, read from the signatures of the hand-written hook functions.
//!
//! A hook is any `pub async fn` in a hook module whose first parameter is `&mut PrepareCtx<'_>`
//! (runs before the write transaction opens: CPU-bound work such as bcrypt), `&mut PreCtx<'_>`
//! (runs in the transaction, before the row is written) or `&mut PostCtx<'_>` (runs after).
//! Every further parameter binds a field of the entity, by name:
//!
//! - `name: Input<T>`: the value of a virtual input field (`T` is its type),
//! - `name: Column<'_, T>`: a stored column the hook may set (prepare and pre hooks only),
//! - `name: Output<'_, T>`: a virtual output field the hook may fill.
//!
//! The signature is the registry: there is no second list to keep in step with the code.
//!
//! Hook modules may also declare closed vocabularies with `wire_enum! { pub enum Name { Variant =
//! "wire value", ... } }`; a role that reads a field through such a type makes it the field's
//! Rust type ([`VocabSig`]).

use quote::ToTokens;
use serde::Serialize;
use syn::ext::IdentExt;
use syn::{FnArg, GenericArgument, Item, Pat, PathArguments, Type};

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the write transaction opens, with no database handle: CPU-bound work (bcrypt)
    /// that must not hold the write gate. Listed under `pre:`.
    Prepare,
    /// Before the write, inside the transaction.
    Pre,
    /// After the write, inside the transaction.
    Post,
}

impl Phase {
    /// `prepare`, `pre` or `post`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prepare => "prepare",
            Phase::Pre => "pre",
            Phase::Post => "post",
        }
    }

    /// The op's hook list it is named under in `schema.yaml`: `pre` (prepare and pre hooks) or
    /// `post`.
    pub fn list(self) -> &'static str {
        match self {
            Phase::Prepare | Phase::Pre => "pre",
            Phase::Post => "post",
        }
    }

    /// The context type its first parameter takes: `PrepareCtx`, `PreCtx` or `PostCtx`.
    pub fn context(self) -> &'static str {
        match self {
            Phase::Prepare => "PrepareCtx",
            Phase::Pre => "PreCtx",
            Phase::Post => "PostCtx",
        }
    }
}

/// What a hook parameter binds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A virtual input field, moved out of the request body.
    Input,
    /// A stored column of the row being written.
    Column,
    /// A virtual output field of the response.
    Output,
}

/// The Rust type a hook parameter carries, reduced to the schema types it accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamType {
    /// The Rust spelling, e.g. `Option<String>`.
    pub rust: String,
    /// Schema types it accepts: `string`/`text` for `String`, `enum` for a vocabulary enum, and
    /// so on.
    pub accepts: Vec<&'static str>,
    /// Whether it is an `Option<_>` (binds to a nullable column).
    pub nullable: bool,
    /// For a type that is none of the built-in ones, its name (`ClientAuthMethod`): a vocabulary
    /// enum ([`VocabSig`]) the validator looks up, since it may be declared in another module.
    pub named: Option<String>,
}

impl ParamType {
    /// Whether a value of this type can carry a field of schema type `ty`.
    pub fn accepts_type(&self, ty: &crate::ir::FieldType) -> bool {
        self.accepts.contains(&ty.as_str())
    }

    /// Whether this type matches a stored field exactly: its type and its nullability, and for
    /// an `enum` field, the Rust enum it is stored as (a vocabulary enum's name).
    pub fn fits(&self, field: &crate::ir::Field) -> bool {
        let same_enum = match &field.ty {
            crate::ir::FieldType::Enum { rust, .. } => {
                self.named.is_some() && self.named.as_deref() == rust.runtime.as_ref().map(|r| r.name.as_str())
            }
            _ => true,
        };
        same_enum && self.accepts_type(&field.ty) && self.nullable == field.nullable
    }

    /// The schema type it needs, for messages: `string`, or `` enum `ClientAuthMethod` ``.
    pub fn describe(&self) -> String {
        let schema = self.accepts.first().copied().unwrap_or("?");
        match &self.named {
            Some(name) => format!("{schema} `{name}`"),
            None => schema.to_owned(),
        }
    }
}

/// One parameter after the context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookParam {
    /// Parameter name; binds to the same-named field unless `args:` says otherwise.
    pub name: String,
    /// Input, column or output.
    pub kind: ParamKind,
    /// Its value type.
    pub ty: ParamType,
}

/// One hook function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookSig {
    /// Function name, as written in `schema.yaml`.
    pub name: String,
    /// Path the generated code calls, e.g. `::keygate_runtime::hooks::hash_pw`.
    pub path: String,
    /// When it runs.
    pub phase: Phase,
    /// Its field parameters.
    pub params: Vec<HookParam>,
    /// Whether it is generic over the schema's roles (`<R: Roles>`), to read other entities.
    pub needs_roles: bool,
    /// First line of its doc comment.
    pub doc: String,
}

/// An endpoint handler: `pub async fn name(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError>`,
/// or, for an `auth: client` endpoint, `name<R: Roles>(ctx: EndpointCtx<'_>, client: Client<R>)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HandlerSig {
    /// Function name, as written in `schema.yaml`.
    pub name: String,
    /// Path the generated code calls.
    pub path: String,
    /// Whether it is generic over the schema's roles (`<R: Roles>`).
    pub needs_roles: bool,
    /// Whether it takes the OAuth client its route authenticated (`client: Client<R>`).
    pub takes_client: bool,
    /// First line of its doc comment.
    pub doc: String,
}

/// A role: a runtime trait whose `fn FIELD(&self) -> T` methods name the fields an entity must
/// have to play it (e.g. `OauthClient` needs `client_secret_hash: string`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleSig {
    /// snake_case name used in `plays:`, e.g. `oauth_client`.
    pub name: String,
    /// Trait name, e.g. `OauthClient`.
    pub trait_name: String,
    /// Path of the trait.
    pub path: String,
    /// The fields, in declaration order.
    pub fields: Vec<RoleField>,
    /// First line of its doc comment.
    pub doc: String,
}

/// A field a role needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleField {
    /// Field (and method) name.
    pub name: String,
    /// The value type.
    pub ty: ParamType,
    /// How the generated accessor returns it.
    pub access: Access,
}

/// How a role accessor returns a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// By value (`Copy` types): `self.field`.
    Copy,
    /// By reference: `&self.field`.
    Ref,
    /// `Option<&T>` from `Option<T>`: `self.field.as_deref()` for strings, `.as_ref()` otherwise.
    OptionRef,
}

/// Every hook, endpoint handler and role the schema may name.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HookCatalog {
    /// Hooks, in the order they were read.
    pub hooks: Vec<HookSig>,
    /// Endpoint handlers, in the order they were read.
    pub handlers: Vec<HandlerSig>,
    /// Roles, in the order they were read.
    pub roles: Vec<RoleSig>,
    /// Role constructors (`New{Role}` structs), in the order they were read.
    pub constructors: Vec<ConstructorSig>,
    /// Column handles of roles (`{Role}Columns` traits), in the order they were read.
    pub columns: Vec<ColumnsSig>,
    /// Vocabulary enums (`wire_enum!` invocations), in the order they were read.
    pub vocab: Vec<VocabSig>,
}

/// `wire_enum! { pub enum Name { Variant = "value", ... } }`: a closed set of protocol words the
/// runtime matches on. A role that reads a schema `enum` field as `Name` makes `Name` the field's
/// Rust type, once every value the schema allows is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VocabSig {
    /// The enum's name, e.g. `ClientAuthMethod`.
    pub name: String,
    /// Its path, e.g. `::keygate_runtime::vocab::ClientAuthMethod`.
    pub path: String,
    /// `(variant, wire value)`, in declaration order.
    pub variants: Vec<(String, String)>,
}

impl VocabSig {
    /// The variant whose wire value is `value`.
    pub fn variant(&self, value: &str) -> Option<&str> {
        self.variants.iter().find(|(_, v)| v == value).map(|(variant, _)| variant.as_str())
    }

    /// The wire values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.variants.iter().map(|(_, value)| value.as_str())
    }
}

/// `pub struct NewRole { pub field: T, ... }`: how runtime code creates a row of the entity
/// playing `Role`. The generator implements `From<NewRole>` for the entity's `ActiveModel`,
/// filling the fields the struct does not have from their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConstructorSig {
    /// The role's trait name (without `New`).
    pub role_trait: String,
    /// The constructor struct's path.
    pub path: String,
    /// Its fields: names and types.
    pub params: Vec<(String, ParamType)>,
}

/// `pub trait RoleColumns: Resource { const FIELD: Col<Self, T>; ... }`: the columns protocol
/// code queries and sets in the entity playing `Role`. The generator implements it on the
/// entity, one handle per constant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnsSig {
    /// The role's trait name (without `Columns`).
    pub role_trait: String,
    /// The trait's path.
    pub path: String,
    /// The handles, in declaration order.
    pub handles: Vec<ColumnHandle>,
}

/// One `const FIELD: Col<Self, T>` of a `{Role}Columns` trait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnHandle {
    /// The constant's name, e.g. `CODE_DIGEST`.
    pub constant: String,
    /// The field it names: the constant in snake case, e.g. `code_digest`.
    pub field: String,
    /// The column's value type (`Option<T>` for a nullable column).
    pub ty: ParamType,
}

/// A hook module could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSourceError {
    /// The module path it was registered under.
    pub module: String,
    /// What went wrong.
    pub message: String,
}

impl HookCatalog {
    /// Reads every hook in `source`, a Rust file reachable as `module` (e.g. `::keygate_runtime::hooks`).
    pub fn add_module(&mut self, module: &str, source: &str) -> Result<(), HookSourceError> {
        let file = syn::parse_file(source).map_err(|error| HookSourceError {
            module: module.to_owned(),
            message: format!("not valid Rust: {error}"),
        })?;
        for item in file.items {
            let error = |message| HookSourceError { module: module.to_owned(), message };
            if let Item::Macro(invocation) = &item {
                if let Some(vocab) = vocab_sig(module, invocation).map_err(error)? {
                    self.vocab.push(vocab);
                }
                continue;
            }
            if let Item::Struct(constructor) = &item {
                if let Some(constructor) = constructor_sig(module, constructor).map_err(error)? {
                    self.constructors.push(constructor);
                }
                continue;
            }
            if let Item::Trait(role) = &item {
                if let Some(columns) = columns_sig(module, role).map_err(error)? {
                    self.columns.push(columns);
                } else if let Some(role) = role_sig(module, role).map_err(error)? {
                    self.roles.push(role);
                }
                continue;
            }
            let Item::Fn(function) = item else { continue };
            if !matches!(function.vis, syn::Visibility::Public(_)) || function.sig.asyncness.is_none() {
                continue;
            }
            let mut inputs = function.sig.inputs.iter();
            let first = inputs.next();
            if first.is_some_and(is_endpoint_ctx) {
                let name = function.sig.ident.to_string();
                let rest: Vec<&FnArg> = inputs.collect();
                let takes_client = match rest.as_slice() {
                    [] => false,
                    [client] if is_client(client) => true,
                    _ => {
                        return Err(error(format!(
                            "endpoint handler `{name}` takes `ctx: EndpointCtx<'_>` and at most `client: Client<R>`"
                        )));
                    }
                };
                let needs_roles = !function.sig.generics.params.is_empty();
                self.handlers.push(HandlerSig {
                    path: format!("{module}::{name}"),
                    name,
                    needs_roles,
                    takes_client,
                    doc: first_doc_line(&function.attrs),
                });
                continue;
            }
            let Some(phase) = first.and_then(context_phase) else { continue };
            let name = function.sig.ident.to_string();
            let mut params = Vec::new();
            for input in inputs {
                let param = hook_param(input).map_err(|message| HookSourceError {
                    module: module.to_owned(),
                    message: format!("hook `{name}`: {message}"),
                })?;
                params.push(param);
            }
            self.hooks.push(HookSig {
                path: format!("{module}::{name}"),
                name,
                phase,
                params,
                needs_roles: !function.sig.generics.params.is_empty(),
                doc: first_doc_line(&function.attrs),
            });
        }
        Ok(())
    }

    /// The endpoint handler called `name`.
    pub fn handler(&self, name: &str) -> Option<&HandlerSig> {
        self.handlers.iter().find(|handler| handler.name == name)
    }

    /// The role called `name` (snake_case).
    pub fn role(&self, name: &str) -> Option<&RoleSig> {
        self.roles.iter().find(|role| role.name == name)
    }

    /// The constructor of the role whose trait is `role_trait`, if it has one.
    pub fn constructor(&self, role_trait: &str) -> Option<&ConstructorSig> {
        self.constructors.iter().find(|c| c.role_trait == role_trait)
    }

    /// The column handles of the role whose trait is `role_trait`, if it has any.
    pub fn columns(&self, role_trait: &str) -> Option<&ColumnsSig> {
        self.columns.iter().find(|c| c.role_trait == role_trait)
    }

    /// The hook called `name`.
    pub fn get(&self, name: &str) -> Option<&HookSig> {
        self.hooks.iter().find(|hook| hook.name == name)
    }

    /// The vocabulary enum called `name`.
    pub fn vocab(&self, name: &str) -> Option<&VocabSig> {
        self.vocab.iter().find(|vocab| vocab.name == name)
    }
}

/// `wire_enum! { pub enum Name { Variant = "value", ... } }`; other macro invocations are skipped.
fn vocab_sig(module: &str, item: &syn::ItemMacro) -> Result<Option<VocabSig>, String> {
    let is_wire_enum = item.mac.path.segments.last().is_some_and(|segment| segment.ident == "wire_enum");
    if !is_wire_enum {
        return Ok(None);
    }
    // `wire_enum!(impl Name { ... })` implements an enum declared beside it: read it as `enum Name`.
    let mut tokens = item.mac.tokens.clone().into_iter().peekable();
    let implements = matches!(tokens.peek(), Some(proc_macro2::TokenTree::Ident(word)) if word == "impl");
    let tokens: proc_macro2::TokenStream = match implements {
        true => std::iter::once(quote::format_ident!("enum").into()).chain(tokens.skip(1)).collect(),
        false => tokens.collect(),
    };
    let declared: syn::ItemEnum =
        syn::parse2(tokens).map_err(|error| format!("`wire_enum!` is not an enum: {error}"))?;
    let name = declared.ident.to_string();
    let mut variants = Vec::new();
    for variant in &declared.variants {
        let value = match &variant.discriminant {
            Some((_, syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(value), .. }))) => value.value(),
            _ => return Err(format!("`{name}::{}` needs its wire value: `= \"...\"`", variant.ident)),
        };
        variants.push((variant.ident.to_string(), value));
    }
    Ok(Some(VocabSig { path: format!("{module}::{name}"), name, variants }))
}

/// `pub struct NewX { pub field: T, ... }` is the constructor of role `X`; other structs are
/// skipped.
fn constructor_sig(module: &str, item: &syn::ItemStruct) -> Result<Option<ConstructorSig>, String> {
    let struct_name = item.ident.to_string();
    let Some(role_trait) = struct_name.strip_prefix("New").filter(|rest| !rest.is_empty()) else { return Ok(None) };
    let syn::Fields::Named(fields) = &item.fields else { return Ok(None) };
    if !matches!(item.vis, syn::Visibility::Public(_)) || !item.generics.params.is_empty() {
        return Ok(None);
    }
    let mut params = Vec::new();
    for field in &fields.named {
        let name = field.ident.as_ref().map(|ident| ident.unraw().to_string()).unwrap_or_default();
        if !matches!(field.vis, syn::Visibility::Public(_)) {
            return Err(format!("`{struct_name}.{name}` must be `pub`: protocol code fills it"));
        }
        params.push((name, param_type(&field.ty).map_err(|e| format!("`{struct_name}`: {e}"))?));
    }
    Ok(Some(ConstructorSig { role_trait: role_trait.to_owned(), path: format!("{module}::{struct_name}"), params }))
}

/// `pub trait XColumns { const FIELD: Col<Self, T>; ... }` holds the column handles of role `X`;
/// a trait with other items, or another name, is not.
fn columns_sig(module: &str, item: &syn::ItemTrait) -> Result<Option<ColumnsSig>, String> {
    let trait_name = item.ident.to_string();
    let Some(role_trait) = trait_name.strip_suffix("Columns").filter(|rest| !rest.is_empty()) else {
        return Ok(None);
    };
    if !matches!(item.vis, syn::Visibility::Public(_)) || item.items.is_empty() {
        return Ok(None);
    }
    let mut handles = Vec::new();
    for member in &item.items {
        let syn::TraitItem::Const(constant) = member else { return Ok(None) };
        let name = constant.ident.to_string();
        let field = name.to_lowercase();
        if heck::ToShoutySnakeCase::to_shouty_snake_case(field.as_str()) != name {
            return Err(format!("`{trait_name}::{name}` must be the field's name in UPPER_SNAKE_CASE"));
        }
        let ty = col_value_type(&constant.ty)
            .ok_or_else(|| format!("`{trait_name}::{name}` must have type `Col<Self, T>`"))
            .and_then(|value| param_type(value).map_err(|e| format!("`{trait_name}::{name}`: {e}")))?;
        handles.push(ColumnHandle { constant: name, field, ty });
    }
    Ok(Some(ColumnsSig { role_trait: role_trait.to_owned(), path: format!("{module}::{trait_name}"), handles }))
}

/// `T` of `Col<Self, T>`.
fn col_value_type(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    let entity = types.next()?;
    let value = types.next()?;
    let is_self = last_segment_name(entity).as_deref() == Some("Self");
    (segment.ident == "Col" && is_self && types.next().is_none()).then_some(value)
}

/// A `pub trait` whose items are all `fn name(&self) -> T` is a role; other traits are skipped.
fn role_sig(module: &str, item: &syn::ItemTrait) -> Result<Option<RoleSig>, String> {
    if !matches!(item.vis, syn::Visibility::Public(_)) || item.items.is_empty() {
        return Ok(None);
    }
    let trait_name = item.ident.to_string();
    let mut fields = Vec::new();
    for member in &item.items {
        let syn::TraitItem::Fn(method) = member else { return Ok(None) };
        let takes_self_only =
            method.sig.inputs.len() == 1 && matches!(method.sig.inputs.first(), Some(FnArg::Receiver(_)));
        let syn::ReturnType::Type(_, returned) = &method.sig.output else { return Ok(None) };
        if !takes_self_only {
            return Ok(None);
        }
        let name = method.sig.ident.unraw().to_string();
        let (access, value) = match &**returned {
            Type::Reference(reference) => (Access::Ref, &*reference.elem),
            other => match option_inner(other) {
                Some(Type::Reference(inner)) => (Access::OptionRef, &*inner.elem),
                _ => (Access::Copy, other),
            },
        };
        let mut ty = match last_segment_name(value).as_deref() {
            Some("str") => {
                ParamType { rust: "String".into(), accepts: vec!["string", "text"], nullable: false, named: None }
            }
            _ => param_type(value).map_err(|e| format!("role `{trait_name}`, field `{name}`: {e}"))?,
        };
        if access == Access::OptionRef {
            ty.nullable = true;
        }
        fields.push(RoleField { name, ty, access });
    }
    let name = heck::ToSnakeCase::to_snake_case(trait_name.as_str());
    Ok(Some(RoleSig {
        path: format!("{module}::{trait_name}"),
        name,
        trait_name,
        fields,
        doc: first_doc_line(&item.attrs),
    }))
}

/// `ctx: EndpointCtx<'_>`, by value: an endpoint handler.
fn is_endpoint_ctx(arg: &FnArg) -> bool {
    let FnArg::Typed(typed) = arg else { return false };
    last_segment_name(&typed.ty).as_deref() == Some("EndpointCtx")
}

/// `client: Client<R>`, by value: the client an `auth: client` route authenticated.
fn is_client(arg: &FnArg) -> bool {
    let FnArg::Typed(typed) = arg else { return false };
    last_segment_name(&typed.ty).as_deref() == Some("Client")
}

/// `&mut PrepareCtx<'_>` → prepare, `&mut PreCtx<'_>` → pre, `&mut PostCtx<'_>` → post;
/// anything else is not a hook.
fn context_phase(arg: &FnArg) -> Option<Phase> {
    let FnArg::Typed(typed) = arg else { return None };
    let Type::Reference(reference) = &*typed.ty else { return None };
    reference.mutability?;
    match last_segment_name(&reference.elem)?.as_str() {
        "PrepareCtx" => Some(Phase::Prepare),
        "PreCtx" => Some(Phase::Pre),
        "PostCtx" => Some(Phase::Post),
        _ => None,
    }
}

fn hook_param(arg: &FnArg) -> Result<HookParam, String> {
    let FnArg::Typed(typed) = arg else { return Err("hooks take no `self`".into()) };
    let Pat::Ident(ident) = &*typed.pat else {
        return Err("parameters must be plain names (they bind fields by name)".into());
    };
    let name = ident.ident.to_string();
    let Type::Path(path) = &*typed.ty else {
        return Err(format!("parameter `{name}` must be `Input<T>`, `Column<'_, T>` or `Output<'_, T>`"));
    };
    let segment = path.path.segments.last().ok_or("empty type path")?;
    let kind = match segment.ident.to_string().as_str() {
        "Input" => ParamKind::Input,
        "Column" => ParamKind::Column,
        "Output" => ParamKind::Output,
        other => {
            return Err(format!(
                "parameter `{name}` has type `{other}`; expected `Input<T>`, `Column<'_, T>` or `Output<'_, T>`"
            ));
        }
    };
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return Err(format!("parameter `{name}` needs a value type"));
    };
    let value = args
        .args
        .iter()
        .find_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .ok_or_else(|| format!("parameter `{name}` needs a value type"))?;
    Ok(HookParam { name, kind, ty: param_type(value)? })
}

fn param_type(ty: &Type) -> Result<ParamType, String> {
    let rust = ty.to_token_stream().to_string().replace(' ', "");
    let (inner, nullable) = match option_inner(ty) {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    let name = last_segment_name(inner);
    let accepts: Vec<&'static str> = match name.as_deref() {
        Some("String") => vec!["string", "text"],
        Some("i64") => vec!["integer"],
        Some("bool") => vec!["bool"],
        Some("Uuid") => vec!["uuid"],
        Some("DateTime") => vec!["timestamp"],
        Some("Value") => vec!["json"],
        Some("StringList") => vec!["strings"],
        // A plain name (no generic arguments) may be a vocabulary enum; the validator checks it is.
        Some(_) if is_plain_path(inner) => return Ok(ParamType { rust, accepts: vec!["enum"], nullable, named: name }),
        _ => return Err(format!("value type `{rust}` has no schema type")),
    };
    Ok(ParamType { rust, accepts, nullable, named: None })
}

/// `Name` or `path::Name`, without generic arguments.
fn is_plain_path(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.qself.is_none() && path.path.segments.iter().all(|s| matches!(s.arguments, PathArguments::None))
}

fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

fn last_segment_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

fn first_doc_line(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .find_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_phase_and_params_from_the_signature() {
        let source = r#"
/// Hashes a password.
pub async fn hash_pw(ctx: &mut PreCtx<'_>, password: Input<String>, password_hash: Column<'_, String>) -> HookResult { Ok(()) }
pub async fn not_a_hook(x: u32) {}
fn private(ctx: &mut PreCtx<'_>) {}
pub async fn give(ctx: &mut PostCtx<'_>, key: Output<'_, Option<String>>) -> HookResult { Ok(()) }
pub async fn look<R: Roles>(ctx: &mut PreCtx<'_>, roles: Column<'_, StringList>) -> HookResult { Ok(()) }
pub async fn slow(ctx: &mut PrepareCtx<'_>, password_hash: Column<'_, String>) -> HookResult { Ok(()) }
"#;
        let mut catalog = HookCatalog::default();
        catalog.add_module("crate::hooks", source).unwrap();
        let names: Vec<_> = catalog.hooks.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["hash_pw", "give", "look", "slow"]);
        assert_eq!(catalog.get("slow").unwrap().phase, Phase::Prepare);
        let hash = catalog.get("hash_pw").unwrap();
        assert_eq!(hash.phase, Phase::Pre);
        assert_eq!(hash.doc, "Hashes a password.");
        assert_eq!(hash.params[0].kind, ParamKind::Input);
        assert_eq!(hash.params[1].kind, ParamKind::Column);
        let give = catalog.get("give").unwrap();
        assert_eq!(give.phase, Phase::Post);
        assert!(give.params[0].ty.nullable);
        assert_eq!(give.path, "crate::hooks::give");
        assert!(!give.needs_roles);
        assert!(catalog.get("look").unwrap().needs_roles, "a generic hook is called with the schema's roles");
    }

    #[test]
    fn an_endpoint_handler_may_take_the_client_its_route_authenticated() {
        let source = r#"
pub async fn jwks(ctx: EndpointCtx<'_>) -> Result<HttpResponse, ApiError> { Ok(HttpResponse::Ok().finish()) }
pub async fn token<R: Roles>(ctx: EndpointCtx<'_>, client: Client<R>) -> Result<HttpResponse, ApiError> { Ok(HttpResponse::Ok().finish()) }
"#;
        let mut catalog = HookCatalog::default();
        catalog.add_module("crate::endpoints", source).unwrap();
        assert!(!catalog.handler("jwks").unwrap().takes_client);
        assert!(catalog.handler("token").unwrap().takes_client);
        let extra = "pub async fn token(ctx: EndpointCtx<'_>, form: Form) -> Result<HttpResponse, ApiError> { Ok(HttpResponse::Ok().finish()) }";
        let error = HookCatalog::default().add_module("crate::endpoints", extra).unwrap_err();
        assert!(error.message.contains("at most `client: Client<R>`"), "{}", error.message);
    }

    #[test]
    fn reads_column_handles_and_constructor_structs() {
        let source = r#"
/// Codes.
pub trait AuthCode { fn scope(&self) -> &str; }
/// Its columns.
pub trait AuthCodeColumns: Resource {
    /// Digest.
    const CODE_DIGEST: Col<Self, String>;
    /// Redemption.
    const USED_AT: Col<Self, Option<DateTime<Utc>>>;
}
/// How codes are made.
pub struct NewAuthCode {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The session.
    pub session_id: Option<Uuid>,
}
struct NewPrivate { x: u8 }
pub struct NewTuple(pub u8);
"#;
        let mut catalog = HookCatalog::default();
        catalog.add_module("crate::roles", source).unwrap();
        assert_eq!(catalog.roles.len(), 1, "a columns trait is not a role of its own");
        let columns = catalog.columns("AuthCode").unwrap();
        assert_eq!(columns.path, "crate::roles::AuthCodeColumns");
        let handles: Vec<_> = columns.handles.iter().map(|h| (h.constant.as_str(), h.field.as_str())).collect();
        assert_eq!(handles, [("CODE_DIGEST", "code_digest"), ("USED_AT", "used_at")]);
        assert!(columns.handles[1].ty.nullable && columns.handles[1].ty.accepts == ["timestamp"]);
        let constructor = catalog.constructor("AuthCode").unwrap();
        assert_eq!(constructor.path, "crate::roles::NewAuthCode");
        let fields: Vec<_> = constructor.params.iter().map(|(name, ty)| (name.as_str(), ty.nullable)).collect();
        assert_eq!(fields, [("tenant_id", false), ("session_id", true)]);
        assert_eq!(catalog.constructors.len(), 1, "private and tuple structs are not constructors");
    }

    #[test]
    fn reads_vocabulary_enums_and_their_wire_values() {
        let source = r#"
crate::wire_enum! {
    /// Methods.
    pub enum AuthMethod {
        /// A secret.
        Secret = "client_secret_basic",
        None = "none",
    }
}
pub enum Shade { Light, Dark }
keygate_runtime::wire_enum!(impl Shade { Light = "light", Dark = "dark-ish" });
other_macro! { pub enum Ignored { A = "a" } }
/// Reads it.
pub trait OauthClient { fn method(&self) -> AuthMethod; fn alg(&self) -> Option<Alg>; }
"#;
        let mut catalog = HookCatalog::default();
        catalog.add_module("crate::vocab", source).unwrap();
        let names: Vec<_> = catalog.vocab.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["AuthMethod", "Shade"]);
        let method = catalog.vocab("AuthMethod").unwrap();
        assert_eq!(method.path, "crate::vocab::AuthMethod");
        assert_eq!(method.variant("none"), Some("None"));
        assert_eq!(method.values().collect::<Vec<_>>(), ["client_secret_basic", "none"]);
        assert_eq!(catalog.vocab("Shade").unwrap().variant("dark-ish"), Some("Dark"));
        let role = catalog.role("oauth_client").unwrap();
        assert_eq!(role.fields[0].ty.named.as_deref(), Some("AuthMethod"));
        assert_eq!((role.fields[0].ty.accepts.as_slice(), role.fields[0].access), (&["enum"][..], Access::Copy));
        assert!(role.fields[1].ty.nullable && role.fields[1].ty.named.as_deref() == Some("Alg"));
        let err = HookCatalog::default().add_module("m", "wire_enum! { pub enum X { A } }").unwrap_err();
        assert!(err.message.contains("needs its wire value"), "{}", err.message);
    }

    #[test]
    fn rejects_malformed_column_handles() {
        for (source, expected) in [
            ("pub trait XColumns { const code_digest: Col<Self, String>; }", "UPPER_SNAKE_CASE"),
            ("pub trait XColumns { const DIGEST: String; }", "must have type `Col<Self, T>`"),
            ("pub trait XColumns { const DIGEST: Col<Self, Vec<u8>>; }", "has no schema type"),
            ("pub struct NewX { pub digest: Vec<u8> }", "has no schema type"),
            ("pub struct NewX { digest: String }", "must be `pub`"),
        ] {
            let err = HookCatalog::default().add_module("m", source).unwrap_err();
            assert!(err.message.contains(expected), "{source}: {}", err.message);
        }
    }

    #[test]
    fn rejects_a_parameter_of_an_unknown_kind() {
        let source = "pub async fn bad(ctx: &mut PreCtx<'_>, x: Vec<u8>) {}";
        let err = HookCatalog::default().add_module("m", source).unwrap_err();
        assert!(err.message.contains("expected `Input<T>`"), "{}", err.message);
    }
}
