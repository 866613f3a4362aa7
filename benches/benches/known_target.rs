//! The known target's emulated regression causes, measured: the same search
//! and mission read with and without indexes, and with N+1 loading, on a
//! real SQLite file at 1,000 and 100,000 missions.
//!
//! `cargo bench -p benches --bench known_target`

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mock_api::store::{CountMode, QueryPlan, SearchQuery, Store};
use seed_data::{Generator, MissionId, Region, Status};

fn store(rt: &tokio::runtime::Runtime, missions: u32) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(async {
        let s = Store::open(&dir.path().join("bench.db"), 4)
            .await
            .expect("open");
        s.load(Generator::new(42, missions), |_| {})
            .await
            .expect("load");
        s
    });
    (store, dir)
}

fn plans() -> [(&'static str, QueryPlan); 2] {
    [
        ("indexed", QueryPlan::default()),
        (
            "missing_index",
            QueryPlan {
                missing_index: true,
                ..QueryPlan::default()
            },
        ),
    ]
}

fn causes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for missions in [1_000u32, 100_000] {
        let (store, _dir) = store(&rt, missions);
        let search = SearchQuery {
            status: Some(Status::Active),
            region: Some(Region::Centcom),
            after: None,
            limit: 50,
            // As before counts had modes: every match counted.
            count: CountMode::Exact,
        };
        let mut g = c.benchmark_group(format!("search active CENTCOM at {missions} missions"));
        g.measurement_time(Duration::from_secs(5));
        for (name, plan) in plans() {
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.to_async(&rt)
                    .iter(|| async { store.search(&search, plan).await.expect("search") })
            });
        }
        g.finish();

        // The mission with the most waypoints among the first 1000.
        let heavy = Generator::new(42, 1000.min(missions))
            .max_by_key(|m| m.waypoints.len())
            .expect("missions")
            .summary
            .id;
        let typical = MissionId::new(1).expect("id");
        let mut g = c.benchmark_group(format!("mission read at {missions} missions"));
        g.measurement_time(Duration::from_secs(5));
        for (id_name, id) in [("typical", typical), ("most waypoints", heavy)] {
            for (name, plan) in [
                ("indexed", QueryPlan::default()),
                (
                    "n-plus-one",
                    QueryPlan {
                        n_plus_one: true,
                        ..QueryPlan::default()
                    },
                ),
                (
                    "missing index",
                    QueryPlan {
                        missing_index: true,
                        ..QueryPlan::default()
                    },
                ),
            ] {
                g.bench_function(BenchmarkId::new(name, id_name), |b| {
                    b.to_async(&rt)
                        .iter(|| async { store.mission(id, plan).await.expect("read") })
                });
            }
        }
        g.finish();
        rt.block_on(store.close());
    }
}

criterion_group!(benches, causes);
criterion_main!(benches);
