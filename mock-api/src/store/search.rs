//! Searches: mission summaries matching status and region, in id order,
//! keyset-paginated, with the count of matches ([`CountMode`]: exact up to
//! [`COUNT_BOUND`] by default, exact however many, or none), both read in
//! one snapshot.
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
use super::StoreError;
use super::{CountMode, QueryPlan, SearchPage, SearchQuery, Store, ACQUIRE_TIMEOUT, COUNT_BOUND};
use crate::truth;

/// A search's two statements and their parameters.
#[derive(Debug, Clone)]
pub(super) struct SearchSql {
    page: String,
    /// `None`: not counted.
    count: Option<String>,
    mode: CountMode,
    /// Matches counted exactly in [`CountMode::Bounded`].
    bound: u64,
    /// `?1` the id to start after, then status and region when filtered.
    after: i64,
    filters: Vec<&'static str>,
    /// Rows to fetch: the page and one more (to know if another follows).
    fetch: i64,
}

impl SearchSql {
    fn new(query: &SearchQuery, plan: QueryPlan) -> Self {
        Self::with_bound(query, plan, COUNT_BOUND)
    }

    fn with_bound(query: &SearchQuery, plan: QueryPlan, bound: u64) -> Self {
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
            count: match query.count {
                CountMode::Exact => Some(format!(
                    "SELECT COUNT(*) FROM missions{indexed} WHERE ?1 >= 0{clauses}"
                )),
                // One past the bound tells "more than the bound" apart.
                CountMode::Bounded => Some(format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM missions{indexed} WHERE ?1 >= 0{clauses} LIMIT {})",
                    bound + 1
                )),
                CountMode::None => None,
            },
            mode: query.count,
            bound,
            after: query.after.map_or(0, |id| i64::from(id.number())),
            filters,
            fetch: i64::from(query.limit) + 1,
        }
    }

    /// Both statements in one snapshot: the page's rows and the total
    /// (and whether it is exact), as the count mode asks.
    fn run(
        &self,
        conn: &Connection,
    ) -> Result<(Vec<MissionSummary>, Option<u64>, bool), StoreError> {
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
            let Some(sql) = &self.count else {
                return Ok((missions, None, false));
            };
            let mut count = conn.prepare_cached(sql)?;
            let n = count
                .query_row(params.as_slice(), |r| r.get::<_, i64>(0))?
                .max(0) as u64;
            Ok(match self.mode {
                CountMode::Bounded if n > self.bound => (missions, Some(self.bound), false),
                _ => (missions, Some(n), true),
            })
        })
    }

    /// Statements run: the page, and the count unless none.
    fn statements(&self) -> u64 {
        1 + u64::from(self.count.is_some())
    }
}

impl Store {
    /// mission_search: see `search_untraced`; under a `store` span (exported with
    /// `--otlp-endpoint`: its statements and SQL as attributes).
    pub async fn search(
        &self,
        query: &SearchQuery,
        plan: QueryPlan,
    ) -> Result<SearchPage, StoreError> {
        use tracing::Instrument;
        let span = super::store_span(truth::evidence::StatementKind::MissionSearch);
        self.search_untraced(query, plan).instrument(span).await
    }

    /// Mission summaries matching the filters, in id order, one page, and
    /// how many match in all.
    async fn search_untraced(
        &self,
        query: &SearchQuery,
        plan: QueryPlan,
    ) -> Result<SearchPage, StoreError> {
        let sql = SearchSql::new(query, plan);
        let statements = sql.statements();
        let start = Instant::now();
        let (sql, (mut missions, total, total_exact)) = if plan.missing_index {
            // On the blocking pool: the statements come back with the rows.
            Arc::clone(&self.readers)
                .slow(ACQUIRE_TIMEOUT, move |conn| {
                    sql.run(conn).map(|out| (sql, out))
                })
                .await?
        } else {
            let out = self.readers.with(|conn| sql.run(conn))?;
            (sql, out)
        };
        let ran: Vec<&str> = std::iter::once(sql.page.as_str())
            .chain(sql.count.as_deref())
            .collect();
        truth::evidence::statement(
            &self.evidence,
            truth::evidence::StatementKind::MissionSearch,
            &ran,
            statements,
            start.elapsed(),
        );
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
            total_exact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use seed_data::{Region, Status};

    /// 30 active CENTCOM missions and 5 planned ones, in memory.
    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE missions (id INTEGER PRIMARY KEY, name TEXT, status TEXT, region TEXT,
             priority INTEGER, commander TEXT, unit TEXT, created_at TEXT, updated_at TEXT,
             version INTEGER, waypoint_count INTEGER);",
        )
        .unwrap();
        for id in 1..=35 {
            let status = if id <= 30 { "active" } else { "planned" };
            conn.execute(
                "INSERT INTO missions VALUES (?1, 'Op', ?2, 'CENTCOM', 3, 'Cdr', 'Unit',
                 '2024-03-16T10:52:10.000Z', '2024-03-17T18:27:24.000Z', 1, 0)",
                rusqlite::params![id, status],
            )
            .unwrap();
        }
        conn
    }

    fn query(count: CountMode) -> SearchQuery {
        SearchQuery {
            status: Some(Status::Active),
            region: Some(Region::Centcom),
            after: None,
            limit: 5,
            count,
        }
    }

    #[test]
    fn counts_are_exact_up_to_the_bound_then_say_at_least() {
        let conn = table();
        let run = |count, bound| {
            let sql = SearchSql::with_bound(&query(count), QueryPlan::default(), bound);
            let (page, total, exact) = sql.run(&conn).unwrap();
            assert_eq!(page.len(), 6, "the page and one more");
            (total, exact, sql.statements())
        };
        assert_eq!(run(CountMode::Bounded, 100), (Some(30), true, 2));
        assert_eq!(run(CountMode::Bounded, 30), (Some(30), true, 2));
        assert_eq!(run(CountMode::Bounded, 29), (Some(29), false, 2));
        assert_eq!(run(CountMode::Exact, 10), (Some(30), true, 2));
        assert_eq!(run(CountMode::None, 10), (None, false, 1));
    }
}
