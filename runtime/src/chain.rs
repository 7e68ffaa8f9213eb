//! Chained writes: a few data-modifying statements run as one write of their own
//! ([`Runtime::execute_write`](crate::Runtime::execute_write)), each part after the first done
//! only if the part before it changed a row. A claim and what it pays for (a refresh-token
//! rotation: claim the token, insert its successor; a code redemption: claim the code, insert the
//! grant and the refresh token) thereby take one round trip to the database, all or nothing.
//!
//! - PostgreSQL: one statement. Every part but the last is a data-modifying `WITH` (`stepN AS
//!   (<part> RETURNING 1)`); each part after the first also requires `EXISTS (SELECT 1 FROM
//!   step<N-1>)`. Foreign keys are checked when the statement ends, so a part may refer to a row a
//!   later part inserts. No two parts may change the same row (PostgreSQL would keep only one of
//!   the changes).
//! - SQLite, which has no data-modifying `WITH`: the parts in order, `a; b; c`, each after the
//!   first also requiring `changes() = 1` (the row count of the connection's last completed
//!   `INSERT`, `UPDATE` or `DELETE`; while a statement runs, the one before it). Foreign keys are
//!   checked statement by statement, so a row must be inserted before a part refers to it.
//!
//! What the write reports is how many rows its last part changed.

use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, Query, ReturningClause, SelectStatement, SimpleExpr,
    UpdateStatement, WithClause,
};
use std::sync::Arc;

use sea_orm::{DbBackend, DbErr, Statement, Value};

use crate::crud::{self, Resource};
use crate::error::ApiError;
use crate::invalidation::Change;
use crate::sql_cache::{Memo, Shape};

/// A chain being built; [`Chain::write`] makes it a [`Write`].
pub struct Chain {
    backend: DbBackend,
    parts: Vec<Part>,
    changes: Vec<Change>,
    failed: fn(DbErr) -> ApiError,
}

enum Part {
    Update(UpdateStatement),
    /// The insert without its source, and the `SELECT` of its values.
    Insert(InsertStatement, Box<SelectStatement>),
}

/// A write ready to run: its SQL, what it makes stale once committed, and how its failure is told.
pub struct Write {
    pub(crate) statement: Statement,
    pub(crate) changes: Vec<Change>,
    pub(crate) failed: fn(DbErr) -> ApiError,
}

impl Chain {
    /// An empty chain for `backend`, whose failure is told by `E`'s rules ([`crud::write_error`]:
    /// a conflict names `E`'s fields).
    pub fn new<E: Resource>(backend: DbBackend) -> Self {
        Self { backend, parts: Vec::new(), changes: Vec::new(), failed: crud::write_error::<E> }
    }

    /// Adds `step`, an `UPDATE` of rows of `E`; as a condition for the next part it should
    /// address one row by its key (a claim: `… WHERE id = ? AND used_at IS NULL`).
    pub fn update<E: Resource>(mut self, step: UpdateStatement) -> Self {
        self.parts.push(Part::Update(step));
        self.changes.extend(Change::of::<E>());
        self
    }

    /// Adds the insert of `row`, a row of `E`, done only if `only_if` (a sub-select) finds a row,
    /// besides the condition on the part before it. The row is checked against `E`'s declared
    /// constraints here; an entity with `unique_across` fields is refused (its check reads other
    /// tables, which needs a transaction).
    pub fn insert<E: Resource>(
        mut self,
        row: impl Into<E::ActiveModel>,
        only_if: Option<SelectStatement>,
    ) -> Result<Self, ApiError> {
        let row = row.into();
        crud::check_declared::<E>(&row)?;
        if !E::UNIQUE_ACROSS.is_empty() {
            return Err(ApiError::internal(format!(
                "{} has unique_across fields: insert it in a transaction",
                E::NAME
            )));
        }
        let (columns, values) = row_values::<E>(&row);
        let mut select = Query::select();
        select.exprs(values.into_iter().map(Expr::value));
        if let Some(only_if) = only_if {
            select.and_where(Expr::exists(only_if));
        }
        let mut insert = Query::insert();
        insert.into_table(E::default()).columns(columns);
        self.parts.push(Part::Insert(insert, Box::new(select)));
        self.changes.extend(Change::of::<E>());
        Ok(self)
    }

    /// The chain as one write for [`Runtime::execute_write`](crate::Runtime::execute_write).
    pub fn write(self) -> Result<Write, ApiError> {
        let Self { backend, parts, mut changes, failed } = self;
        if parts.is_empty() {
            return Err(ApiError::internal("a chained write of no parts"));
        }
        changes.dedup();
        let statement = match backend {
            DbBackend::Postgres => postgres(parts)?,
            _ => sqlite(backend, parts)?,
        };
        Ok(Write { statement, changes, failed })
    }
}

/// A chain's SQL and what its write makes stale, kept per [`Shape`].
struct Kept {
    sql: Arc<str>,
    changes: Vec<Change>,
    failed: fn(DbErr) -> ApiError,
}

static KEPT: Memo<Kept> = Memo::new();

impl Chain {
    /// The write of the chain `build` makes on `backend`, its SQL kept under `shape` once built
    /// ([`crate::sql_cache`]): later calls bind `values` to the kept SQL without building the
    /// chain. `values` must be the statement's parameters in order; the first build checks them
    /// (the SQL is not kept otherwise), and debug builds (the tests) build and compare every
    /// call. `shape` must name everything the SQL depends on besides the values. A kept write
    /// does not run `build`, so what [`Chain::insert`] checks of a row (its declared
    /// constraints) is the caller's to check first.
    pub fn cached(
        backend: DbBackend,
        shape: Shape,
        values: Vec<Value>,
        build: impl FnOnce() -> Result<Chain, ApiError>,
    ) -> Result<Write, ApiError> {
        let kept = KEPT.with(&shape, |kept| (Arc::clone(&kept.sql), kept.changes.clone(), kept.failed));
        if let Some((sql, changes, failed)) = kept {
            let write = Write { statement: Statement::from_sql_and_values(backend, &*sql, values), changes, failed };
            #[cfg(debug_assertions)]
            {
                let built = build()?.write()?.statement;
                let kept = (&write.statement.sql, &write.statement.values);
                assert_eq!((&built.sql, &built.values), kept, "a kept chain differs from a fresh build ({shape:?})");
            }
            return Ok(write);
        }
        let write = build()?.write()?;
        let matches = write.statement.values.as_ref().is_some_and(|built| built.0 == values);
        debug_assert!(
            matches,
            "the values given for {shape:?} are not the statement's: {values:?}, {:?}",
            write.statement
        );
        if matches {
            let kept =
                Kept { sql: write.statement.sql.as_str().into(), changes: write.changes.clone(), failed: write.failed };
            KEPT.keep(shape, kept);
        }
        Ok(write)
    }
}

/// The values `row` sets, in column order, with their columns.
pub fn row_values<E: Resource>(row: &E::ActiveModel) -> (Vec<E::Column>, Vec<Value>) {
    use sea_orm::{ActiveModelTrait, ActiveValue, Iterable};
    E::Column::iter()
        .filter_map(|column| match row.get(column) {
            ActiveValue::Set(value) | ActiveValue::Unchanged(value) => Some((column, value)),
            ActiveValue::NotSet => None,
        })
        .unzip()
}

/// Which of `E`'s columns `row` sets, as bits of their positions: what an insert's SQL depends
/// on, for a [`Shape`]'s variant (`None` for an entity of more than 64 columns).
pub fn set_columns<E: Resource>(row: &E::ActiveModel) -> Option<u64> {
    use sea_orm::{ActiveModelTrait, Iterable};
    E::Column::iter().enumerate().try_fold(0u64, |bits, (n, column)| {
        let set = u64::from(!row.is_not_set(column));
        (n < 64).then(|| bits | set << n)
    })
}

/// `WITH step0 AS (<a> RETURNING 1), step1 AS (<b> AND EXISTS (SELECT 1 FROM step0) RETURNING 1)
/// <c> AND EXISTS (SELECT 1 FROM step1)`.
fn postgres(mut parts: Vec<Part>) -> Result<Statement, ApiError> {
    let step = |n: usize| Alias::new(format!("step{n}"));
    let after = |n: usize| Expr::exists(Query::select().expr(Expr::value(1)).from(step(n)).to_owned());
    let Some(mut last) = parts.pop() else { return Err(ApiError::internal("a chained write of no parts")) };
    if parts.is_empty() {
        return last.build(DbBackend::Postgres, None);
    }
    let mut with = WithClause::new();
    let before = parts.len();
    for (n, mut part) in parts.into_iter().enumerate() {
        if n > 0 {
            part.require(after(n - 1));
        }
        let query = part.returning(Query::returning().expr(Expr::value(1)))?;
        with.cte(CommonTableExpression::new().query(query).table_name(step(n)).to_owned());
    }
    last.require(after(before - 1));
    last.build(DbBackend::Postgres, Some(with))
}

/// `<a>; <b> AND changes() = 1; <c> AND changes() = 1`.
fn sqlite(backend: DbBackend, parts: Vec<Part>) -> Result<Statement, ApiError> {
    let mut sql = Vec::with_capacity(parts.len());
    let mut values = Vec::new();
    for (n, mut part) in parts.into_iter().enumerate() {
        if n > 0 {
            part.require(Expr::cust("changes() = 1"));
        }
        let built = part.build(backend, None)?;
        sql.push(built.sql);
        values.extend(built.values.into_iter().flat_map(|values| values.0));
    }
    Ok(Statement::from_sql_and_values(backend, sql.join("; "), values))
}

impl Part {
    /// Adds `condition` to the part's `WHERE`.
    fn require(&mut self, condition: SimpleExpr) {
        match self {
            Part::Update(update) => {
                update.and_where(condition);
            }
            Part::Insert(_, select) => {
                select.and_where(condition);
            }
        }
    }

    /// The part with a `RETURNING` clause, as a sub-query.
    fn returning(self, clause: ReturningClause) -> Result<sea_orm::sea_query::SubQueryStatement, ApiError> {
        Ok(match self {
            Part::Update(mut update) => update.returning(clause).to_owned().into(),
            Part::Insert(mut insert, select) => {
                insert.select_from(*select).map_err(ApiError::internal)?;
                insert.returning(clause).to_owned().into()
            }
        })
    }

    /// The part as a statement of its own, after `with` if given.
    fn build(self, backend: DbBackend, with: Option<WithClause>) -> Result<Statement, ApiError> {
        Ok(match self {
            Part::Update(mut update) => {
                if let Some(with) = with {
                    update.with_cte(with);
                }
                backend.build(&update)
            }
            Part::Insert(mut insert, select) => {
                insert.select_from(*select).map_err(ApiError::internal)?;
                if let Some(with) = with {
                    insert.with_cte(with);
                }
                backend.build(&insert)
            }
        })
    }
}
