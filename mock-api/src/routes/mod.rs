//! HTTP routes. In: requests. Out: responses (errors as problem+json).
//! The API's routes come from the registry ([`crate::route::Route`]): each
//! is served by its handler in [`missions`] behind its own behaviour and
//! truth layer. The other routers ([`health`], [`openapi`], [`admin`])
//! carry no behaviour and are not counted. Here the routes meet the store:
//! its errors become HTTP errors (`From<StoreError>`).

pub mod admin;
pub mod evidence;
pub mod health;
pub mod missions;
pub mod openapi;

use axum::middleware::from_fn_with_state;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use crate::error::Error;
use crate::middleware::{behaviour_and_truth, RouteLayer};
use crate::route::Route;
use crate::state::AppState;
use crate::store::StoreError;

/// What the store's failures are over HTTP: 404, 412, 503 (busy, or not
/// accepting writes), 500 for the rest (its cause kept for the log).
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::NotFound(what),
            StoreError::PreconditionFailed { expected, current } => {
                Error::PreconditionFailed { expected, current }
            }
            StoreError::Storage(failure) => Error::Storage(failure.to_string()),
            e if e.is_busy() => {
                tracing::debug!(error = ?e, "the database was busy");
                Error::Busy
            }
            StoreError::Folder { folder, source } => Error::Io {
                what: format!("cannot create the database's folder {}", folder.display()),
                source,
            },
            StoreError::Thread(source) => Error::Io {
                what: "cannot start the write thread".into(),
                source,
            },
            StoreError::Internal(why) => Error::Internal(why),
            other => Error::Database(Box::new(other)),
        }
    }
}

/// Every API route of the registry, each behind its behaviour-and-truth layer.
pub fn api_router(state: &AppState) -> Router<AppState> {
    Route::ALL.into_iter().fold(Router::new(), |router, route| {
        let layer = RouteLayer {
            state: state.clone(),
            route,
        };
        let served = handler(route).route_layer(from_fn_with_state(layer, behaviour_and_truth));
        router.route(route.path(), served)
    })
}

/// The handler of each route, on the route's method. The match is
/// exhaustive: a route added to the registry does not compile until it
/// has a handler here.
fn handler(route: Route) -> MethodRouter<AppState> {
    let method = MethodFilter::try_from(route.method()).expect("registry methods are standard");
    match route {
        Route::GetMission => on(method, missions::get_mission),
        Route::UpdateWaypoint => on(method, missions::update_waypoint),
        Route::SearchMissions => on(method, missions::search_missions),
        Route::CreateMission => on(method, missions::create_mission),
        Route::DeleteMission => on(method, missions::delete_mission),
    }
}
