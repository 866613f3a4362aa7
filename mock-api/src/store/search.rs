//! Searches: mission summaries matching status and region, in id order,
//! keyset-paginated, with the total count; through the sqlx read pool.

use sqlx::{QueryBuilder, Sqlite};

use super::rows::{self, mission_columns};
use super::{QueryPlan, SearchPage, SearchQuery, Store};
use crate::error::Error;
use crate::truth;

impl Store {
    /// Mission summaries matching the filters, in id order, one page, and
    /// how many match in all.
    pub async fn search(&self, query: &SearchQuery, plan: QueryPlan) -> Result<SearchPage, Error> {
        fn filters(q: &mut QueryBuilder<'_, Sqlite>, query: &SearchQuery) {
            if let Some(status) = query.status {
                q.push(" AND status = ").push_bind(status.as_str());
            }
            if let Some(region) = query.region {
                q.push(" AND region = ").push_bind(region.as_str());
            }
        }
        let mut q = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {} FROM missions{} WHERE id > ",
            mission_columns!(),
            plan.indexed()
        ));
        q.push_bind(query.after.map_or(0, |id| i64::from(id.number())));
        filters(&mut q, query);
        q.push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(query.limit) + 1);
        let mut count = QueryBuilder::<Sqlite>::new(format!(
            "SELECT COUNT(*) FROM missions{} WHERE 1",
            plan.indexed()
        ));
        filters(&mut count, query);

        let mut conn = self.read.acquire().await?;
        let rows = truth::timed(1, q.build().fetch_all(&mut *conn)).await?;
        let total: i64 = truth::timed(1, count.build_query_scalar().fetch_one(&mut *conn)).await?;
        let mut missions = rows
            .iter()
            .map(rows::summary)
            .collect::<Result<Vec<_>, _>>()?;
        let next = if missions.len() > query.limit as usize {
            missions.truncate(query.limit as usize);
            missions.last().map(|m| m.id)
        } else {
            None
        };
        Ok(SearchPage {
            missions,
            next,
            total: total as u64,
        })
    }
}
