//! Reads of one row by a key column (the primary key, or a field unique across the table), with
//! each statement's SQL built once per entity, column and backend ([`crate::sql_cache`]).
//!
//! The SQL of such a read differs from one call to the next only in the key's value, so the
//! first call builds it as sea-query does and keeps the text with the values bound after the
//! key's (the `LIMIT`); later calls bind the new key in front of those. The cache only keeps
//! what it checked: a statement whose first value is not the key (a sea-query change rendering
//! the parameters in another order) is never kept, and every call then builds its own.

use std::sync::Arc;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic, QueryFilter, QuerySelect, QueryTrait,
    Statement, Value,
};

use crate::sql_cache::{Memo, Shape};

/// A read's SQL and the values bound after the key's.
struct Built {
    sql: Arc<str>,
    rest: Vec<Value>,
}

static READS: Memo<Built> = Memo::new();

/// The row of `E` whose `column` equals `key`, if any. `column` must be the primary key or a
/// field unique across the whole table (at most one row matches); the caller checks the row's
/// tenant. A database error is returned as is. A NULL `key` reads as sea-query's `IS NULL`.
pub async fn one<E>(db: &impl ConnectionTrait, column: E::Column, key: Value) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
{
    let statement = statement::<E>(db.get_database_backend(), column, key);
    E::find().from_raw_sql(statement).one(db).await
}

/// The statement reading `E`'s row whose `column` equals `key`, from the cache when its shape
/// was built before.
fn statement<E: EntityTrait>(backend: DbBackend, column: E::Column, key: Value) -> Statement {
    let shape = Shape::new::<E>(column.as_str(), backend, 0);
    // A NULL key is `IS NULL` in sea-query's SQL, not `= ?`: not this shape.
    let null = key == key.as_null();
    if !null {
        let cached = READS.with(&shape, |built| {
            let values = std::iter::once(key.clone()).chain(built.rest.iter().cloned());
            Statement::from_sql_and_values(backend, &*built.sql, values)
        });
        if let Some(statement) = cached {
            return statement;
        }
    }
    let statement = E::find().filter(column.eq(key.clone())).limit(1).build(backend);
    if !null
        && let Some(values) = &statement.values
        && values.0.first() == Some(&key)
    {
        READS.keep(shape, Built { sql: statement.sql.as_str().into(), rest: values.0[1..].to_vec() });
    }
    statement
}

#[cfg(test)]
mod tests {
    use sea_orm::Schema;

    use super::*;

    mod thing {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "things")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            #[sea_orm(unique)]
            pub digest: String,
            pub name: String,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }
    use thing::{Column, Entity};

    /// A read built from the cache is the statement sea-query builds, on both backends, for a
    /// primary key and for a unique field.
    #[test]
    fn a_cached_read_is_the_statement_sea_query_builds() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for (column, key) in
                [(Column::Id, Value::from(uuid::Uuid::new_v4())), (Column::Digest, Value::from("digest".to_owned()))]
            {
                let first = statement::<Entity>(backend, column, Value::from(uuid::Uuid::nil()));
                assert!(first.values.is_some_and(|values| values.0.len() == 2));
                assert!(READS.holds(&Shape::new::<Entity>(column.as_str(), backend, 0)));
                let cached = statement::<Entity>(backend, column, key.clone());
                let built = Entity::find().filter(column.eq(key)).limit(1).build(backend);
                assert_eq!((cached.sql, cached.values), (built.sql, built.values), "{backend:?} {}", column.as_str());
            }
        }
    }

    /// Reads by each key find their row, and nothing for another key, once the SQL is cached.
    #[tokio::test]
    async fn reads_by_key_find_their_row() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&format!("sqlite://{}", dir.path().join("keyed.db").display())).await.unwrap();
        let backend = db.get_database_backend();
        db.execute(&Schema::new(backend).create_table_from_entity(Entity)).await.unwrap();
        let rows: Vec<thing::Model> = (0..3)
            .map(|n| thing::Model { id: uuid::Uuid::new_v4(), digest: format!("d{n}"), name: format!("n{n}") })
            .collect();
        for row in &rows {
            Entity::insert(thing::ActiveModel::from(row.clone())).exec_without_returning(&db).await.unwrap();
        }
        for _ in 0..2 {
            for row in &rows {
                assert_eq!(one::<Entity>(&db, Column::Id, row.id.into()).await.unwrap().as_ref(), Some(row));
                assert_eq!(
                    one::<Entity>(&db, Column::Digest, row.digest.clone().into()).await.unwrap().as_ref(),
                    Some(row)
                );
            }
            assert_eq!(one::<Entity>(&db, Column::Id, uuid::Uuid::new_v4().into()).await.unwrap(), None);
            assert_eq!(one::<Entity>(&db, Column::Digest, "other".to_owned().into()).await.unwrap(), None);
        }
    }
}
