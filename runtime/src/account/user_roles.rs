//! A user's effective roles (their own plus their groups') and group names, as access rules
//! check them and tokens carry them (`roles`, `groups` claims). What a user's groups give them is
//! cached for up to 5 s per user and dropped at once, on every replica ([`crate::invalidation`]),
//! when users, groups or memberships are written through the API; the user's own roles always
//! come from the account row the caller holds.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, QueryFilter};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{Account, Group, GroupColumns, GroupMember, GroupMemberColumns, Roles};
use crate::state::Runtime;
use crate::ttl_map::TtlMap;

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

/// What a user's groups give them: the groups' roles and names. Cached apart from the user's own
/// roles, which come from the account row the caller read, so a membership is never built from
/// an account row older than the cache's last invalidation.
#[derive(Debug, Default)]
struct GroupShare {
    roles: Vec<String>,
    names: Vec<String>,
}

/// (tenant, user) → what their groups give them.
#[derive(Debug)]
pub struct MembershipCache(TtlMap<(Uuid, Uuid), Arc<GroupShare>>);

impl Default for MembershipCache {
    fn default() -> Self {
        Self(TtlMap::new(TTL))
    }
}

impl MembershipCache {
    /// Forgets every user's.
    pub fn clear(&self) {
        self.0.clear();
    }
}

/// The membership of `account` in `tenant`: its own roles (as read) and its groups' (cached).
pub async fn of<R: Roles>(rt: &Runtime, tenant: Uuid, account: &impl Account) -> Result<Membership, ApiError> {
    let cache = &rt.memberships().0;
    let key = (tenant, account.id());
    let share = match cache.get(&key) {
        Some(share) => share,
        None => {
            let ticket = cache.ticket();
            let share = Arc::new(group_share::<R>(rt.db(), tenant, account.id()).await?);
            cache.insert(ticket, key, share.clone());
            share
        }
    };
    Ok(merge(account, &share))
}

/// The membership of `account` in `tenant` as `db` (e.g. a write transaction) sees it, uncached.
pub async fn compute<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    account: &impl Account,
) -> Result<Membership, ApiError> {
    Ok(merge(account, &group_share::<R>(db, tenant, account.id()).await?))
}

/// The roles and names of the groups `user` belongs to in `tenant`.
async fn group_share<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, user: Uuid) -> Result<GroupShare, ApiError> {
    let group_ids: Vec<Uuid> = crud::scoped_find::<R::GroupMember>(Some(tenant))
        .filter(R::GroupMember::USER_ID.eq(user))
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
    let roles = groups.iter().flat_map(|g| g.roles().0.iter().cloned()).collect();
    let mut names: Vec<String> = groups.iter().map(|g| g.name().to_owned()).collect();
    names.sort();
    Ok(GroupShare { roles, names })
}

/// `account`'s own roles and `share`'s, sorted and without duplicates.
fn merge(account: &impl Account, share: &GroupShare) -> Membership {
    let mut roles: Vec<String> = account.roles().0.iter().chain(&share.roles).cloned().collect();
    roles.sort();
    roles.dedup();
    Membership { roles, groups: share.names.clone() }
}
