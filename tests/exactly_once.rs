//! Exactly-once rotation under a race made deterministic: on PostgreSQL a trigger delays every
//! insert into `refresh_tokens` by 0.3 s, so a concurrent reuse of the same refresh token always
//! lands between the winner's claim and the insert of its successor. The reuse revokes the
//! sign-in, and no token issued in the race may outlive that revocation; nor may one issued
//! while the sign-in is ended by a logout that lands in the same gap. (On SQLite the write gate
//! orders them; the same assertions hold.)

mod support;

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use support::{Auth, Client, each_backend};

const PASSWORD: &str = "correct horse battery";

/// Tenant `acme` with the user ann, whose refresh-token inserts are slow (PostgreSQL).
async fn ann_with_slow_rotations(client: &Client<'_>) {
    client.tenant("acme").await;
    let user = json!({ "username": "ann", "email": "ann@example.com", "password": PASSWORD });
    assert_eq!(client.post("/admin/tenants/acme/users", &user).await.status, StatusCode::CREATED);
    support::delay_inserts(client.rt.db(), "refresh_tokens").await;
}

/// A new sign-in of ann through the account API.
async fn sign_in(client: &Client<'_>) -> support::Reply {
    let login = json!({ "username": "ann", "password": PASSWORD });
    let signed_in = client.json(Method::POST, "/acme/auth/login", Some(&login), Auth::None).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.json);
    signed_in
}

async fn refresh(client: &Client<'_>, token: &str) -> support::Reply {
    client.json(Method::POST, "/acme/auth/refresh", Some(&json!({ "refresh_token": token })), Auth::None).await
}

#[actix_web::test]
async fn a_refresh_token_reused_during_its_rotation_ends_the_whole_sign_in() {
    each_backend(async |client: &Client<'_>| {
        ann_with_slow_rotations(client).await;
        for round in 0..3 {
            let signed_in = sign_in(client).await;
            let token = signed_in.str("refresh_token");

            let (first, second) = futures_util::future::join(refresh(client, &token), refresh(client, &token)).await;
            let mut statuses = [first.status, second.status];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST], "[{}] round {round}", client.backend);
            let winner = if first.status == StatusCode::OK { first } else { second };
            let successor = winner.str("refresh_token");
            let after = refresh(client, &successor).await;
            assert_eq!(
                after.status,
                StatusCode::BAD_REQUEST,
                "[{}] round {round}: the token issued in the race outlived the revocation: {}",
                client.backend,
                after.json
            );
        }
    })
    .await;
}

#[actix_web::test]
async fn a_sign_in_ended_during_its_rotation_takes_the_successor_with_it() {
    each_backend(async |client: &Client<'_>| {
        ann_with_slow_rotations(client).await;
        for round in 0..3 {
            let signed_in = sign_in(client).await;
            let (token, access) = (signed_in.str("refresh_token"), signed_in.str("access_token"));

            // The logout starts while the rotation waits in the delayed insert of its successor.
            let logout = async {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
                client.json(Method::POST, "/acme/auth/logout", None, Auth::Bearer(&access)).await
            };
            let (rotated, ended) = futures_util::future::join(refresh(client, &token), logout).await;
            assert_eq!(ended.status, StatusCode::NO_CONTENT, "[{}] round {round}: {}", client.backend, ended.json);
            assert_eq!(rotated.status, StatusCode::OK, "[{}] round {round}: {}", client.backend, rotated.json);
            let after = refresh(client, &rotated.str("refresh_token")).await;
            assert_eq!(
                after.status,
                StatusCode::BAD_REQUEST,
                "[{}] round {round}: the token issued during the logout outlived it: {}",
                client.backend,
                after.json
            );
        }
    })
    .await;
}
