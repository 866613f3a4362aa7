//! Seed data: generating missions, and inserting them into a fresh store.
//!
//! `cargo bench -p benches --bench seed`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use mock_api::Store;
use seed_data::Generator;

fn seed(c: &mut Criterion) {
    let mut g = c.benchmark_group("seed data per 1,000 missions");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("generate", |b| {
        b.iter(|| {
            Generator::new(42, 1000)
                .map(|m| m.waypoints.len())
                .sum::<usize>()
        })
    });
    let missions: Vec<_> = Generator::new(42, 1000).collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    g.sample_size(10);
    g.bench_function("insert into a fresh SQLite store", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let store = rt
                    .block_on(Store::open(&dir.path().join("seed.db"), 1))
                    .expect("open");
                (dir, store)
            },
            |(dir, store)| {
                rt.block_on(async {
                    store
                        .load(missions.clone().into_iter(), |_| {})
                        .await
                        .expect("load");
                    store.close().await;
                });
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, seed);
criterion_main!(benches);
