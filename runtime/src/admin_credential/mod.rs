//! The bootstrap admin credential that guards the admin API.
//!
//! On first start, unless `KEYGATE_ADMIN_TOKEN` is set, Keygate generates a token, prints it once
//! and stores only its SHA-256 digest. Requests present it as `Authorization: Bearer <token>`
//! (RFC 6750 §2.1); digests are compared in constant time.

pub mod credential;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use sea_orm::{ActiveModelTrait, ActiveValue, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};
use subtle::ConstantTimeEq;

use crate::authorization::Authorization;
use crate::error::ApiError;
use crate::secret;
use crate::state::Runtime;

/// `WWW-Authenticate` challenge of the admin API.
const CHALLENGE: &str = "Bearer realm=\"keygate-admin\"";

/// Digests of the tokens that unlock the admin API.
#[derive(Debug, Clone, Default)]
pub struct AdminCredentials {
    digests: Vec<String>,
}

impl AdminCredentials {
    /// Credentials from known digests.
    pub fn from_digests(digests: Vec<String>) -> Self {
        Self { digests }
    }

    /// Whether `token` is one of them. Every digest is compared, in constant time.
    pub fn verify(&self, token: &str) -> bool {
        let presented = secret::digest(token);
        self.digests
            .iter()
            .fold(subtle::Choice::from(0), |found, stored| found | presented.as_bytes().ct_eq(stored.as_bytes()))
            .into()
    }
}

/// What `bootstrap` did.
pub struct Bootstrap {
    /// Credentials to serve with.
    pub credentials: AdminCredentials,
    /// A token generated now, to print once; `None` when one already existed or was configured.
    pub new_token: Option<String>,
}

/// Loads the stored admin credentials, adds `configured` (from the environment) if given, and
/// generates and stores a first token when there is none at all.
pub async fn bootstrap(db: &impl ConnectionTrait, configured: Option<&str>) -> Result<Bootstrap, DbErr> {
    let mut digests: Vec<String> = credential::Entity::find().all(db).await?.into_iter().map(|c| c.digest).collect();
    let mut new_token = None;
    if let Some(token) = configured {
        digests.push(secret::digest(token));
    } else if credential::Entity::find().count(db).await? == 0 {
        let token = create_token(db).await?;
        digests.push(secret::digest(&token));
        new_token = Some(token);
    }
    Ok(Bootstrap { credentials: AdminCredentials::from_digests(digests), new_token })
}

/// Creates another admin token, stores its digest and returns the token (shown once). Takes effect
/// on the next start of the server.
pub async fn create_token(db: &impl ConnectionTrait) -> Result<String, DbErr> {
    let token = secret::random_token("kga_", 32);
    let row = credential::ActiveModel {
        id: ActiveValue::Set(uuid::Uuid::new_v4()),
        digest: ActiveValue::Set(secret::digest(&token)),
        created_at: ActiveValue::Set(crate::now()),
    };
    row.insert(db).await?;
    Ok(token)
}

/// Extractor: the request carries the admin credential. Rejects with 401 and a challenge.
pub struct Admin;

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Admin::check(req))
    }
}

impl Admin {
    /// Whether the request carries the admin credential: 401 with a `Bearer` challenge if not.
    /// Endpoint routes call this themselves, so their family writes the refusal.
    pub fn check(req: &HttpRequest) -> Result<Admin, ApiError> {
        check_admin(req)
    }
}

fn check_admin(req: &HttpRequest) -> Result<Admin, ApiError> {
    let runtime = req
        .app_data::<web::Data<Runtime>>()
        .ok_or_else(|| ApiError::internal("the runtime is not registered as app data"))?;
    let token = match Authorization::of(req) {
        Ok(None) => return Err(ApiError::credentials_required("this route needs the admin credential", CHALLENGE)),
        Ok(Some(Authorization::Bearer(token))) => token,
        Ok(Some(_)) | Err(_) => {
            return Err(ApiError::unauthorized(
                "use `Authorization: Bearer <admin token>`",
                &format!("{CHALLENGE}, error=\"invalid_request\""),
            ));
        }
    };
    if runtime.admin().verify(&token) {
        Ok(Admin)
    } else {
        Err(ApiError::unauthorized(
            "the admin credential is not valid",
            &format!("{CHALLENGE}, error=\"invalid_token\""),
        ))
    }
}
