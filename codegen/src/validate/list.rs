//! A list op's `filters`, `sort` keys and page sizes.

use marked_yaml::Spanned;

use super::op::OpSite;
use super::{Cx, did_you_mean};
use crate::catalogue::Code;
use crate::diagnostics::Diagnostic;
use crate::ir::{Entity, ListSpec, Visibility};
use crate::span::Pos;

const DEFAULT_PAGE_SIZE: u32 = 50;
const DEFAULT_MAX_PAGE_SIZE: u32 = 200;

impl Cx<'_> {
    /// Filters and sort keys are returned, comparable stored fields; the primary key sorts when
    /// nothing else is named.
    pub(super) fn list_spec(&mut self, site: &OpSite<'_>) -> ListSpec {
        let (entity, def) = (site.entity, site.def);
        let filters = def.filters.as_deref().map(|f| self.list_fields(entity, f, "filter")).unwrap_or_default();
        // Keyset pagination compares sort values; NULLs order differently on SQLite and PostgreSQL.
        for name in def.sort.iter().flatten() {
            if entity.field(name).is_some_and(|f| f.nullable) {
                self.error(
                    Diagnostic::error(
                        Code::BadListField,
                        Pos::of(name),
                        format!("cannot sort on `{}`: it is nullable", name.as_str()),
                    )
                    .label("nullable sort key")
                    .help("sort on a field that always has a value, such as `created_at`"),
                );
            }
        }
        let mut sort = def.sort.as_deref().map(|s| self.list_fields(entity, s, "sort")).unwrap_or_default();
        if sort.is_empty() {
            sort.push(entity.primary_key.clone());
        }
        let (page_size, max_page_size) = self.page_sizes(site);
        ListSpec { filters, sort, page_size, max_page_size }
    }

    /// The fields a list may `what` (filter, sort) on: returned, scalar, stored.
    fn list_fields(&mut self, entity: &Entity, names: &[Spanned<String>], what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for name in names {
            match entity.field(name) {
                Some(field) if field.visibility == Visibility::Hidden || field.visibility == Visibility::WriteOnly => {
                    self.error(
                        Diagnostic::error(
                            Code::BadListField,
                            Pos::of(name),
                            format!("cannot {what} on `{}`: it is never returned", name.as_str()),
                        )
                        .label("hidden field")
                        .help("filtering on a secret would leak it one guess at a time"),
                    )
                }
                Some(field) if !field.ty.is_scalar() => self.error(
                    Diagnostic::error(
                        Code::BadListField,
                        Pos::of(name),
                        format!("cannot {what} on `{}` of type `{}`", name.as_str(), field.ty.as_str()),
                    )
                    .label("not a comparable type"),
                ),
                Some(_) => out.push(name.to_string()),
                None => self.error(
                    Diagnostic::error(
                        Code::UnknownListField,
                        Pos::of(name),
                        format!("cannot {what} on `{}`: `{}` has no such stored field", name.as_str(), entity.name),
                    )
                    .label("undeclared field")
                    .maybe_help(did_you_mean(name, entity.fields.iter().map(|f| f.name.as_str()))),
                ),
            }
        }
        out
    }

    /// `page_size` (default 50) between 1 and `max_page_size` (default 200, or the page size).
    fn page_sizes(&mut self, site: &OpSite<'_>) -> (u32, u32) {
        let def = site.def;
        let page_size = def.page_size.as_ref().map(|v| **v).unwrap_or(DEFAULT_PAGE_SIZE);
        let max_page_size = def.max_page_size.as_ref().map(|v| **v).unwrap_or(DEFAULT_MAX_PAGE_SIZE.max(page_size));
        if page_size == 0 || page_size > max_page_size {
            let at = def.page_size.as_ref().map(Pos::of).unwrap_or(site.pos);
            self.error(
                Diagnostic::error(
                    Code::BadPageSize,
                    at,
                    format!("page size {page_size} must be between 1 and the maximum ({max_page_size})"),
                )
                .label("out of range"),
            );
        }
        (page_size, max_page_size)
    }
}
