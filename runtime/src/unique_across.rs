//! Unique fields sharing one space of values (`unique_across:` in the schema): the user entity's
//! `username` and `email` are both login names, so a username may not be another user's email.
//!
//! Each field's own unique index keeps its column free of repeats; this check, run inside the
//! write transaction before every insert or update that sets one of the fields, keeps a value
//! out of the other columns of other rows. Two concurrent writers cannot both pass it: SQLite
//! admits one writer at a time (`Runtime::begin_write`), and on PostgreSQL the check first takes
//! a transaction-scoped advisory lock on (table, tenant), so writers of the same tenant's rows
//! queue, and each checks (a new READ COMMITTED snapshot per statement) after the one before it
//! committed or rolled back.

use std::str::FromStr;

use sea_orm::{ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DbBackend, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::crud::Resource;
use crate::error::ApiError;

/// Refuses (409 naming the field) a value for a field of `E::UNIQUE_ACROSS` that another row of
/// `tenant` (every row for unscoped entities) holds in another of those fields. `values` are the
/// fields being written, by name; others are ignored. `id` is the row being written.
pub async fn check<E: Resource>(
    db: &impl ConnectionTrait,
    tenant: Option<Uuid>,
    id: Uuid,
    values: &[(&str, &str)],
) -> Result<(), ApiError> {
    let written: Vec<_> = values.iter().filter(|(field, _)| E::UNIQUE_ACROSS.contains(field)).collect();
    if written.is_empty() {
        return Ok(());
    }
    lock::<E>(db, tenant).await?;
    for (field, value) in written {
        for other in E::UNIQUE_ACROSS.iter().filter(|other| *other != field) {
            let mut query = E::find().filter(E::pk().ne(id)).filter(column::<E>(other)?.eq(*value));
            if let (Some(tenant_column), Some(tenant)) = (E::tenant(), tenant) {
                query = query.filter(tenant_column.eq(tenant));
            }
            if query.one(db).await?.is_some() {
                return Err(ApiError::conflict(
                    Some(field),
                    format!("another {} has this value as its `{other}`", E::NAME),
                ));
            }
        }
    }
    Ok(())
}

/// [`check`] for a row about to be inserted or updated: the fields it sets (an update's unchanged
/// fields are not checked again).
pub async fn check_row<E: Resource>(db: &impl ConnectionTrait, row: &E::ActiveModel) -> Result<(), ApiError>
where
    E::ActiveModel: ActiveModelTrait<Entity = E>,
{
    if E::UNIQUE_ACROSS.is_empty() {
        return Ok(());
    }
    let uuid = |value: ActiveValue<sea_orm::Value>| match value.into_value() {
        Some(sea_orm::Value::Uuid(Some(id))) => Some(id),
        _ => None,
    };
    let Some(id) = uuid(row.get(E::pk())) else { return Ok(()) };
    let tenant = E::tenant().and_then(|column| uuid(row.get(column)));
    let mut values = Vec::new();
    for field in E::UNIQUE_ACROSS {
        if let ActiveValue::Set(sea_orm::Value::String(Some(value))) = row.get(column::<E>(field)?) {
            values.push((*field, value));
        }
    }
    let values: Vec<(&str, &str)> = values.iter().map(|(field, value)| (*field, value.as_str())).collect();
    check::<E>(db, tenant, id, &values).await
}

/// PostgreSQL: `pg_advisory_xact_lock` on a key derived from the table and tenant, held until
/// the transaction ends. SQLite needs none (one writer at a time).
async fn lock<E: Resource>(db: &impl ConnectionTrait, tenant: Option<Uuid>) -> Result<(), ApiError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let table = E::default().table_name().to_owned();
    let digest = Sha256::digest(format!("keygate:unique_across:{table}:{}", tenant.unwrap_or_default()));
    let key = i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes"));
    let statement =
        sea_orm::Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_advisory_xact_lock($1)", [key.into()]);
    db.execute_raw(statement).await?;
    Ok(())
}

/// The column of `E` called `field`: one of the names of the generated `UNIQUE_ACROSS`.
fn column<E: Resource>(field: &str) -> Result<E::Column, ApiError> {
    E::Column::from_str(field).map_err(|_| ApiError::internal(format!("`{}` has no column `{field}`", E::NAME)))
}
