//! A role binding's column handles, checked against the bound entity.
//!
//! A role's `{Role}Columns` trait names the columns protocol code filters, claims and sets
//! (`const CODE_DIGEST: Col<Self, String>`). Each must be a stored field of the entity playing the
//! role, of the handle's type and nullability (`Option<T>` for a nullable field), or the binding
//! is a located `role-binding` error: generated code could not implement the trait.

use super::enums::{describe_field, describe_param, unknown_type};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::hooks::{ColumnsSig, HookCatalog, RoleSig};
use crate::ir::{ColumnsBinding, Entity};
use crate::span::Pos;

/// The column handles of `role` (if it has any) bound to `entity`, offered at `at` (its `plays:`, or its name);
/// or one diagnostic per handle the entity cannot back.
pub(crate) fn bind(
    catalog: &HookCatalog,
    role: &RoleSig,
    entity: &Entity,
    at: Pos,
) -> Result<Option<ColumnsBinding>, Vec<Diagnostic>> {
    match catalog.columns(&role.trait_name) {
        Some(columns) => bind_handles(catalog, role, columns, entity, at).map(Some),
        None => Ok(None),
    }
}

/// The handles of `columns` bound to `entity`, or one diagnostic per handle the entity cannot
/// back. A field the role's accessors already need with a type the entity lacks is reported by
/// the accessor check alone, so one mistake reads as one error.
fn bind_handles(
    catalog: &HookCatalog,
    role: &RoleSig,
    columns: &ColumnsSig,
    entity: &Entity,
    at: Pos,
) -> Result<ColumnsBinding, Vec<Diagnostic>> {
    let accessor_reports = |field: &str| {
        role.fields.iter().any(|f| f.name == field && !entity.field(field).is_some_and(|stored| f.ty.fits(stored)))
    };
    let mut errors = Vec::new();
    for handle in &columns.handles {
        if accessor_reports(&handle.field) {
            continue;
        }
        let ty = &handle.ty;
        let problem = match entity.field(&handle.field) {
            None => format!("queries a column `{}`, which `{}` lacks", handle.field, entity.name),
            Some(_) if let Some(unknown) = unknown_type(catalog, ty) => {
                format!("queries `{}` as {unknown}", handle.field)
            }
            Some(stored) if !ty.fits(stored) => format!(
                "queries `{}` as {}, but it is {} on `{}`",
                handle.field,
                describe_param(ty),
                describe_field(stored),
                entity.name
            ),
            Some(_) => continue,
        };
        errors.push(
            Diagnostic::error(Code::RoleBinding, at, format!("role `{}` {problem}", role.name))
                .label("cannot play this role")
                .help(format!("`{}Columns` names {}", columns.role_trait, describe(columns))),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ColumnsBinding {
        path: columns.path.clone(),
        handles: columns.handles.iter().map(|h| (h.constant.clone(), h.field.clone())).collect(),
    })
}

/// "`code_digest` (String), `used_at` (Option<DateTime<Utc>>)".
fn describe(columns: &ColumnsSig) -> String {
    columns.handles.iter().map(|h| format!("`{}` ({})", h.field, h.ty.rust)).collect::<Vec<_>>().join(", ")
}
