//! Recovery codes: a set of [`SET_SIZE`] single-use codes, shown once when made, stored as
//! SHA-256 digests. Each is 16 characters from a 32-letter alphabet without look-alikes (80
//! random bits, so a fast digest suffices, as for other server-made secrets), written
//! `XXXX-XXXX-XXXX-XXXX`; case, spaces and dashes do not matter when one is typed.
//! Making a new set deletes the old one.

use rand::RngCore;
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::crud;
use crate::error::ApiError;
use crate::roles::{NewRecoveryCode, RecoveryCode, RecoveryCodeColumns, Roles};
use crate::secret;

/// Codes in a set.
pub const SET_SIZE: usize = 10;
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const LENGTH: usize = 16;

type CodeModel<R> = <<R as Roles>::RecoveryCode as EntityTrait>::Model;

fn generate() -> String {
    let mut bytes = [0u8; LENGTH];
    rand::rng().fill_bytes(&mut bytes);
    // 256 is a multiple of 32: the low five bits of a uniform byte are uniform.
    let letters: String = bytes.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
    group(&letters)
}

fn group(letters: &str) -> String {
    let chars: Vec<char> = letters.chars().collect();
    chars.chunks(4).map(|chunk| chunk.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The canonical form of a typed code: uppercase, without spaces and dashes, regrouped.
pub fn normalize(typed: &str) -> String {
    let letters: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
    group(&letters)
}

/// Inside a write transaction: replaces the user's codes with a new set; the codes, to show once.
pub async fn replace<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, user: Uuid) -> Result<Vec<String>, ApiError> {
    crud::delete_where(db, tenant, R::RecoveryCode::USER_ID, user).await?;
    let codes: Vec<String> = (0..SET_SIZE).map(|_| generate()).collect();
    for code in &codes {
        let row = NewRecoveryCode { tenant_id: tenant, user_id: user, code_digest: secret::digest(code) };
        crud::insert_new::<R::RecoveryCode>(db, row).await?;
    }
    Ok(codes)
}

/// How many unused codes the user has.
pub async fn remaining<R: Roles>(db: &impl ConnectionTrait, tenant: Uuid, user: Uuid) -> Result<u64, ApiError> {
    // A set is ten rows: counting them here is as cheap as in SQL.
    let unused = crud::scoped_find::<R::RecoveryCode>(Some(tenant))
        .filter(R::RecoveryCode::USER_ID.eq(user))
        .filter(R::RecoveryCode::USED_AT.is_null())
        .all(db)
        .await?;
    Ok(unused.len() as u64)
}

/// The user's unused code `typed` is, if it is one.
pub async fn find<R: Roles>(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    typed: &str,
) -> Result<Option<CodeModel<R>>, ApiError> {
    let digest = secret::digest(&normalize(typed));
    let row = crud::find_where(db, tenant, R::RecoveryCode::CODE_DIGEST, digest).await?;
    Ok(row.filter(|row| row.user_id() == user && row.used_at().is_none()))
}

/// Marks code `id` used; whether this call did (of two concurrent uses, one wins).
pub async fn claim<R: Roles>(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, ApiError> {
    crud::claim(db, id, R::RecoveryCode::USED_AT, [R::RecoveryCode::USED_AT.set(crate::now())]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_typed_forms_normalize() {
        let code = generate();
        assert_eq!(code.len(), 19);
        assert_eq!(normalize(&code.to_lowercase().replace('-', " ")), code);
        assert_ne!(generate(), code);
    }
}
