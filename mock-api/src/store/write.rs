//! Writes, one transaction each, through the single write connection:
//! bulk loading, moving a waypoint, creating and deleting missions. Every
//! statement is timed and counted as the request's database work.

use seed_data::{Altitude, Mission, MissionId, MissionSummary, Timestamp, Waypoint, WaypointId};
use sqlx::{QueryBuilder, Sqlite};

use super::rows::{self, waypoint_columns};
use super::{NewMission, QueryPlan, Store, WaypointChange, LOAD_BATCH, ROWS_PER_INSERT};
use crate::error::Error;
use crate::truth;

impl Store {
    /// Writes a stream of missions, in batches of [`LOAD_BATCH`] per
    /// transaction; holds one batch in memory at a time. Returns the count.
    pub async fn load(
        &self,
        missions: impl Iterator<Item = Mission>,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, Error> {
        let mut total = 0u64;
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let mut missions = missions.peekable();
        while missions.peek().is_some() {
            batch.clear();
            batch.extend(missions.by_ref().take(LOAD_BATCH));
            let mut tx = self.write.begin().await?;
            for chunk in batch.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Sqlite>::new(
                    "INSERT INTO missions (id, name, status, region, priority, commander, unit, \
                     created_at, updated_at, version, waypoint_count) ",
                );
                q.push_values(chunk, |mut b, mission| {
                    let m = &mission.summary;
                    b.push_bind(i64::from(m.id.number()))
                        .push_bind(&m.name)
                        .push_bind(m.status.as_str())
                        .push_bind(m.region.as_str())
                        .push_bind(i64::from(m.priority.get()))
                        .push_bind(&m.commander)
                        .push_bind(&m.unit)
                        .push_bind(m.created_at.to_string())
                        .push_bind(m.updated_at.to_string())
                        .push_bind(m.version)
                        .push_bind(mission.waypoints.len() as i64);
                });
                q.build().execute(&mut *tx).await?;
            }
            let rows = batch
                .iter()
                .flat_map(|m| m.waypoints.iter().map(move |w| (m.summary.id, w)));
            insert_waypoints(&mut tx, rows).await?;
            tx.commit().await?;
            total += batch.len() as u64;
            progress(total);
        }
        Ok(total)
    }

    /// Moves a waypoint and bumps its mission's version and `updated_at`, in
    /// one transaction. With `expected_version`, a mission at another version
    /// is left alone and the call fails with [`Error::PreconditionFailed`].
    /// Returns the waypoint as stored and the mission's new version.
    pub async fn update_waypoint(
        &self,
        mission: MissionId,
        waypoint: WaypointId,
        change: WaypointChange,
        expected_version: Option<i64>,
        plan: QueryPlan,
    ) -> Result<(Waypoint, i64), Error> {
        let moved = self.move_waypoint(mission, waypoint, change, expected_version, plan);
        self.written(moved.await).await
    }

    async fn move_waypoint(
        &self,
        mission: MissionId,
        waypoint: WaypointId,
        change: WaypointChange,
        expected_version: Option<i64>,
        plan: QueryPlan,
    ) -> Result<(Waypoint, i64), Error> {
        let mut tx = self.write.begin().await?;
        let id = i64::from(mission.number());
        let version: Option<i64> = truth::timed(
            1,
            sqlx::query_scalar(
                "UPDATE missions SET version = version + 1, updated_at = ?1 \
                 WHERE id = ?2 AND (?3 IS NULL OR version = ?3) RETURNING version",
            )
            .bind(Timestamp::now().to_string())
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx),
        )
        .await?;
        let Some(version) = version else {
            let current: Option<i64> = truth::timed(
                1,
                sqlx::query_scalar("SELECT version FROM missions WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *tx),
            )
            .await?;
            return Err(match (current, expected_version) {
                (Some(current), Some(expected)) => Error::PreconditionFailed {
                    expected: expected.to_string(),
                    current,
                },
                _ => Error::NotFound(format!("no mission {mission}")),
            });
        };
        let sql = format!(
            "UPDATE waypoints{} SET lat = ?1, lon = ?2, alt_m = COALESCE(?3, alt_m) \
             WHERE mission_id = ?4 AND seq = ?5 RETURNING {}",
            plan.indexed(),
            waypoint_columns!()
        );
        let row = truth::timed(
            1,
            sqlx::query(&sql)
                .bind(change.lat.get())
                .bind(change.lon.get())
                .bind(change.alt_m.map(Altitude::get))
                .bind(id)
                .bind(i64::from(waypoint.seq()))
                .fetch_optional(&mut *tx),
        )
        .await?;
        let Some(row) = row else {
            // Dropping the transaction rolls the version bump back.
            return Err(Error::NotFound(format!(
                "mission {mission} has no waypoint {waypoint}"
            )));
        };
        let wp = rows::waypoint(&row)?;
        tx.commit().await?;
        Ok((wp, version))
    }

    /// Creates a mission (id assigned: one past the highest ever used).
    pub async fn create(&self, new: NewMission) -> Result<Mission, Error> {
        self.written(self.insert_mission(new).await).await
    }

    async fn insert_mission(&self, new: NewMission) -> Result<Mission, Error> {
        let now = Timestamp::now();
        let mut tx = self.write.begin().await?;
        let id: i64 = truth::timed(
            1,
            sqlx::query_scalar(
                "INSERT INTO missions (name, status, region, priority, commander, unit, created_at, \
                 updated_at, version, waypoint_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.status.as_str())
            .bind(new.region.as_str())
            .bind(i64::from(new.priority.get()))
            .bind(&new.commander)
            .bind(&new.unit)
            .bind(now.to_string())
            .bind(now.to_string())
            .bind(new.waypoints.len() as i64)
            .fetch_one(&mut *tx),
        )
        .await?;
        let mission_id = u32::try_from(id)
            .ok()
            .and_then(MissionId::new)
            .ok_or_else(|| Error::Internal(format!("mission id {id} out of range")))?;
        let waypoints: Vec<Waypoint> = new
            .waypoints
            .into_iter()
            .zip(1u32..)
            .map(|((name, lat, lon, alt_m), seq)| Waypoint {
                id: WaypointId::new(seq).expect("seq starts at 1"),
                name,
                lat,
                lon,
                alt_m,
            })
            .collect();
        insert_waypoints(&mut tx, waypoints.iter().map(|w| (mission_id, w))).await?;
        tx.commit().await?;
        let summary = MissionSummary {
            id: mission_id,
            name: new.name,
            status: new.status,
            region: new.region,
            priority: new.priority,
            commander: new.commander,
            unit: new.unit,
            created_at: now,
            updated_at: now,
            version: 1,
            waypoint_count: 0,
        };
        Ok(summary.with_waypoints(waypoints))
    }

    /// Deletes a mission and its waypoints. With `expected_version`, only at
    /// that version. Returns whether a mission was deleted.
    pub async fn delete(&self, id: MissionId, expected_version: Option<i64>) -> Result<(), Error> {
        self.written(self.delete_mission(id, expected_version).await)
            .await
    }

    async fn delete_mission(
        &self,
        id: MissionId,
        expected_version: Option<i64>,
    ) -> Result<(), Error> {
        let mut tx = self.write.begin().await?;
        let current: Option<i64> = truth::timed(
            1,
            sqlx::query_scalar("SELECT version FROM missions WHERE id = ?")
                .bind(i64::from(id.number()))
                .fetch_optional(&mut *tx),
        )
        .await?;
        match (current, expected_version) {
            (None, _) => return Err(Error::NotFound(format!("no mission {id}"))),
            (Some(current), Some(expected)) if current != expected => {
                return Err(Error::PreconditionFailed {
                    expected: expected.to_string(),
                    current,
                })
            }
            _ => {}
        }
        truth::timed(
            1,
            sqlx::query("DELETE FROM missions WHERE id = ?")
                .bind(i64::from(id.number()))
                .execute(&mut *tx),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_waypoints<'a>(
    tx: &mut sqlx::SqliteConnection,
    rows: impl Iterator<Item = (MissionId, &'a Waypoint)>,
) -> Result<(), Error> {
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO waypoints (mission_id, seq, name, lat, lon, alt_m) ",
        );
        q.push_values(chunk, |mut b, (mission, w)| {
            b.push_bind(i64::from(mission.number()))
                .push_bind(i64::from(w.id.seq()))
                .push_bind(&w.name)
                .push_bind(w.lat.get())
                .push_bind(w.lon.get())
                .push_bind(w.alt_m.map(Altitude::get));
        });
        truth::timed(1, q.build().execute(&mut *tx)).await?;
    }
    Ok(())
}
