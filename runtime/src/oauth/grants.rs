//! Grants: the family every token issued from one authorization code belongs to. Revoking a
//! grant ends its refresh tokens at once and its access tokens at introspection and UserInfo.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query, UpdateStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Value};
use uuid::Uuid;

use crate::chain::{self, Chain};
use crate::crud;
use crate::error::ApiError;
use crate::roles::{Grant, GrantColumns, RefreshTokenColumns, Roles};
use crate::sql_cache::Shape;
use crate::state::Runtime;

/// The grant `id` if it exists and is not revoked.
pub async fn live<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<<R::Grant as EntityTrait>::Model>, ApiError> {
    Ok(crud::find_optional::<R::Grant>(db, Some(tenant), id).await?.filter(|grant| grant.revoked_at().is_none()))
}

/// Claims the refresh token `token` (sets its `used_at`) if it is unused and its grant `grant`
/// is live, and inserts `successor` if it did, as one write of its own
/// ([`Runtime::execute_write`]): both happen, or neither. Whether they did. Of two concurrent
/// claims of one token exactly one succeeds.
///
/// On PostgreSQL this is one statement ([`Chain`]) whose claim reads the grant's row
/// `FOR SHARE` by an uncorrelated sub-select, which runs before the update scans for the token:
/// the grant is locked first, as [`revoke`] locks it first. A concurrent revocation therefore
/// either committed before (the re-checked grant is revoked, nothing is claimed) or waits for
/// this statement and then retires every token of the grant, the successor included. On SQLite
/// the claim and the insert are two statements run together in one round trip to the writer, and
/// the write gate orders them with any revocation.
pub async fn claim_and_replace<R: Roles>(
    rt: &Runtime,
    token: Uuid,
    grant: Uuid,
    successor: <R::RefreshToken as EntityTrait>::ActiveModel,
) -> Result<bool, ApiError> {
    let backend = rt.db().get_database_backend();
    // The kept statement is not built from the row, so its declared constraints are checked here.
    crud::check_declared::<R::RefreshToken>(&successor)?;
    let now = crate::now();
    let build = || {
        Chain::new::<R::RefreshToken>(backend)
            .update::<R::RefreshToken>(claim_statement::<R>(backend, now, token, grant))
            .insert::<R::RefreshToken>(successor.clone(), None)
    };
    let write = match chain::set_columns::<R::RefreshToken>(&successor) {
        Some(columns) => {
            let shape = Shape::new::<R>("refresh_token rotation", backend, columns);
            Chain::cached(backend, shape, rotation_values::<R>(backend, now, token, grant, &successor), build)?
        }
        None => build()?.write()?,
    };
    Ok(rt.execute_write(write).await? == 1)
}

/// The parameters of [`claim_and_replace`]'s statement, in order: the claim's (`used_at`, the
/// token, the sub-select's `1`, the grant), on PostgreSQL the first step's `RETURNING 1`, the
/// successor's columns, and on PostgreSQL the second step's `SELECT 1 FROM step0`.
fn rotation_values<R: Roles>(
    backend: DbBackend,
    now: DateTime<Utc>,
    token: Uuid,
    grant: Uuid,
    successor: &<R::RefreshToken as EntityTrait>::ActiveModel,
) -> Vec<Value> {
    let postgres = backend == DbBackend::Postgres;
    let mut values = vec![Value::from(now), Value::from(token), Value::from(1), Value::from(grant)];
    if postgres {
        values.push(Value::from(1));
    }
    values.extend(chain::row_values::<R::RefreshToken>(successor).1);
    if postgres {
        values.push(Value::from(1));
    }
    values
}

/// `UPDATE refresh_token SET used_at = now WHERE id = token AND used_at IS NULL AND EXISTS
/// (SELECT 1 FROM grant WHERE id = grant AND revoked_at IS NULL [FOR SHARE])`.
fn claim_statement<R: Roles>(backend: DbBackend, now: DateTime<Utc>, token: Uuid, grant: Uuid) -> UpdateStatement {
    let mut live = Query::select();
    live.expr(Expr::value(1))
        .from(R::Grant::default())
        .and_where(<R::Grant as crud::Resource>::pk().eq(grant))
        .and_where(R::Grant::REVOKED_AT.is_null());
    if backend == DbBackend::Postgres {
        live.lock_shared();
    }
    R::RefreshToken::update_many()
        .filter(<R::RefreshToken as crud::Resource>::pk().eq(token))
        .filter(R::RefreshToken::USED_AT.is_null())
        .filter(Expr::exists(live))
        .col_expr(R::RefreshToken::USED_AT.column(), Expr::value(now))
        .into_query()
}

/// Revokes the grant `id` of `tenant` (a no-op if it already is), and retires its refresh tokens;
/// `id` comes from a row or credential of that tenant. The grant row is written first: a
/// rotation holding it ([`claim_and_replace`]) finishes before the refresh tokens are retired, so
/// its new token is retired too.
pub async fn revoke<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> Result<(), ApiError> {
    let now = crate::now();
    let revoked = [R::Grant::REVOKED_AT.set(now), R::Grant::UPDATED_AT.set(now)];
    crud::claim(db, id, R::Grant::REVOKED_AT, revoked).await?;
    let retired = [R::RefreshToken::USED_AT.set(now)];
    crud::claim_where(db, tenant, (R::RefreshToken::GRANT_ID, id), R::RefreshToken::USED_AT, retired).await?;
    Ok(())
}
