//! The statements on `herald_leases` and on the checkpoints the leases fence. The backend
//! supplies its clock ([`SqlBackend::NOW_MICROS`]), the row lock of a fenced read
//! ([`SqlBackend::LOCK_FOR_SHARE`]), how a write transaction starts and how a stalled one is
//! cut short ([`SqlBackend::STALL_TIMEOUT`]).
//!
//! SQLite: microseconds on the clock of the machine holding the file; no row lock, as a
//! `BEGIN IMMEDIATE` transaction is the only writer; nothing cuts a stalled writer short.
//! PostgreSQL: microseconds on the server's clock; `FOR SHARE` makes a takeover (which
//! updates the row) wait for the fenced transaction, and the fenced transaction re-read a
//! token changed meanwhile; a transaction left idle past the TTL loses its session and its
//! locks.

use std::marker::PhantomData;
use std::time::Duration;

use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use uuid::Uuid;

use crate::lease::{Fence, LeaseError, LeaseState};
use crate::sql::SqlBackend;
use crate::sql::checkpoints::CheckpointTable;
use crate::store::numbers::{from_i64, to_i64};

/// The statements on leases in database `DB`.
pub(crate) struct LeaseTable<DB>(PhantomData<DB>);

/// The name prefix shared by the partitions of `name`'s projection (`order_summary#`),
/// `None` for a lease that is not a partition's.
fn group(name: &str) -> Option<&str> {
    name.rfind('#').map(|at| &name[..=at])
}

/// How many unexpired leases `holder` holds among those whose name starts with `group`
/// (both SQL expressions), by the clock `now`.
fn held_in_group(holder: &str, group: &str, now: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM herald_leases g WHERE g.holder = {holder} \
         AND substr(g.name, 1, length({group})) = {group} AND g.expires_at_micros >= {now})"
    )
}

impl<DB> LeaseTable<DB>
where
    DB: SqlBackend,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'a> &'a str: Encode<'a, DB> + Type<DB> + ColumnIndex<DB::Row>,
    for<'a> Option<&'a str>: Encode<'a, DB>,
    for<'a> i64: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> i32: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> Uuid: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    /// Takes the lease if it is free or expired; its new token.
    pub(crate) async fn acquire(
        pool: &Pool<DB>,
        name: &str,
        holder: &str,
        ttl_micros: i64,
    ) -> Result<Option<u64>, LeaseError> {
        let now = DB::NOW_MICROS;
        let sql = format!(
            "INSERT INTO herald_leases (name, holder, token, expires_at_micros) \
             VALUES ($1, $2, 1, {now} + $3) ON CONFLICT (name) DO UPDATE SET \
             holder = excluded.holder, token = herald_leases.token + 1, \
             expires_at_micros = excluded.expires_at_micros, wanted_by = NULL \
             WHERE herald_leases.expires_at_micros < {now} \
             AND (herald_leases.wanted_by IS NULL OR herald_leases.wanted_by = excluded.holder \
             OR herald_leases.expires_at_micros < {now} - $3) RETURNING token"
        );
        let row = sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(name)
            .bind(holder)
            .bind(ttl_micros)
            .fetch_optional(pool)
            .await?;
        let token = row
            .map(|row| from_i64(row.try_get("token")?, "lease token"))
            .transpose()?;
        if token.is_some() {
            // So that two first runs lock the same row.
            CheckpointTable::<DB>::ensure(pool, name).await?;
        }
        Ok(token)
    }

    /// Extends the lease if it still has the fence's token (`None` otherwise), and says
    /// whether another replica still fairly wants it: one holding at least two leases fewer
    /// of the same partitioned projection (a stale request is cleared).
    pub(crate) async fn renew(
        pool: &Pool<DB>,
        fence: &Fence,
        ttl_micros: i64,
    ) -> Result<Option<bool>, LeaseError> {
        let now = DB::NOW_MICROS;
        let holder_holds = held_in_group("herald_leases.holder", "$4", now);
        let wanter_holds = held_in_group("herald_leases.wanted_by", "$4", now);
        let sql = format!(
            "UPDATE herald_leases SET expires_at_micros = {now} + $3, wanted_by = CASE \
             WHEN wanted_by IS NOT NULL AND {holder_holds} > {wanter_holds} + 1 \
             THEN wanted_by ELSE NULL END WHERE name = $1 AND token = $2 RETURNING wanted_by"
        );
        let row = sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(&*fence.name)
            .bind(to_i64(fence.token, "lease token")?)
            .bind(ttl_micros)
            .bind(group(&fence.name))
            .fetch_optional(pool)
            .await?;
        row.map(|row| Ok(row.try_get::<Option<String>, _>("wanted_by")?.is_some()))
            .transpose()
    }

    /// Asks for lease `name` of a partitioned projection on behalf of `holder`, if its holder
    /// has at least two leases more of that projection than `holder`.
    pub(crate) async fn request(
        pool: &Pool<DB>,
        name: &str,
        holder: &str,
    ) -> Result<(), LeaseError> {
        let Some(group) = group(name) else {
            return Ok(());
        };
        let now = DB::NOW_MICROS;
        let holder_holds = held_in_group("herald_leases.holder", "$3", now);
        let asker_holds = held_in_group("$2", "$3", now);
        let sql = format!(
            "UPDATE herald_leases SET wanted_by = $2 WHERE name = $1 AND wanted_by IS NULL \
             AND holder <> $2 AND expires_at_micros >= {now} \
             AND {holder_holds} > {asker_holds} + 1"
        );
        sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(name)
            .bind(holder)
            .bind(group)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Expires the lease now if it still has the fence's token (at once, unless another
    /// replica asked for it: then the asker is the one let in).
    pub(crate) async fn release(pool: &Pool<DB>, fence: &Fence) -> Result<(), LeaseError> {
        let sql = format!(
            "UPDATE herald_leases SET expires_at_micros = CASE WHEN wanted_by IS NULL \
             THEN 0 ELSE {} END WHERE name = $1 AND token = $2",
            DB::NOW_MICROS
        );
        sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(&*fence.name)
            .bind(to_i64(fence.token, "lease token")?)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Cuts the current transaction short if it stays idle longer than `ttl`.
    pub(crate) async fn guard(
        connection: &mut DB::Connection,
        ttl: Duration,
    ) -> Result<(), LeaseError> {
        if let Some(statement) = DB::STALL_TIMEOUT {
            sqlx::query::<DB>(statement)
                .bind(ttl.as_millis().max(1).to_string())
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }

    /// Inside a write transaction: locks the lease row and checks its token.
    pub(crate) async fn check(
        connection: &mut DB::Connection,
        fence: &Fence,
    ) -> Result<(), LeaseError> {
        let sql = format!(
            "SELECT token FROM herald_leases WHERE name = $1 {}",
            DB::LOCK_FOR_SHARE
        );
        let row = sqlx::query::<DB>(AssertSqlSafe(sql))
            .bind(&*fence.name)
            .fetch_optional(&mut *connection)
            .await?;
        let token = row
            .map(|row| from_i64(row.try_get("token")?, "lease token"))
            .transpose()?;
        if token == Some(fence.token) {
            Ok(())
        } else {
            Err(fence.lost())
        }
    }

    /// Writes the fence's checkpoint if its lease still has the fence's token.
    pub(crate) async fn save_checkpoint(
        pool: &Pool<DB>,
        fence: &Fence,
        position: u64,
        ttl: Duration,
    ) -> Result<(), LeaseError> {
        let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
        Self::guard(&mut tx, ttl).await?;
        Self::check(&mut tx, fence).await?;
        CheckpointTable::<DB>::save(&mut *tx, &fence.name, position).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every lease, by name.
    pub(crate) async fn states(pool: &Pool<DB>) -> Result<Vec<LeaseState>, LeaseError> {
        let sql = format!(
            "SELECT name, holder, token, expires_at_micros - {} AS remaining \
             FROM herald_leases ORDER BY name",
            DB::NOW_MICROS
        );
        let rows = sqlx::query::<DB>(AssertSqlSafe(sql))
            .fetch_all(pool)
            .await?;
        rows.iter()
            .map(|row| {
                let remaining: i64 = row.try_get("remaining")?;
                Ok(LeaseState {
                    name: row.try_get("name")?,
                    holder: row.try_get("holder")?,
                    token: from_i64(row.try_get("token")?, "lease token")?,
                    expires_in: u64::try_from(remaining)
                        .ok()
                        .filter(|micros| *micros > 0)
                        .map(Duration::from_micros),
                })
            })
            .collect()
    }
}
