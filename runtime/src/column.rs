//! Typed column handles: how protocol code names the columns it filters, sorts, claims and sets.
//!
//! A [`Col<E, T>`] is a column of entity `E` whose values are `T` (`Option<T>` for a nullable
//! column), so comparing a `uuid` column with a string, or setting a timestamp column to a bool,
//! is a compile error rather than a query that fails at run time. Handles are associated
//! constants of the `…Columns` traits in [`crate::roles`]; the generator implements those traits
//! on the entity bound to each role, after checking that every handle names a stored field of
//! that type and nullability (a located `role-binding` error in `schema.yaml` otherwise).
//!
//! ```ignore
//! let code = crud::find_where(db, tenant, R::AuthCode::CODE_DIGEST, digest).await?;
//! crud::claim(db, tenant, id, R::AuthCode::USED_AT, [R::AuthCode::USED_AT.set(Some(now))]).await?;
//! ```

use std::fmt;
use std::marker::PhantomData;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Value};

/// The column `E::Column` of entity `E`, holding values of type `T`.
pub struct Col<E: EntityTrait, T> {
    column: E::Column,
    value: PhantomData<fn() -> T>,
}

impl<E: EntityTrait, T> Col<E, T> {
    /// The handle of `column`; generated code makes one per role column, after checking that
    /// `T` is the column's type.
    pub const fn new(column: E::Column) -> Self {
        Self { column, value: PhantomData }
    }

    /// The untyped sea-orm column, for queries the typed helpers do not cover (ordering).
    pub fn column(&self) -> E::Column {
        self.column
    }

    /// The column's name in the schema (`code_digest`).
    pub fn name(&self) -> &'static str {
        self.column.as_str()
    }
}

impl<E: EntityTrait, T: Into<Value>> Col<E, T> {
    /// `column = value`; for a nullable column, `None` means `IS NULL`. `value` is anything
    /// that becomes a `T` (`&str` for a `String` column, `Uuid` for an `Option<Uuid>` one).
    pub fn eq(&self, value: impl Into<T>) -> Expr {
        self.column.eq(value.into())
    }

    /// `column < value`; a NULL never compares less.
    pub fn lt(&self, value: impl Into<T>) -> Expr {
        self.column.lt(value.into())
    }

    /// `column IN (values…)`.
    pub fn is_in(&self, values: impl IntoIterator<Item = T>) -> Expr {
        self.column.is_in(values)
    }

    /// The assignment `column = value`, for [`crate::crud::set`] and [`crate::crud::claim`].
    pub fn set(&self, value: impl Into<T>) -> Assign<E> {
        Assign { column: self.column, value: value.into().into() }
    }
}

impl<E: EntityTrait, T> Col<E, Option<T>> {
    /// `column IS NULL`.
    pub fn is_null(&self) -> Expr {
        self.column.is_null()
    }
}

impl<E: EntityTrait, T> Clone for Col<E, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E: EntityTrait, T> Copy for Col<E, T> {}

impl<E: EntityTrait, T> fmt::Debug for Col<E, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Col({}.{})", E::default().as_str(), self.name())
    }
}

/// A value for one column of `E`, made by [`Col::set`] (so it has the column's type).
pub struct Assign<E: EntityTrait> {
    pub(crate) column: E::Column,
    pub(crate) value: Value,
}

impl<E: EntityTrait> fmt::Debug for Assign<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {:?}", self.column.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::entity::prelude::*;
    use sea_orm::{DbBackend, QueryTrait};

    use super::Col;

    mod thing {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "things")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub digest: String,
            #[sea_orm(nullable)]
            pub used_at: Option<DateTimeUtc>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    const DIGEST: Col<thing::Entity, String> = Col::new(thing::Column::Digest);
    const USED_AT: Col<thing::Entity, Option<DateTimeUtc>> = Col::new(thing::Column::UsedAt);

    #[test]
    fn handles_build_the_same_sql_as_the_columns() {
        let sql = thing::Entity::find()
            .filter(DIGEST.eq("abc"))
            .filter(USED_AT.is_null())
            .build(DbBackend::Postgres)
            .to_string();
        assert!(sql.ends_with(r#"WHERE "things"."digest" = 'abc' AND "things"."used_at" IS NULL"#), "{sql}");
        assert_eq!(DIGEST.name(), "digest");
        assert_eq!(format!("{USED_AT:?}"), "Col(things.used_at)");
    }

    #[test]
    fn none_compares_as_null_and_assignments_carry_their_column() {
        let sql = thing::Entity::find().filter(USED_AT.eq(None)).build(DbBackend::Sqlite).to_string();
        assert!(sql.ends_with(r#"WHERE "things"."used_at" IS NULL"#), "{sql}");
        let assign = USED_AT.set(None);
        assert_eq!(assign.column.as_str(), "used_at");
        assert_eq!(assign.value, sea_orm::Value::ChronoDateTimeUtc(None));
        let now = crate::now();
        let set = USED_AT.set(now);
        assert_eq!(set.value, sea_orm::Value::from(Some(now)), "a value is wrapped for a nullable column");
    }

    /// Protocol code reaches columns through handles only. Name → column parsing stays in the
    /// generic layer: list query parameters (`crud::list`) and the generated `UNIQUE_ACROSS` names.
    #[test]
    fn protocol_code_parses_no_column_names() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                    continue;
                }
                let generic = ["crud.rs", "unique_across.rs", "column.rs"];
                if generic.iter().any(|name| path.ends_with(name)) || path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for (number, line) in source.lines().enumerate() {
                    if line.contains("Column::from_str") || line.contains("Column as std::str::FromStr") {
                        found.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut found);
        assert!(found.is_empty(), "use a `{{Role}}Columns` handle instead:\n{}", found.join("\n"));
    }
}
