//! sea-orm entities (one module per entity), the `Resource` glue the runtime needs, and the
//! database schema description used by migrations.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, model_type};
use crate::ir::{
    ColumnsBinding, ConstructorBinding, DefaultValue, Entity, Field, FieldType, Ir, OnDelete, RoleBinding, Unique,
};

pub(super) fn emit_entities(ir: &Ir) -> TokenStream {
    let modules = ir.entities.iter().map(|entity| emit_entity(entity, ir));
    let ensure = dependency_order(ir).into_iter().map(|e| {
        let module = ident(&e.name);
        quote!(migration.ensure(#module::Entity).await?;)
    });
    let indexes = ir.entities.iter().flat_map(index_specs);
    let expiring = ir.entities.iter().filter_map(|entity| {
        let (table, column, primary_key) = (&entity.table, entity.expires.as_ref()?, &entity.primary_key);
        Some(quote! {
            ::keygate_runtime::maintenance::Expiring { table: #table, column: #column, primary_key: #primary_key }
        })
    });
    let roles = emit_roles(ir);
    quote! {
        #(#modules)*

        #roles

        /// Indexes beyond primary keys: uniqueness (global or per tenant), lookups, housekeeping's
        /// `expires:` fields, and one per declared list sort key and filter (docs/schema.md, "Indexes").
        pub const INDEXES: &[::keygate_runtime::migrate::IndexSpec] = &[#(#indexes),*];

        /// Tables whose rows die at a timestamp (the entities' `expires:`): housekeeping deletes
        /// the rows past it, in every tenant, through the index above
        /// (`keygate_runtime::maintenance::prune`).
        pub const EXPIRING: &[::keygate_runtime::maintenance::Expiring] = &[#(#expiring),*];

        /// Creates missing tables (referenced tables first), adds missing columns and indexes,
        /// then refreshes stale planner statistics. Never drops or alters anything.
        pub async fn migrate(db: &::sea_orm::DatabaseConnection) -> ::std::result::Result<(), ::keygate_runtime::migrate::MigrateError> {
            let migration = ::keygate_runtime::migrate::Migration::start(db).await?;
            #(#ensure)*
            migration.indexes(INDEXES).await?;
            migration.analyze().await;
            ::std::result::Result::Ok(())
        }
    }
}

fn emit_entity(entity: &Entity, ir: &Ir) -> TokenStream {
    let module = ident(&entity.name);
    let table = &entity.table;
    let doc = format!("`{}`: {}", entity.name, if entity.doc.is_empty() { "(no description)" } else { &entity.doc });
    let fields = entity.fields.iter().map(emit_model_field);
    let enums = entity.fields.iter().filter_map(|field| emit_enum_type(entity, field));
    let relations = entity.fields.iter().filter_map(|field| {
        let reference = field.references.as_ref()?;
        let variant = ident(&field.name.to_upper_camel_case());
        let target = format!("super::{}::Entity", reference.entity);
        let from = format!("Column::{}", field.name.to_upper_camel_case());
        let to = format!("super::{}::Column::{}", reference.entity, reference.field.to_upper_camel_case());
        let on_delete = match reference.on_delete {
            OnDelete::Cascade => "Cascade",
            OnDelete::Restrict => "Restrict",
            OnDelete::SetNull => "SetNull",
        };
        Some(quote! {
            #[sea_orm(belongs_to = #target, from = #from, to = #to, on_delete = #on_delete)]
            #variant,
        })
    });
    let name = &entity.name;
    let pk = ident(&entity.pk().name.to_upper_camel_case());
    let key = entity.pk();
    let new_key = key.default.as_ref().map(|default| super::default_expr(default, &key.ty));
    let new_key = new_key.expect("validated: a primary key has a `uuid_v4` or `uuid_v7` default");
    let tenant = if entity.tenant_scoped {
        quote!(::std::option::Option::Some(Column::TenantId))
    } else {
        quote!(::std::option::Option::None)
    };
    let unique = entity.fields.iter().filter(|f| f.unique != Unique::No).map(|f| {
        let index = unique_index_name(entity, f);
        let field = &f.name;
        quote!((#index, #field))
    });
    // Fields unique across all tenants: a tenant-scoped row is found by one of them alone.
    let global: Vec<&str> = entity
        .fields
        .iter()
        .filter(|f| entity.tenant_scoped && f.unique == Unique::Global)
        .map(|f| f.name.as_str())
        .collect();
    let keys = (!global.is_empty()).then(|| quote!(const KEYS: &'static [&'static str] = &[#(#global),*];));
    let invalidates = invalidates(entity, ir);
    let unique_across = (!entity.unique_across.is_empty()).then(|| {
        let fields = &entity.unique_across;
        quote!(const UNIQUE_ACROSS: &'static [&'static str] = &[#(#fields),*];)
    });
    quote! {
        #[doc = #doc]
        pub mod #module {
            use ::sea_orm::entity::prelude::*;

            #(#enums)*

            /// One row of the table.
            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = #table)]
            pub struct Model {
                #(#fields)*
            }

            /// Foreign keys of this table.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {
                #(#relations)*
            }

            impl ActiveModelBehavior for ActiveModel {}

            impl ::keygate_runtime::crud::Resource for Entity {
                const NAME: &'static str = #name;
                const UNIQUE: &'static [(&'static str, &'static str)] = &[#(#unique),*];
                #unique_across
                #keys
                #invalidates
                fn pk() -> Column {
                    Column::#pk
                }
                fn new_key() -> ::sea_orm::prelude::Uuid {
                    #new_key
                }
                fn tenant() -> ::std::option::Option<Column> {
                    #tenant
                }
            }
        }
    }
}

/// The Rust enum of an `enum` field: the runtime enum a role reads it as, or one generated from
/// its values.
fn emit_enum_type(entity: &Entity, field: &Field) -> Option<TokenStream> {
    let FieldType::Enum { values, rust } = &field.ty else { return None };
    let name = ident(&rust.name);
    if let Some(runtime) = &rust.runtime {
        let path: syn::Path = syn::parse_str(&runtime.path).expect("vocabulary paths come from parsed Rust");
        let doc = format!(
            "Values of `{}.{}`: the runtime's `{}`, which role `{}` reads it as.",
            entity.name, field.name, runtime.name, runtime.role
        );
        return Some(quote! {
            #[doc = #doc]
            pub type #name = #path;
        });
    }
    let doc = format!("Values of `{}.{}`.", entity.name, field.name);
    let variants: Vec<_> = rust.variants.iter().map(|variant| ident(variant)).collect();
    let docs = values.iter().map(|value| format!("`{value}`."));
    Some(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #(#[doc = #docs] #variants,)*
        }

        ::keygate_runtime::wire_enum!(impl #name { #(#variants = #values),* });
    })
}

/// `ROLES` and `TENANCY` of the entity's `Resource` impl: what a committed write to it makes
/// stale in the runtime's caches (the runtime decides which caches those are).
fn invalidates(entity: &Entity, ir: &Ir) -> TokenStream {
    let roles: Vec<String> = ir
        .roles
        .iter()
        .filter(|binding| binding.entity == entity.name)
        .map(|binding| binding.trait_name.to_snake_case())
        .collect();
    let roles = (!roles.is_empty()).then(|| quote!(const ROLES: &'static [&'static str] = &[#(#roles),*];));
    let tenancy = ir.tenancy.as_ref().is_some_and(|t| t.entity == entity.name).then(|| {
        quote!(
            const TENANCY: bool = true;
        )
    });
    quote!(#roles #tenancy)
}

fn emit_model_field(field: &Field) -> TokenStream {
    let name = ident(&field.name);
    let ty = model_type(&field.ty, field.nullable);
    let mut attrs = Vec::new();
    if field.primary_key {
        attrs.push(quote!(primary_key, auto_increment = false));
    }
    match (&field.ty, field.max_length) {
        (FieldType::String | FieldType::Enum { .. }, Some(n)) => {
            let column_type = format!("String(StringLen::N({n}))");
            attrs.push(quote!(column_type = #column_type));
        }
        (FieldType::Text, _) => attrs.push(quote!(column_type = "Text")),
        (FieldType::Json | FieldType::Strings, _) => attrs.push(quote!(column_type = "JsonBinary")),
        _ => {}
    }
    // Literal defaults also live in the database, so a new NOT NULL column can be added to a
    // table that already has rows.
    match &field.default {
        Some(DefaultValue::Bool(b)) => attrs.push(quote!(default_value = #b)),
        Some(DefaultValue::Integer(n)) => attrs.push(quote!(default_value = #n)),
        Some(DefaultValue::String(text)) => attrs.push(quote!(default_value = #text)),
        _ => {}
    }
    // Explicit: with a `column_type`, sea-orm no longer infers NULL-ability from `Option`.
    if field.nullable {
        attrs.push(quote!(nullable));
    }
    let attr = (!attrs.is_empty()).then(|| quote!(#[sea_orm(#(#attrs),*)]));
    let doc = (!field.doc.is_empty()).then(|| {
        let doc = &field.doc;
        quote!(#[doc = #doc])
    });
    quote! {
        #doc
        #attr
        pub #name: #ty,
    }
}

pub(crate) fn unique_index_name(entity: &Entity, field: &Field) -> String {
    match field.unique {
        Unique::Tenant => format!("ux_{}_tenant_id_{}", entity.table, field.name),
        _ => format!("ux_{}_{}", entity.table, field.name),
    }
}

/// PostgreSQL's identifier limit, in bytes; longer index names are shortened with a hash.
const MAX_INDEX_NAME: usize = 63;

/// An index migrations create (by name, if missing).
struct IndexPlan {
    name: String,
    columns: Vec<String>,
    unique: bool,
}

fn index_specs(entity: &Entity) -> Vec<TokenStream> {
    let table = &entity.table;
    let mut plans = field_indexes(entity);
    let primary_key = [entity.pk().name.clone()];
    for wanted in expiry_index(entity).into_iter().chain(list_indexes(entity)) {
        // An index whose leading columns are the wanted ones (the primary key's included)
        // already serves its queries.
        let covered = primary_key.starts_with(&wanted.columns)
            || plans.iter().any(|plan| plan.columns.starts_with(&wanted.columns));
        if !covered {
            plans.push(wanted);
        }
    }
    // A plain index whose columns lead a longer one is redundant: the longer one serves its
    // lookups, and every insert would maintain both (`tenant_id` alone, once a listing index
    // starts with it).
    let redundant = |plan: &IndexPlan| {
        !plan.unique
            && plans
                .iter()
                .any(|other| other.columns.len() > plan.columns.len() && other.columns.starts_with(&plan.columns))
    };
    let kept: Vec<bool> = plans.iter().map(|plan| !redundant(plan)).collect();
    plans
        .into_iter()
        .zip(kept)
        .filter_map(|(plan, keep)| keep.then_some(plan))
        .map(|IndexPlan { name, columns, unique }| {
            quote! {
                ::keygate_runtime::migrate::IndexSpec { name: #name, table: #table, columns: &[#(#columns),*], unique: #unique }
            }
        })
        .collect()
}

/// Per field: uniqueness (global, or per tenant), `index: true`, and references.
fn field_indexes(entity: &Entity) -> Vec<IndexPlan> {
    let table = &entity.table;
    let mut plans = Vec::new();
    for field in &entity.fields {
        let (name, columns, unique): (String, Vec<&str>, bool) = match field.unique {
            Unique::Global => (unique_index_name(entity, field), vec![&field.name], true),
            Unique::Tenant => (unique_index_name(entity, field), vec!["tenant_id", &field.name], true),
            Unique::No if field.index || field.references.is_some() => {
                (format!("ix_{}_{}", table, field.name), vec![&field.name], false)
            }
            Unique::No => continue,
        };
        plans.push(IndexPlan { name, columns: columns.into_iter().map(str::to_owned).collect(), unique });
    }
    plans
}

/// The `expires:` field of an entity housekeeping prunes, so pruning is a range scan.
fn expiry_index(entity: &Entity) -> Option<IndexPlan> {
    entity.expires.as_ref().map(|field| IndexPlan {
        name: format!("ix_{}_{}", entity.table, field),
        columns: vec![field.clone()],
        unique: false,
    })
}

/// For each list op: per sort key, `(tenant_id, key, primary key)`; per filter that is not
/// unique, `(tenant_id, filter, default sort key, primary key)`. A key unique within the tenant
/// needs no primary key after it. So every listing's first page and every later page (a
/// row-value comparison from the cursor, see `runtime/src/crud.rs`) are one index range scan.
fn list_indexes(entity: &Entity) -> Vec<IndexPlan> {
    let scope: Vec<&str> = if entity.tenant_scoped { vec!["tenant_id"] } else { Vec::new() };
    let pk = entity.pk().name.as_str();
    // Whether the rows of one tenant (of the table, when unscoped) never share `field`'s value.
    let unique_in_scope = |field: &str| {
        field == pk
            || entity
                .field(field)
                .is_some_and(|f| f.unique == Unique::Tenant || (f.unique == Unique::Global && !entity.tenant_scoped))
    };
    // `leading` then the sort key, then the primary key unless the key is unique in scope.
    let ordered = |leading: Vec<&str>, sort: &str| {
        let mut columns: Vec<String> = Vec::new();
        let tail = if unique_in_scope(sort) { vec![sort] } else { vec![sort, pk] };
        for column in scope.iter().copied().chain(leading).chain(tail) {
            if !columns.iter().any(|c| c == column) {
                columns.push(column.to_owned());
            }
        }
        columns
    };
    let mut plans: Vec<IndexPlan> = Vec::new();
    let mut want = |parts: &[&str], columns: Vec<String>| {
        if !plans.iter().any(|plan| plan.columns.starts_with(&columns)) {
            plans.push(IndexPlan { name: list_index_name(&entity.table, parts), columns, unique: false });
        }
    };
    for list in entity.ops.iter().filter_map(|op| op.list.as_ref()) {
        let default_sort = list.sort.first().map_or(pk, String::as_str);
        for sort in &list.sort {
            want(&[sort], ordered(Vec::new(), sort));
        }
        // A unique filter finds at most one row through its unique index.
        let repeated =
            |filter: &&String| entity.field(filter).is_some_and(|f| !f.primary_key && f.unique == Unique::No);
        for filter in list.filters.iter().filter(repeated) {
            want(&[filter, default_sort], ordered(vec![filter], default_sort));
        }
    }
    plans
}

/// `lx_{table}_{parts}` (a listing's index), shortened with a stable hash past PostgreSQL's limit.
fn list_index_name(table: &str, parts: &[&str]) -> String {
    let name = format!("lx_{table}_{}", parts.join("_"));
    if name.len() <= MAX_INDEX_NAME {
        return name;
    }
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let mut cut = MAX_INDEX_NAME - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:08x}", &name[..cut], hash as u32)
}

/// Entities ordered so every referenced entity comes before the ones referencing it.
fn dependency_order(ir: &Ir) -> Vec<&Entity> {
    let mut ordered: Vec<&Entity> = Vec::new();
    let mut remaining: Vec<&Entity> = ir.entities.iter().collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|e| {
            e.fields
                .iter()
                .filter_map(|f| f.references.as_ref())
                .all(|r| r.entity == e.name || ordered.iter().any(|o| o.name == r.entity))
        });
        // A reference cycle has no valid order; keep schema order for what is left.
        let index = ready.unwrap_or(0);
        ordered.push(remaining.remove(index));
    }
    ordered
}

/// Role accessors (one line per field) and the `Roles` type binding roles to entities.
fn emit_roles(ir: &Ir) -> TokenStream {
    if ir.roles.is_empty() {
        return quote!();
    }
    let impls = ir.roles.iter().map(|binding| {
        let role: syn::Path = syn::parse_str(&binding.path).expect("role paths come from parsed Rust");
        let module = ident(&binding.entity);
        let doc = format!("`{}` plays `{}`.", binding.entity, binding.trait_name);
        let accessors = binding.fields.iter().map(|(field, access)| {
            let entity = ir.entities.iter().find(|e| e.name == binding.entity).expect("validated role entity");
            let stored = entity.field(field).expect("validated role field");
            let name = ident(field);
            match access {
                crate::hooks::Access::Copy => {
                    let ty = model_type(&stored.ty, stored.nullable);
                    quote!(fn #name(&self) -> #ty { self.#name })
                }
                crate::hooks::Access::Ref => {
                    let ty = match stored.ty {
                        FieldType::String | FieldType::Text => quote!(str),
                        _ => model_type(&stored.ty, false),
                    };
                    quote!(fn #name(&self) -> &#ty { &self.#name })
                }
                crate::hooks::Access::OptionRef => match stored.ty {
                    FieldType::String | FieldType::Text => {
                        quote!(fn #name(&self) -> ::std::option::Option<&str> { self.#name.as_deref() })
                    }
                    _ => {
                        let ty = model_type(&stored.ty, false);
                        quote!(fn #name(&self) -> ::std::option::Option<&#ty> { self.#name.as_ref() })
                    }
                },
            }
        });
        let entity = ir.entities.iter().find(|e| e.name == binding.entity).expect("validated role entity");
        let constructor =
            binding.constructor.as_ref().map(|constructor| emit_constructor(binding, constructor, entity));
        let columns = binding.columns.as_ref().map(|columns| emit_column_handles(binding, columns, entity));
        quote! {
            #[doc = #doc]
            impl #role for #module::Model {
                #(#accessors)*
            }

            #columns

            #constructor
        }
    });
    let types = ir.roles.iter().map(|binding| {
        let name = ident(&binding.trait_name);
        let module = ident(&binding.entity);
        quote!(type #name = #module::Entity;)
    });
    quote! {
        #(#impls)*

        /// Which entity plays each runtime role; protocol handlers are generic over this.
        pub struct Roles;

        impl ::keygate_runtime::roles::Roles for Roles {
            #(#types)*
        }
    }
}

/// `From<New{Role}>` for the entity's `ActiveModel`: the struct's fields, and every other field
/// from its default (`now` read once), or NULL.
fn emit_constructor(binding: &RoleBinding, constructor: &ConstructorBinding, entity: &Entity) -> TokenStream {
    let module = ident(&binding.entity);
    let path: syn::Path = syn::parse_str(&constructor.path).expect("constructor paths come from parsed Rust");
    let uses_now =
        entity.fields.iter().any(|f| !constructor.params.contains(&f.name) && f.default == Some(DefaultValue::Now));
    let now = uses_now.then(|| quote!(let now = ::keygate_runtime::now();));
    let fields = entity.fields.iter().map(|field| {
        let name = ident(&field.name);
        let value = if constructor.params.contains(&field.name) {
            quote!(new.#name)
        } else {
            match &field.default {
                Some(default) => {
                    let expr = super::default_expr(default, &field.ty);
                    if field.nullable { quote!(::std::option::Option::Some(#expr)) } else { expr }
                }
                None => quote!(::std::option::Option::None),
            }
        };
        quote!(#name: ::sea_orm::ActiveValue::Set(#value),)
    });
    let doc = format!("How runtime code creates `{}` rows for `{}`.", binding.entity, binding.trait_name);
    quote! {
        #[doc = #doc]
        impl ::std::convert::From<#path> for #module::ActiveModel {
            fn from(new: #path) -> Self {
                #now
                Self { #(#fields)* }
            }
        }
    }
}

/// `{Role}Columns` for the entity: one typed handle per column protocol code queries or sets.
fn emit_column_handles(binding: &RoleBinding, columns: &ColumnsBinding, entity: &Entity) -> TokenStream {
    let module = ident(&binding.entity);
    let path: syn::Path = syn::parse_str(&columns.path).expect("column trait paths come from parsed Rust");
    let handles = columns.handles.iter().map(|(constant, field)| {
        let stored = entity.field(field).expect("validated column handle");
        let constant = ident(constant);
        let ty = model_type(&stored.ty, stored.nullable);
        let variant = ident(&field.to_upper_camel_case());
        quote! {
            const #constant: ::keygate_runtime::crud::Col<Self, #ty> =
                ::keygate_runtime::crud::Col::new(#module::Column::#variant);
        }
    });
    let doc = format!("The `{}` columns protocol code queries as `{}`.", binding.entity, binding.trait_name);
    quote! {
        #[doc = #doc]
        impl #path for #module::Entity {
            #(#handles)*
        }
    }
}
