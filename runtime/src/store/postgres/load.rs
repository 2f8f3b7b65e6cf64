//! Aggregate loads: each waits for its group (see `group`), the group runs as one query, and
//! each load folds its own rows.

use sqlx::Row;
use sqlx::postgres::PgRow;
use tokio::sync::oneshot;

use super::PostgresStore;
use super::group::Load;
use crate::store::StoreError;
use crate::store::sql_store::Page;

impl PostgresStore {
    /// The rows of a stream's `page` (see [`Tables::fold_rows`](super::Tables::fold_rows)),
    /// its query shared with the concurrent loads of the process.
    pub(super) async fn load_rows(&self, page: Page<'_>) -> Result<Vec<PgRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        let store = self.clone();
        let load = Load {
            stream_id: page.stream_id.to_owned(),
            from: page.from,
            limit: page.limit,
            reply,
        };
        let kept = self.state.loads_connection.clone();
        self.state.loads.submit(
            load,
            move |group| {
                let store = store.clone();
                async move { store.run_loads(group).await }
            },
            move || kept.release(),
        );
        answer.await.map_err(|_| StoreError::Interrupted {
            stream_id: page.stream_id.to_owned(),
        })?
    }

    /// Runs one group of loads as one query and hands each its rows. When the query fails,
    /// each load is retried alone, so one load's error never becomes another's.
    async fn run_loads(&self, group: Vec<Load>) {
        match self.load_group(&group).await {
            Ok(rows) => {
                for (load, rows) in group.into_iter().zip(rows) {
                    let _ = load.reply.send(Ok(rows));
                }
            }
            Err(error) if group.len() == 1 => {
                if let Some(load) = group.into_iter().next() {
                    let _ = load.reply.send(Err(error.into()));
                }
            }
            Err(_) => {
                for load in group {
                    let result = self
                        .load_group(std::slice::from_ref(&load))
                        .await
                        .map(|mut rows| rows.pop().unwrap_or_default())
                        .map_err(StoreError::from);
                    let _ = load.reply.send(result);
                }
            }
        }
    }

    /// One `herald_load` call for `group` (a function, so that its plan is made once per
    /// connection): each load's rows, in group order.
    async fn load_group(&self, group: &[Load]) -> Result<Vec<Vec<PgRow>>, sqlx::Error> {
        let streams: Vec<&str> = group.iter().map(|load| load.stream_id.as_str()).collect();
        let froms: Vec<i64> = group.iter().map(|load| load.from).collect();
        let limits: Vec<i64> = group.iter().map(|load| load.limit).collect();
        let rows = sqlx::query("SELECT * FROM herald_load($1, $2, $3)")
            .bind(&streams)
            .bind(&froms)
            .bind(&limits);
        let mut connection = self.state.loads_connection.take(&self.pool).await?;
        let rows = rows.fetch_all(&mut *connection).await?;
        self.state.loads_connection.put(connection);
        let mut per_load: Vec<Vec<PgRow>> = group.iter().map(|_| Vec::new()).collect();
        for row in rows {
            let request: i32 = row.try_get(0)?;
            if let Some(rows) = usize::try_from(request)
                .ok()
                .and_then(|request| request.checked_sub(1))
                .and_then(|index| per_load.get_mut(index))
            {
                rows.push(row);
            }
        }
        Ok(per_load)
    }
}
