//! The statements on `herald_leases`, written once for both backends by [`lease_sql!`]; a
//! backend supplies its clock, its row lock, how a write transaction starts and how a stalled
//! transaction is cut short.

/// How many unexpired leases `$holder` holds among those whose name starts with `$group`.
macro_rules! held_in_group {
    ($holder:literal, $group:literal, $now:literal) => {
        concat!(
            "(SELECT COUNT(*) FROM herald_leases g WHERE g.holder = ",
            $holder,
            " AND substr(g.name, 1, length(",
            $group,
            ")) = ",
            $group,
            " AND g.expires_at_micros >= ",
            $now,
            ")"
        )
    };
}

/// One module of lease statements for a backend.
macro_rules! lease_sql {
    (
        $module:ident, $db:ty, $pool:ty, $connection:ty,
        now = $now:literal, lock = $lock:literal, begin = $begin:literal,
        stall_timeout = $stall:expr
    ) => {
        pub(crate) mod $module {
            use std::time::Duration;

            use sqlx::{Row, Transaction};

            use crate::lease::{Fence, LeaseError, LeaseState};
            use crate::store::StoreError;

            /// A stored non-negative number back as `u64`.
            fn unsigned(value: i64, what: &str) -> Result<u64, LeaseError> {
                u64::try_from(value).map_err(|_| {
                    LeaseError::Store(StoreError::Corrupt(format!("negative {what}: {value}")))
                })
            }

            fn signed(value: u64, what: &'static str) -> Result<i64, LeaseError> {
                i64::try_from(value).map_err(|_| {
                    LeaseError::Store(StoreError::OutOfRange {
                        what,
                        value,
                        max: i64::MAX as u64,
                    })
                })
            }

            /// The name prefix shared by the partitions of `name`'s projection
            /// (`order_summary#`), `None` for a lease that is not a partition's.
            fn group(name: &str) -> Option<&str> {
                name.rfind('#').map(|at| &name[..=at])
            }

            /// Creates checkpoint `name` at 0 unless it exists.
            pub(crate) async fn ensure_checkpoint(
                pool: &$pool,
                name: &str,
            ) -> Result<(), LeaseError> {
                sqlx::query(
                    "INSERT INTO herald_checkpoints (name, position) VALUES ($1, 0) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .execute(pool)
                .await?;
                Ok(())
            }

            /// Takes the lease if it is free or expired; its new token.
            pub(crate) async fn acquire(
                pool: &$pool,
                name: &str,
                holder: &str,
                ttl_micros: i64,
            ) -> Result<Option<u64>, LeaseError> {
                let row = sqlx::query(concat!(
                    "INSERT INTO herald_leases (name, holder, token, expires_at_micros) \
                     VALUES ($1, $2, 1, ",
                    $now,
                    " + $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                     token = herald_leases.token + 1, \
                     expires_at_micros = excluded.expires_at_micros, wanted_by = NULL \
                     WHERE herald_leases.expires_at_micros < ",
                    $now,
                    " AND (herald_leases.wanted_by IS NULL \
                     OR herald_leases.wanted_by = excluded.holder \
                     OR herald_leases.expires_at_micros < ",
                    $now,
                    " - $3) RETURNING token"
                ))
                .bind(name)
                .bind(holder)
                .bind(ttl_micros)
                .fetch_optional(pool)
                .await?;
                row.map(|row| unsigned(row.try_get("token")?, "lease token"))
                    .transpose()
            }

            /// Extends the lease if it still has the fence's token (`None` otherwise), and
            /// says whether another replica still fairly wants it: one holding at least two
            /// leases fewer of the same partitioned projection (a stale request is cleared).
            pub(crate) async fn renew(
                pool: &$pool,
                fence: &Fence,
                ttl_micros: i64,
            ) -> Result<Option<bool>, LeaseError> {
                let row = sqlx::query(concat!(
                    "UPDATE herald_leases SET expires_at_micros = ",
                    $now,
                    " + $3, wanted_by = CASE WHEN wanted_by IS NOT NULL AND ",
                    held_in_group!("herald_leases.holder", "$4", $now),
                    " > ",
                    held_in_group!("herald_leases.wanted_by", "$4", $now),
                    " + 1 THEN wanted_by ELSE NULL END \
                     WHERE name = $1 AND token = $2 RETURNING wanted_by"
                ))
                .bind(&*fence.name)
                .bind(signed(fence.token, "lease token")?)
                .bind(ttl_micros)
                .bind(group(&fence.name))
                .fetch_optional(pool)
                .await?;
                row.map(|row| Ok(row.try_get::<Option<String>, _>("wanted_by")?.is_some()))
                    .transpose()
            }

            /// Asks for lease `name` of a partitioned projection on behalf of `holder`, if
            /// its holder has at least two leases more of that projection than `holder`.
            pub(crate) async fn request(
                pool: &$pool,
                name: &str,
                holder: &str,
            ) -> Result<(), LeaseError> {
                let Some(group) = group(name) else {
                    return Ok(());
                };
                sqlx::query(concat!(
                    "UPDATE herald_leases SET wanted_by = $2 WHERE name = $1 \
                     AND wanted_by IS NULL AND holder <> $2 AND expires_at_micros >= ",
                    $now,
                    " AND ",
                    held_in_group!("herald_leases.holder", "$3", $now),
                    " > ",
                    held_in_group!("$2", "$3", $now),
                    " + 1"
                ))
                .bind(name)
                .bind(holder)
                .bind(Some(group))
                .execute(pool)
                .await?;
                Ok(())
            }

            /// Expires the lease now if it still has the fence's token.
            pub(crate) async fn release(pool: &$pool, fence: &Fence) -> Result<(), LeaseError> {
                sqlx::query(concat!(
                    "UPDATE herald_leases SET expires_at_micros = CASE WHEN wanted_by IS NULL \
                     THEN 0 ELSE ",
                    $now,
                    " END WHERE name = $1 AND token = $2"
                ))
                .bind(&*fence.name)
                .bind(signed(fence.token, "lease token")?)
                .execute(pool)
                .await?;
                Ok(())
            }

            /// Cuts the current transaction short if it stays idle longer than `ttl`.
            pub(crate) async fn guard(
                connection: &mut $connection,
                ttl: Duration,
            ) -> Result<(), LeaseError> {
                let stall: Option<&str> = $stall;
                if let Some(statement) = stall {
                    sqlx::query(statement)
                        .bind(ttl.as_millis().max(1).to_string())
                        .execute(&mut *connection)
                        .await?;
                }
                Ok(())
            }

            /// Inside a write transaction: locks the lease row and checks its token.
            pub(crate) async fn check(
                connection: &mut $connection,
                fence: &Fence,
            ) -> Result<(), LeaseError> {
                let row = sqlx::query(concat!(
                    "SELECT token FROM herald_leases WHERE name = $1 ",
                    $lock
                ))
                .bind(&*fence.name)
                .fetch_optional(&mut *connection)
                .await?;
                let token = row
                    .map(|row| unsigned(row.try_get("token")?, "lease token"))
                    .transpose()?;
                if token == Some(fence.token) {
                    Ok(())
                } else {
                    Err(fence.lost())
                }
            }

            /// Writes the fence's checkpoint if its lease still has the fence's token.
            pub(crate) async fn save_checkpoint(
                pool: &$pool,
                fence: &Fence,
                position: u64,
                ttl_micros: i64,
            ) -> Result<(), LeaseError> {
                let mut tx: Transaction<'static, $db> = pool.begin_with($begin).await?;
                guard(
                    &mut tx,
                    Duration::from_micros(u64::try_from(ttl_micros).unwrap_or(0)),
                )
                .await?;
                check(&mut tx, fence).await?;
                sqlx::query(
                    "INSERT INTO herald_checkpoints (name, position) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                )
                .bind(&*fence.name)
                .bind(signed(position, "checkpoint position")?)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            /// Every lease, by name.
            pub(crate) async fn states(pool: &$pool) -> Result<Vec<LeaseState>, LeaseError> {
                let rows = sqlx::query(concat!(
                    "SELECT name, holder, token, expires_at_micros - ",
                    $now,
                    " AS remaining FROM herald_leases ORDER BY name"
                ))
                .fetch_all(pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let remaining: i64 = row.try_get("remaining")?;
                        Ok(LeaseState {
                            name: row.try_get("name")?,
                            holder: row.try_get("holder")?,
                            token: unsigned(row.try_get("token")?, "lease token")?,
                            expires_in: u64::try_from(remaining)
                                .ok()
                                .filter(|micros| *micros > 0)
                                .map(Duration::from_micros),
                        })
                    })
                    .collect()
            }

            /// Every checkpoint, by name.
            pub(crate) async fn checkpoints(
                pool: &$pool,
            ) -> Result<Vec<(String, u64)>, LeaseError> {
                let rows =
                    sqlx::query("SELECT name, position FROM herald_checkpoints ORDER BY name")
                        .fetch_all(pool)
                        .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            row.try_get("name")?,
                            unsigned(row.try_get("position")?, "checkpoint")?,
                        ))
                    })
                    .collect()
            }
        }
    };
}

// Microseconds on the clock of the machine holding the file; no row lock needed, as a
// `BEGIN IMMEDIATE` transaction is the only writer; nothing cuts a stalled writer short.
#[cfg(feature = "sqlite")]
lease_sql!(
    sqlite,
    sqlx::Sqlite,
    sqlx::SqlitePool,
    sqlx::SqliteConnection,
    now = "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)",
    lock = "",
    begin = "BEGIN IMMEDIATE",
    stall_timeout = None
);

// Microseconds on the server's clock; `FOR SHARE` makes a takeover (which updates the row)
// wait for the fenced transaction, and the fenced transaction re-read a token changed
// meanwhile. A transaction left idle past the TTL loses its session and its locks.
#[cfg(feature = "postgres")]
lease_sql!(
    postgres,
    sqlx::Postgres,
    sqlx::PgPool,
    sqlx::PgConnection,
    now = "CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS BIGINT)",
    lock = "FOR SHARE",
    begin = "BEGIN",
    stall_timeout =
        Some("SELECT set_config('idle_in_transaction_session_timeout', $1, true)::TEXT")
);
