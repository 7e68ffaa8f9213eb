//! Who may give which roles. Roles change four ways through the admin API: a user is created or
//! updated with `roles`, a group is created or updated with `roles` (every member has them), and
//! a user joins a group (a `group_member` row). Each of these *grants* the roles it adds; taking
//! a role away (an update that drops it, a delete) grants nothing.
//!
//! The rule, checked after the op's access rule admitted the caller:
//! - the admin credential and superadmins ([`Caller::Admin`]) may grant any role;
//! - a user may grant only roles they hold (their own or through a group), and never
//!   [`SUPERADMIN`], which only a superadmin gives;
//! - a user may not add roles to their own account, whatever they hold;
//! - services (and anonymous callers) grant none;
//! - acting on another user — updating them at all, making an API key for them, or removing
//!   one of their second factors — needs the right to grant every role they hold, or a password
//!   reset would hand those roles over (or, for a factor, leave them a password away).
//!
//! A refusal is a 403 naming the roles, and the op's transaction is rolled back.

use uuid::Uuid;

use crate::access::{Caller, SUPERADMIN};
use crate::crud;
use crate::hook_context::{HookError, HookResult, PreCtx};
use crate::roles::{Account, Group, Roles};
use crate::string_list::StringList;

/// Whether `caller` may give `role` to someone (see the module docs).
pub fn may_grant(caller: &Caller, role: &str) -> bool {
    match caller {
        Caller::Admin => true,
        Caller::User { roles, .. } => role != SUPERADMIN && roles.iter().any(|held| held == role),
        Caller::Anonymous | Caller::Service { .. } => false,
    }
}

/// Checks a write that leaves `roles` where `before` were (empty for a new row, a group to join
/// or a row that had none). `own` says the roles are the caller's own account's. A 403 names the
/// roles `caller` may not grant.
pub fn check(caller: &Caller, roles: &[String], before: &[String], own: bool) -> Result<(), HookError> {
    let added: Vec<&str> = roles.iter().filter(|role| !before.contains(role)).map(String::as_str).collect();
    if added.is_empty() || matches!(caller, Caller::Admin) {
        return Ok(());
    }
    if own {
        return Err(HookError::forbidden(format!("you may not add roles to your own account ({})", added.join(", "))));
    }
    let refused: Vec<&str> = added.into_iter().filter(|role| !may_grant(caller, role)).collect();
    if refused.is_empty() {
        return Ok(());
    }
    let why = if refused.contains(&SUPERADMIN) {
        format!("only a superadmin may grant `{SUPERADMIN}`")
    } else {
        "you may only grant roles you hold".to_owned()
    };
    Err(HookError::forbidden(format!("{why}; refused: {}", refused.join(", "))))
}

/// A user row is written with `roles`: the roles it did not have before are grants. On an
/// update of another user, the caller must also be able to grant every role the user holds now
/// (their own and their groups'): setting their password would otherwise hand those over.
pub async fn check_user<R: Roles>(ctx: &PreCtx<'_>, roles: Option<&StringList>) -> HookResult {
    let own = matches!(ctx.caller(), Caller::User { id, .. } if ctx.row() == Some(&sea_orm::Value::from(*id)));
    let stored = match (ctx.row(), ctx.tenant()) {
        (Some(id), Some(_)) => crud::find_optional::<R::Account>(ctx.tx(), ctx.tenant(), id.clone()).await?,
        _ => None,
    };
    if let (Some(user), Some(tenant), false) = (&stored, ctx.tenant(), own) {
        check_over::<R>(ctx, tenant, user).await?;
    }
    check(ctx.caller(), list(roles), list(stored.as_ref().map(|u| u.roles())), own)
}

/// An API key is made for `user`: it authenticates as them, so unless it is the caller's own,
/// the caller must be able to grant every role the user holds.
pub async fn check_key_holder<R: Roles>(ctx: &PreCtx<'_>, user: Uuid) -> HookResult {
    check_acting_on::<R>(ctx, user).await
}

/// The caller acts on `user` (makes them a key, removes one of their factors): unless it is the
/// caller themselves, they must be able to grant every role the user holds (403 otherwise).
pub async fn check_acting_on<R: Roles>(ctx: &PreCtx<'_>, user: Uuid) -> HookResult {
    if matches!(ctx.caller(), Caller::User { id, .. } if *id == user) {
        return Ok(());
    }
    let (Some(tenant), Some(holder)) =
        (ctx.tenant(), crud::find_optional::<R::Account>(ctx.tx(), ctx.tenant(), user).await?)
    else {
        return Ok(());
    };
    check_over::<R>(ctx, tenant, &holder).await
}

/// Refuses to act on `user` when they hold a role (their own or a group's) the caller may not
/// grant.
async fn check_over<R: Roles>(ctx: &PreCtx<'_>, tenant: Uuid, user: &impl Account) -> HookResult {
    let held = super::user_roles::compute::<R>(ctx.tx(), tenant, user).await?.roles;
    let above: Vec<&str> = held.iter().map(String::as_str).filter(|role| !may_grant(ctx.caller(), role)).collect();
    if above.is_empty() {
        return Ok(());
    }
    Err(HookError::forbidden(format!("this user holds roles you may not grant: {}", above.join(", "))))
}

/// A group row is written with `roles`: the roles it did not have before are grants (to every
/// member, present and future).
pub async fn check_group<R: Roles>(ctx: &PreCtx<'_>, roles: Option<&StringList>) -> HookResult {
    let before = match ctx.row() {
        Some(id) => {
            crud::find_optional::<R::Group>(ctx.tx(), ctx.tenant(), id.clone()).await?.map(|g| g.roles().clone())
        }
        None => None,
    };
    check(ctx.caller(), list(roles), list(before.as_ref()), false)
}

/// `user` joins `group`: every role of the group is a grant to them.
pub async fn check_join<R: Roles>(ctx: &PreCtx<'_>, group: Uuid, user: Uuid) -> HookResult {
    // The generated handler has checked the group exists in the tenant.
    let Some(group) = crud::find_optional::<R::Group>(ctx.tx(), ctx.tenant(), group).await? else { return Ok(()) };
    let own = matches!(ctx.caller(), Caller::User { id, .. } if *id == user);
    check(ctx.caller(), &group.roles().0, &[], own)
}

fn list(roles: Option<&StringList>) -> &[String] {
    roles.map_or(&[], |roles| &roles.0)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn user(roles: &[&str]) -> Caller {
        Caller::User { tenant: Uuid::nil(), id: Uuid::nil(), roles: roles.iter().map(|r| r.to_string()).collect() }
    }

    fn strings(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn admin_grants_anything_users_only_what_they_hold_never_superadmin() {
        assert!(may_grant(&Caller::Admin, SUPERADMIN));
        let holder = user(&["org_admin", "operator", SUPERADMIN]);
        assert!(may_grant(&holder, "operator"));
        assert!(!may_grant(&holder, "viewer"));
        assert!(!may_grant(&holder, SUPERADMIN));
        assert!(!may_grant(&Caller::Service { tenant: Uuid::nil(), id: Uuid::nil() }, "viewer"));
        assert!(!may_grant(&Caller::Anonymous, "viewer"));
    }

    #[test]
    fn only_added_roles_are_grants() {
        let caller = user(&["org_admin"]);
        // Keeping or dropping a role the caller does not hold grants nothing.
        assert!(check(&caller, &strings(&[SUPERADMIN]), &strings(&[SUPERADMIN, "viewer"]), false).is_ok());
        assert!(check(&caller, &strings(&["org_admin", "viewer"]), &strings(&[]), false).is_err());
        assert!(check(&caller, &strings(&["org_admin"]), &strings(&[]), false).is_ok());
    }

    #[test]
    fn no_one_but_the_admin_raises_their_own_roles() {
        let caller = user(&["org_admin", "operator"]);
        assert!(check(&caller, &strings(&["org_admin", "operator"]), &strings(&["org_admin"]), true).is_err());
        assert!(check(&caller, &strings(&[]), &strings(&["org_admin"]), true).is_ok());
        assert!(check(&Caller::Admin, &strings(&[SUPERADMIN]), &strings(&[]), true).is_ok());
    }
}
