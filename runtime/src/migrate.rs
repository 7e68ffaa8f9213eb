//! Bringing a database up to the schema: create what is missing, never drop or rewrite.
//!
//! Tables, columns and foreign keys come from the generated entities through sea-orm's schema
//! sync, which only adds. Indexes (including per-tenant uniqueness) are created by name with
//! `IF NOT EXISTS`, so re-running is a no-op. A new column on a table that already has rows must
//! be nullable or have a default; the database refuses anything else and the error says which.

use sea_orm::schema::SchemaBuilder;
use sea_orm::sea_query::Index;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::auth::credential;

/// An index the schema asks for.
#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    /// Index name, e.g. `ux_users_tenant_id_username`.
    pub name: &'static str,
    /// Table.
    pub table: &'static str,
    /// Columns, in order.
    pub columns: &'static [&'static str],
    /// Whether it enforces uniqueness.
    pub unique: bool,
}

/// Why a migration failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Tables or columns could not be created.
    #[error("could not bring tables up to the schema: {0}")]
    Sync(#[source] DbErr),
    /// An index could not be created (for a unique one: existing rows hold duplicates).
    #[error("could not create index `{name}` on `{table}`: {source}")]
    Index {
        /// Index name.
        name: &'static str,
        /// Table.
        table: &'static str,
        /// The database's error.
        #[source]
        source: DbErr,
    },
}

/// Creates every missing table, column, foreign key and index for `builder` plus Keygate's own
/// bookkeeping tables.
pub async fn run(db: &DatabaseConnection, builder: SchemaBuilder, indexes: &[IndexSpec]) -> Result<(), MigrateError> {
    builder.register(credential::Entity).sync(db).await.map_err(MigrateError::Sync)?;
    for spec in indexes {
        let mut statement = Index::create();
        statement.if_not_exists().name(spec.name).table(sea_orm::sea_query::Alias::new(spec.table));
        for column in spec.columns {
            statement.col(sea_orm::sea_query::Alias::new(*column));
        }
        if spec.unique {
            statement.unique();
        }
        db.execute(&statement).await.map_err(|source| MigrateError::Index {
            name: spec.name,
            table: spec.table,
            source,
        })?;
    }
    Ok(())
}
