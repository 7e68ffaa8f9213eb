//! Generic reads and writes over generated entities, always scoped to the caller's tenant.
//!
//! A statement that finds its row by primary key or by a field unique across tenants names only
//! that key: the tenant is checked on the row read, or was established by the read that yielded
//! the key. Such a statement has one index to use, so its plan cannot depend on table statistics
//! (PostgreSQL caches one generic plan per pooled connection, made while the table may be
//! empty; with a `tenant_id` predicate beside the key, that plan could walk the whole tenant's
//! `tenant_id` index for ever after).

use std::str::FromStr;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, ModelTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select, SqlErr,
};
use uuid::Uuid;

pub use crate::column::{Assign, Col};
use crate::error::{ApiError, outage};
use crate::list::{Cursor, ListQuery, Page};

/// Rows the more-rows-than-this relation includes are cut at.
const MAX_INCLUDED_ROWS: u64 = 1000;

/// What the runtime needs to know about a generated entity.
pub trait Resource: EntityTrait + crate::check::FieldChecks {
    /// Entity name, for messages (`user`).
    const NAME: &'static str;
    /// Unique indexes as `(index name, field)`, to name the field a conflict is about.
    const UNIQUE: &'static [(&'static str, &'static str)];
    /// Unique fields sharing one space of values (schema `unique_across:`), checked by
    /// [`crate::unique_across`] on every write through this module.
    const UNIQUE_ACROSS: &'static [&'static str] = &[];
    /// Fields unique across all tenants (schema `unique: true`): [`find_where`] finds a row by
    /// one of these alone and checks its tenant on the row.
    const KEYS: &'static [&'static str] = &[];
    /// The runtime roles this entity plays (`oauth_client`, `tenant_settings`, …): a committed
    /// write to it through [`crate::WriteTx`] drops what the runtime caches for each role, here
    /// and on every replica ([`crate::invalidation`]).
    const ROLES: &'static [&'static str] = &[];
    /// Whether its rows are the tenants, whose keys the runtime resolves from URLs and caches.
    const TENANCY: bool = false;
    /// The primary-key column.
    fn pk() -> Self::Column;
    /// A fresh primary key, drawn as the schema's `default:` for it says: random (`uuid_v4`,
    /// RFC 9562 §5.4) or time-ordered (`uuid_v7`, §5.7).
    fn new_key() -> Uuid;
    /// The `tenant_id` column of tenant-scoped entities.
    fn tenant() -> Option<Self::Column>;
}

fn scoped<E: Resource>(select: Select<E>, tenant: Option<Uuid>) -> Select<E> {
    match (E::tenant(), tenant) {
        (Some(column), Some(tenant)) => select.filter(column.eq(tenant)),
        _ => select,
    }
}

/// Whether `row` belongs to `tenant` (always, for unscoped entities or without a tenant).
fn in_tenant<E: Resource>(row: &E::Model, tenant: Option<Uuid>) -> bool {
    match (E::tenant(), tenant) {
        (Some(column), Some(tenant)) => row.get(column) == sea_orm::Value::from(tenant),
        _ => true,
    }
}

/// A query over `E`'s rows in `tenant` (all rows for unscoped entities).
pub fn scoped_find<E: Resource>(tenant: Option<Uuid>) -> Select<E> {
    scoped::<E>(E::find(), tenant)
}

/// The row with primary key `id` in `tenant`; another tenant's row is a 404 like a missing one.
pub async fn find<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    id: impl Into<sea_orm::Value>,
) -> Result<E::Model, ApiError> {
    find_optional::<E>(db, tenant, id).await?.ok_or_else(|| ApiError::not_found(E::NAME))
}

/// The row with primary key `id` in `tenant`, or `None`; a database error stays an error (never
/// "not found"). Read by primary key alone; another tenant's row is dropped here.
pub async fn find_optional<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    id: impl Into<sea_orm::Value>,
) -> Result<Option<E::Model>, ApiError> {
    let row = crate::keyed::one::<E>(db, E::pk(), id.into()).await?;
    Ok(row.filter(|row| in_tenant::<E>(row, tenant)))
}

/// The row whose `column` equals `key`, or `None`; a database error stays an error.
pub async fn find_by_optional<E: Resource>(
    db: &impl ConnectionTrait,
    column: E::Column,
    key: &str,
) -> Result<Option<E::Model>, ApiError> {
    Ok(crate::keyed::one::<E>(db, column, key.into()).await?)
}

/// The row whose `column` equals `key` (e.g. a tenant by slug).
pub async fn find_by<E: Resource>(
    db: &impl ConnectionTrait,
    column: E::Column,
    key: &str,
) -> Result<E::Model, ApiError> {
    find_by_optional::<E>(db, column, key).await?.ok_or_else(|| ApiError::not_found(E::NAME))
}

/// A foreign key in a request body must name a row the caller's tenant owns (422 otherwise).
pub async fn ensure_ref<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    id: impl Into<sea_orm::Value>,
    field: &str,
) -> Result<(), ApiError> {
    let exists = find_optional::<E>(db, tenant, id).await?.is_some();
    if exists { Ok(()) } else { Err(ApiError::invalid_field(field, format!("no {} with this id", E::NAME))) }
}

/// Applies the schema's declared constraints ([`crate::check::FieldChecks`]) to every string
/// column the row sets, as it is about to be stored: after hooks have run (a username is
/// NFKC-normalized by then, and NFKC can lengthen it), and for rows protocol code builds. A
/// failure is the same 422 a request body gets, on both backends, before the database sees it.
pub(crate) fn check_declared<E: Resource>(row: &E::ActiveModel) -> Result<(), ApiError>
where
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E>,
{
    use sea_orm::{ActiveModelTrait, ActiveValue, Iterable};
    let mut checks = crate::check::Checks::default();
    for column in E::Column::iter() {
        if let ActiveValue::Set(sea_orm::Value::String(Some(value))) = row.get(column) {
            E::check_str(&mut checks, column.as_str(), &value);
        }
    }
    checks.finish()
}

/// Inserts a row; a uniqueness conflict (also across `UNIQUE_ACROSS` fields) is a 409 naming
/// the field.
pub async fn insert<E>(db: &impl ConnectionTrait, row: E::ActiveModel) -> Result<E::Model, ApiError>
where
    E: Resource,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    check_declared::<E>(&row)?;
    crate::unique_across::check_row::<E>(db, &row).await?;
    sea_orm::ActiveModelTrait::insert(row, db).await.map_err(write_error::<E>)
}

/// Updates a row (a no-op update returns it unchanged); conflicts as for [`insert`].
pub async fn update<E>(db: &impl ConnectionTrait, row: E::ActiveModel) -> Result<E::Model, ApiError>
where
    E: Resource,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    check_declared::<E>(&row)?;
    crate::unique_across::check_row::<E>(db, &row).await?;
    sea_orm::ActiveModelTrait::update(row, db).await.map_err(write_error::<E>)
}

/// Deletes a row; one still referenced by `on_delete: restrict` rows is a 409.
pub async fn delete<E>(db: &impl ConnectionTrait, model: E::Model) -> Result<(), ApiError>
where
    E: Resource,
    E::Model: ModelTrait<Entity = E> + sea_orm::IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    model.delete(db).await.map_err(write_error::<E>)?;
    Ok(())
}

/// Child rows whose `via` column points at `parent`, by primary key, at most 1000.
pub async fn children<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    via: E::Column,
    parent: impl Into<sea_orm::Value>,
) -> Result<Vec<E::Model>, ApiError> {
    Ok(scoped::<E>(E::find().filter(via.eq(parent)), tenant)
        .order_by_asc(E::pk())
        .limit(MAX_INCLUDED_ROWS)
        .all(db)
        .await?)
}

/// One page of rows matching the query's filters, in the query's order.
pub async fn list<E>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    query: &ListQuery,
) -> Result<Page<E::Model>, ApiError>
where
    E: Resource,
    E::Column: FromStr,
{
    let column = |name: &str| {
        E::Column::from_str(name).map_err(|_| ApiError::internal(format!("`{}` has no column `{name}`", E::NAME)))
    };
    let mut select = scoped::<E>(E::find(), tenant);
    for (name, value) in &query.filters {
        select = select.filter(column(name)?.eq(value.clone()));
    }
    let sort = column(query.sort)?;
    let pk = E::pk();
    if let Some(after) = &query.after {
        // Keyset pagination: rows strictly after (sort value, id) in the listing order, as one
        // row-value comparison, so the `(tenant_id, filter, sort, id)` indexes the generator
        // emits serve a deep page as a range scan that starts where the previous page ended.
        let listed = Expr::tuple([sort.into_expr(), pk.into_expr()]);
        let last = Expr::tuple([Expr::val(after.value.clone()), Expr::val(after.id.clone())]);
        select = select.filter(if query.descending { listed.lt(last) } else { listed.gt(last) });
    }
    let order = if query.descending { Order::Desc } else { Order::Asc };
    let mut rows = select.order_by(sort, order.clone()).order_by(pk, order).limit(query.limit + 1).all(db).await?;
    let next_cursor = if rows.len() as u64 > query.limit {
        rows.truncate(query.limit as usize);
        rows.last().map(|last| Cursor::after(query, last.get(sort), last.get(pk)).encode())
    } else {
        None
    };
    Ok(Page { items: rows, next_cursor })
}

/// The row of `E` in `tenant` whose `column` equals `value`. A field of [`Resource::KEYS`]
/// (a digest unique across tenants) finds the row by itself and its tenant is checked on the
/// row; any other field is looked up within the tenant.
pub async fn find_where<E: Resource, T: Into<sea_orm::Value>>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    column: Col<E, T>,
    value: impl Into<T>,
) -> Result<Option<E::Model>, ApiError> {
    if E::KEYS.contains(&column.name()) {
        let row = crate::keyed::one::<E>(db, column.column(), value.into().into()).await?;
        return Ok(row.filter(|row| in_tenant::<E>(row, Some(tenant))));
    }
    Ok(scoped::<E>(E::find().filter(column.eq(value)), Some(tenant)).one(db).await?)
}

/// The row of `E`, in any tenant, whose unique `column` equals `value` (an API key by its
/// digest, a tenant by its slug); the row says whose it is.
pub async fn find_unique<E: Resource, T: Into<sea_orm::Value>>(
    db: &impl ConnectionTrait,
    column: Col<E, T>,
    value: impl Into<T>,
) -> Result<Option<E::Model>, ApiError> {
    Ok(E::find().filter(column.eq(value)).one(db).await?)
}

/// Inserts a row made by a role constructor (e.g. a [`crate::roles::NewGrant`]), without
/// reading it back; conflicts as for [`insert`].
pub async fn insert_new<E: Resource>(
    db: &impl ConnectionTrait,
    row: impl Into<E::ActiveModel>,
) -> Result<(), ApiError> {
    let row = row.into();
    check_declared::<E>(&row)?;
    crate::unique_across::check_row::<E>(db, &row).await?;
    E::insert(row).exec_without_returning(db).await.map_err(write_error::<E>)?;
    Ok(())
}

/// Sets columns on the row `id`, only if the column `unset` is still NULL; whether it was. This
/// is how one-time things (codes, refresh tokens, grants) are claimed: of two concurrent claims
/// exactly one sees `true`. `id` must come from a row read within the caller's tenant (the
/// statement names the primary key alone; see the module docs).
pub async fn claim<E: Resource, T>(
    db: &impl ConnectionTrait,
    id: Uuid,
    unset: Col<E, Option<T>>,
    values: impl IntoIterator<Item = Assign<E>>,
) -> Result<bool, ApiError> {
    let update = claim_statement(id, unset, values);
    Ok(db.execute(&update).await.map_err(write_error::<E>)?.rows_affected() == 1)
}

/// [`claim`]'s statement, `UPDATE … SET <values> WHERE id = <id> AND <unset> IS NULL`, for a
/// [`crate::chain::Chain`].
pub fn claim_statement<E: Resource, T>(
    id: Uuid,
    unset: Col<E, Option<T>>,
    values: impl IntoIterator<Item = Assign<E>>,
) -> sea_orm::sea_query::UpdateStatement {
    use sea_orm::QueryTrait;
    let mut update = E::update_many().filter(E::pk().eq(id)).filter(unset.is_null());
    for Assign { column, value } in values {
        update = update.col_expr(column, sea_orm::sea_query::Expr::value(value));
    }
    update.into_query()
}

/// `SELECT 1 FROM … WHERE id = <id> AND <unset> IS NULL`: whether the row `id` is unclaimed, as a
/// condition of a [`crate::chain::Chain`]'s part.
pub fn unclaimed<E: Resource, T>(id: Uuid, unset: Col<E, Option<T>>) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .expr(Expr::value(1))
        .from(E::default())
        .and_where(E::pk().eq(id))
        .and_where(unset.is_null())
        .to_owned()
}

/// Sets columns on the row `id` only if the counter `column` is NULL or below `below`; whether
/// it was. How a value that only moves forward is claimed (a TOTP factor's last used step): of
/// two concurrent claims of one value exactly one sees `true`. `id` as for [`claim`].
pub async fn claim_below<E: Resource>(
    db: &impl ConnectionTrait,
    id: Uuid,
    column: Col<E, Option<i64>>,
    below: i64,
    values: impl IntoIterator<Item = Assign<E>>,
) -> Result<bool, ApiError> {
    let unset_or_below = sea_orm::Condition::any().add(column.is_null()).add(column.lt(Some(below)));
    let mut update = E::update_many().filter(E::pk().eq(id)).filter(unset_or_below);
    for Assign { column, value } in values {
        update = update.col_expr(column, sea_orm::sea_query::Expr::value(value));
    }
    Ok(update.exec(db).await.map_err(write_error::<E>)?.rows_affected == 1)
}

/// Like [`claim`], for every row of `tenant` whose column `by.0` equals `by.1`; how many changed.
pub async fn claim_where<E: Resource, B: Into<sea_orm::Value>, T>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    by: (Col<E, B>, B),
    unset: Col<E, Option<T>>,
    values: impl IntoIterator<Item = Assign<E>>,
) -> Result<u64, ApiError> {
    let mut update = E::update_many().filter(by.0.eq(by.1)).filter(unset.is_null());
    if let Some(tenant_column) = E::tenant() {
        update = update.filter(tenant_column.eq(tenant));
    }
    for Assign { column, value } in values {
        update = update.col_expr(column, sea_orm::sea_query::Expr::value(value));
    }
    Ok(update.exec(db).await.map_err(write_error::<E>)?.rows_affected)
}

/// Sets columns on the row `id` of `tenant`, after the schema's declared constraints and
/// `unique_across:` (in that tenant) accept the string values. `id` must come from a row read
/// within that tenant, or from the caller's own credential; the update names the primary key
/// alone (see the module docs).
pub async fn set<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    id: Uuid,
    values: impl IntoIterator<Item = Assign<E>>,
) -> Result<(), ApiError> {
    let values: Vec<Assign<E>> = values.into_iter().collect();
    let across: Vec<(&str, &str)> = values
        .iter()
        .filter_map(|Assign { column, value }| match value {
            sea_orm::Value::String(Some(text)) => Some((column.as_str(), text.as_str())),
            _ => None,
        })
        .collect();
    let mut checks = crate::check::Checks::default();
    for (name, value) in &across {
        E::check_str(&mut checks, name, value);
    }
    checks.finish()?;
    crate::unique_across::check::<E>(db, Some(tenant), id, &across).await?;
    let mut update = E::update_many().filter(E::pk().eq(id));
    for Assign { column, value } in values {
        update = update.col_expr(column, sea_orm::sea_query::Expr::value(value));
    }
    update.exec(db).await.map_err(write_error::<E>)?;
    Ok(())
}

/// Deletes the rows of `tenant` whose `column` equals `value`.
pub async fn delete_where<E: Resource, T: Into<sea_orm::Value>>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    column: Col<E, T>,
    value: impl Into<T>,
) -> Result<u64, ApiError> {
    let mut delete = E::delete_many().filter(column.eq(value));
    if let Some(tenant_column) = E::tenant() {
        delete = delete.filter(tenant_column.eq(tenant));
    }
    Ok(delete.exec(db).await.map_err(write_error::<E>)?.rows_affected)
}

/// Deletes the row `id`, if it exists. `id` must come from a row read within the caller's tenant
/// (the statement names the primary key alone; see the module docs).
pub async fn delete_id<E: Resource>(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    E::delete_many().filter(E::pk().eq(id)).exec(db).await.map_err(write_error::<E>)?;
    Ok(())
}

/// Maps a failed write: uniqueness → 409 naming the field, a broken reference → 409, lock
/// contention → 503, anything else → 500.
pub fn write_error<E: Resource>(error: DbErr) -> ApiError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            let table = E::default().table_name().to_owned();
            let field = E::UNIQUE
                .iter()
                .find(|(index, field)| message.contains(index) || message.contains(&format!("{table}.{field}")))
                .map(|(_, field)| *field);
            let detail = match field {
                Some(field) => format!("a {} with this `{field}` already exists", E::NAME),
                None => format!("conflicts with an existing {}", E::NAME),
            };
            ApiError::conflict(field, detail)
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::conflict(
            None,
            format!("this {} is still referenced by other rows, or references a row that is gone", E::NAME),
        ),
        _ => outage(&error).unwrap_or_else(|| ApiError::internal(error)),
    }
}
