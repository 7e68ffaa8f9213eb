//! The signed-in user's own listings under `/auth/me/…` (security events, devices): the rows of
//! one entity whose `user_id` is the caller, newest first, paged like admin lists.

use actix_web::HttpResponse;
use sea_orm::EntityTrait;
use serde_json::Value;

use crate::crud::{self, Resource};
use crate::endpoint_context::EndpointCtx;
use crate::error::ApiError;
use crate::list::{ListQuery, ListSpec};
use crate::roles::Roles;

/// `{items: [view(row)], next_cursor}` of the caller's rows of `E` under `spec` (its filters and
/// sort keys; `?limit=` and `?cursor=` as in admin lists); 401 without a credential, 400 for a
/// bad query.
pub async fn list<R: Roles, E>(
    ctx: &EndpointCtx<'_>,
    spec: &ListSpec,
    view: impl Fn(&<E as EntityTrait>::Model) -> Value,
) -> Result<HttpResponse, ApiError>
where
    E: Resource,
    E::Column: std::str::FromStr,
{
    let caller = super::principal::require::<R>(ctx).await?;
    let mut query = ListQuery::parse_newest_first(ctx.request().query_string(), spec)?;
    query.filters.push(("user_id", sea_orm::Value::from(caller.user_id)));
    let page = crud::list::<E>(ctx.runtime().db(), Some(ctx.tenant()?), &query).await?;
    Ok(crate::http::respond(200, &page.map(|row| view(&row))))
}
