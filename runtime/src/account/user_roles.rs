//! A user's effective roles (their own plus their groups') and group names, as access rules
//! check them and tokens carry them (`roles`, `groups` claims). Cached for up to 5 s per user and
//! dropped at once, on every replica ([`crate::invalidation`]), when users, groups or memberships
//! are written through the API.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{Account, Group, GroupColumns, GroupMember, GroupMemberColumns, Roles};
use crate::state::Runtime;

/// How long a user's computed roles are trusted.
pub const TTL: Duration = Duration::from_secs(5);

/// What a user may act as.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Their roles and their groups' roles, sorted, without duplicates.
    pub roles: Vec<String>,
    /// Their groups' names, sorted.
    pub groups: Vec<String>,
}

type Entry = (Instant, Arc<Membership>);

/// (tenant, user) → membership.
#[derive(Debug, Default)]
pub struct MembershipCache(RwLock<HashMap<(Uuid, Uuid), Entry>>);

impl MembershipCache {
    /// Forgets every user's.
    pub fn clear(&self) {
        if let Ok(mut map) = self.0.write() {
            map.clear();
        }
    }
}

/// The membership of `account` in `tenant`.
pub async fn of<R: Roles>(rt: &Runtime, tenant: Uuid, account: &impl Account) -> Result<Arc<Membership>, ApiError> {
    let key = (tenant, account.id());
    let cached = rt.memberships().0.read().ok().and_then(|map| {
        let (at, membership) = map.get(&key)?;
        (at.elapsed() < TTL).then(|| membership.clone())
    });
    if let Some(membership) = cached {
        return Ok(membership);
    }
    let membership = Arc::new(compute::<R>(rt.db(), tenant, account).await?);
    if let Ok(mut map) = rt.memberships().0.write() {
        map.insert(key, (Instant::now(), membership.clone()));
    }
    Ok(membership)
}

/// The membership of `account` in `tenant` as `db` (e.g. a write transaction) sees it, uncached.
pub async fn compute<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    account: &impl Account,
) -> Result<Membership, ApiError> {
    let group_ids: Vec<Uuid> = crud::scoped_find::<R::GroupMember>(Some(tenant))
        .filter(R::GroupMember::USER_ID.eq(account.id()))
        .all(db)
        .await?
        .iter()
        .map(|m| m.group_id())
        .collect();
    let groups = if group_ids.is_empty() {
        Vec::new()
    } else {
        crud::scoped_find::<R::Group>(Some(tenant)).filter(R::Group::ID.is_in(group_ids)).all(db).await?
    };
    let mut roles: Vec<String> = account.roles().0.clone();
    roles.extend(groups.iter().flat_map(|g| g.roles().0.iter().cloned()));
    roles.sort();
    roles.dedup();
    let mut names: Vec<String> = groups.iter().map(|g| g.name().to_owned()).collect();
    names.sort();
    Ok(Membership { roles, groups: names })
}
