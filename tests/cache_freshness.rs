//! A cached value read before a write is never served after that write's invalidation, even
//! when the invalidation lands while a request is between its reads (made deterministic here by
//! playing the request's steps by hand around the write, instead of hoping for the timing).
//!
//! The race this pins down: a request reads a user's account row (no roles yet), an admin gives
//! the user a role (the write drops the caches, here and through the invalidation bus on other
//! replicas), then the request builds the user's membership. Built from the old row and cached,
//! that membership would deny the new role for a whole TTL after the write.

mod support;

use actix_web::http::StatusCode;
use keygate_api::entities::{Roles, user};
use keygate_runtime::account::user_roles;
use serde_json::json;
use support::{Client, each_backend};
use uuid::Uuid;

#[actix_web::test]
async fn a_membership_follows_the_account_row_it_is_given_not_one_read_before_a_write() {
    each_backend(async |client: &Client<'_>| {
        let rt = &client.rt;
        let tenant: Uuid = client.tenant("acme").await.str("id").parse().unwrap();
        let body = json!({ "username": "dana", "email": "dana@example.com", "password": "correct horse battery" });
        let dana: Uuid = client.post("/admin/tenants/acme/users", &body).await.str("id").parse().unwrap();

        // The request reads dana's row: no roles.
        let before = rt.accounts().find::<user::Entity>(rt, tenant, dana).await.unwrap().unwrap();
        // The write lands, and its invalidation with it.
        let given = client.patch(&format!("/admin/tenants/acme/users/{dana}"), &json!({ "roles": ["operator"] })).await;
        assert_eq!(given.status, StatusCode::OK, "[{}] {}", client.backend, given.json);
        // The request goes on with the row it read: that is what it is given.
        let stale = user_roles::of::<Roles>(rt, tenant, &before).await.unwrap();
        assert!(stale.roles.is_empty(), "[{}] {:?}", client.backend, stale.roles);

        // The next request reads dana afresh and must see the role, not what the last one cached.
        let after = rt.accounts().find::<user::Entity>(rt, tenant, dana).await.unwrap().unwrap();
        let membership = user_roles::of::<Roles>(rt, tenant, &after).await.unwrap();
        assert_eq!(membership.roles, ["operator"], "[{}]", client.backend);
    })
    .await;
}
