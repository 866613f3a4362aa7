//! The route registry: every API route's name, method and path, declared
//! once. The router ([`crate::routes::api_router`]), the behaviour (per-route
//! latency, faults, draws) and the truth (per-route statistics) all take
//! their routes from here, so a route cannot be served without behaviour
//! and truth: adding a variant fails to compile until the router has its
//! handler, and a test checks that every route is served and counted.

use axum::http::Method;

/// The API routes, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    GetMission,
    UpdateWaypoint,
    SearchMissions,
    CreateMission,
    DeleteMission,
}

impl Route {
    /// Every route; `ALL[r.index()] == r`.
    pub const ALL: [Route; 5] = [
        Route::GetMission,
        Route::UpdateWaypoint,
        Route::SearchMissions,
        Route::CreateMission,
        Route::DeleteMission,
    ];

    /// How many routes there are (sizes per-route tables).
    pub const COUNT: usize = Route::ALL.len();

    /// The name used in flags, files, `/__admin/stats` and `/metrics`.
    pub fn name(self) -> &'static str {
        self.spec().0
    }

    pub fn method(self) -> Method {
        self.spec().1
    }

    /// The path pattern, as the router matches it.
    pub fn path(self) -> &'static str {
        self.spec().2
    }

    /// The route's position in [`Route::ALL`] (for per-route tables).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The route called `name`, if any.
    pub fn named(name: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.name() == name)
    }

    fn spec(self) -> (&'static str, Method, &'static str) {
        match self {
            Route::GetMission => ("get_mission", Method::GET, "/api/missions/{id}"),
            Route::UpdateWaypoint => (
                "update_waypoint",
                Method::PUT,
                "/api/missions/{id}/waypoints/{wp_id}",
            ),
            Route::SearchMissions => ("search_missions", Method::GET, "/api/missions"),
            Route::CreateMission => ("create_mission", Method::POST, "/api/missions"),
            Route::DeleteMission => ("delete_mission", Method::DELETE, "/api/missions/{id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        for (i, r) in Route::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?} is out of place in Route::ALL");
            assert_eq!(Route::named(r.name()), Some(r));
        }
        let mut seen: Vec<(Method, &str)> =
            Route::ALL.iter().map(|r| (r.method(), r.path())).collect();
        seen.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        seen.dedup();
        assert_eq!(
            seen.len(),
            Route::COUNT,
            "two routes share a method and path"
        );
    }
}
