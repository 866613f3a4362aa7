//! Searches: mission summaries matching status and region, in id order,
//! keyset-paginated, with the total count, both read in one snapshot.
//!
//! They run on the [`Readers`](super::reader::Readers)' rusqlite
//! connections on the request's own thread, like mission reads, rather
//! than through sqlx's driver thread: the page's rows are decoded straight
//! into summaries, and every request still runs both statements against
//! the file. Under `missing-index` (full scans, slow on purpose) they run
//! on tokio's blocking pool, so that they slow their route and not every
//! request on the same worker thread.

use std::sync::Arc;
use std::time::Instant;

use rusqlite::Connection;
use seed_data::MissionSummary;

use super::reader::snapshot;
use super::rows::{self, mission_columns};
use super::{QueryPlan, SearchPage, SearchQuery, Store, ACQUIRE_TIMEOUT};
use crate::error::Error;
use crate::truth;

/// A search's two statements and their parameters.
#[derive(Debug, Clone)]
pub(super) struct SearchSql {
    page: String,
    count: String,
    /// `?1` the id to start after, then status and region when filtered.
    after: i64,
    filters: Vec<&'static str>,
    /// Rows to fetch: the page and one more (to know if another follows).
    fetch: i64,
}

impl SearchSql {
    fn new(query: &SearchQuery, plan: QueryPlan) -> Self {
        let mut filters = Vec::new();
        let mut clauses = String::new();
        if let Some(status) = query.status {
            filters.push(status.as_str());
            clauses.push_str(&format!(" AND status = ?{}", filters.len() + 1));
        }
        if let Some(region) = query.region {
            filters.push(region.as_str());
            clauses.push_str(&format!(" AND region = ?{}", filters.len() + 1));
        }
        let indexed = plan.indexed();
        SearchSql {
            page: format!(
                "SELECT {} FROM missions{indexed} WHERE id > ?1{clauses} ORDER BY id LIMIT {}",
                mission_columns!(),
                i64::from(query.limit) + 1
            ),
            // `?1 >= 0` keeps the parameter numbering the same in both.
            count: format!("SELECT COUNT(*) FROM missions{indexed} WHERE ?1 >= 0{clauses}"),
            after: query.after.map_or(0, |id| i64::from(id.number())),
            filters,
            fetch: i64::from(query.limit) + 1,
        }
    }

    /// Both statements in one snapshot: the page's rows and the total.
    fn run(&self, conn: &Connection) -> Result<(Vec<MissionSummary>, u64), Error> {
        snapshot(conn, |conn| {
            let mut params: Vec<&dyn rusqlite::ToSql> = vec![&self.after];
            params.extend(self.filters.iter().map(|f| f as &dyn rusqlite::ToSql));
            let mut stmt = conn.prepare_cached(&self.page)?;
            let mut rows = stmt.query(params.as_slice())?;
            let mut missions = Vec::with_capacity(self.fetch as usize);
            while let Some(row) = rows.next()? {
                missions.push(rows::summary(row)?);
            }
            drop(rows);
            let mut count = conn.prepare_cached(&self.count)?;
            let total: i64 = count.query_row(params.as_slice(), |r| r.get(0))?;
            Ok((missions, total.max(0) as u64))
        })
    }
}

impl Store {
    /// Mission summaries matching the filters, in id order, one page, and
    /// how many match in all.
    pub async fn search(&self, query: &SearchQuery, plan: QueryPlan) -> Result<SearchPage, Error> {
        let sql = SearchSql::new(query, plan);
        let start = Instant::now();
        let (mut missions, total) = if plan.missing_index {
            Arc::clone(&self.readers)
                .slow(ACQUIRE_TIMEOUT, move |conn| sql.run(conn))
                .await?
        } else {
            self.readers.with(|conn| sql.run(conn))?
        };
        truth::count_queries(2, start.elapsed());
        let next = if missions.len() > query.limit as usize {
            missions.truncate(query.limit as usize);
            missions.last().map(|m| m.id)
        } else {
            None
        };
        Ok(SearchPage {
            missions,
            next,
            total,
        })
    }
}
