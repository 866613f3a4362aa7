//! The harness's per-request work without I/O (task choice, zipf key choice,
//! path and body rendering, histogram recording), and `analyze` on a
//! history of 10,000 runs.
//!
//! `cargo bench -p benches --bench harness_hot_path`

use criterion::{criterion_group, criterion_main, Criterion};
use harness::analysis::{analyze, Run};
use harness::histogram::new_histogram;
use harness::load::placement::{cumulative, pick_task};
use harness::scenario::template::{KeySampler, Keys};
use harness::scenario::Percentile;
use harness::Scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn hot_path(c: &mut Criterion) {
    let s = Scenario::builtin();
    let class = &s.classes[0];
    let cumulative = cumulative(class.tasks.iter().map(|t| t.weight));
    let keys = Keys::new(&class.keys);
    let zipf = KeySampler::new(&class.keys["mission_id"]);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("harness per-request work (no I/O)");
    g.bench_function("task choice (6:2:2)", |b| {
        b.iter(|| pick_task(&cumulative, &mut rng))
    });
    g.bench_function("zipf key choice (s=1, n=1000)", |b| {
        b.iter(|| zipf.sample_rank(&mut rng))
    });
    let mut out = String::with_capacity(128);
    g.bench_function("render path /api/missions/{mission_id}", |b| {
        b.iter(|| {
            out.clear();
            class.tasks[0].steps[0]
                .path
                .render(&mut out, &keys, &mut rng);
            out.len()
        })
    });
    let body = class.tasks[1].steps[0]
        .body
        .clone()
        .expect("update waypoint has a body");
    g.bench_function("render body {lat ± 0.1, lon ± 0.1}", |b| {
        b.iter(|| {
            out.clear();
            body.render(&mut out, &keys, &mut rng);
            out.len()
        })
    });
    let mut h = new_histogram();
    g.bench_function("histogram record (µs, 3 digits)", |b| {
        b.iter(|| h.saturating_record(rng.random_range(100..100_000)))
    });
    g.finish();
}

fn analyze_history(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let runs: Vec<Run> = (0..10_000)
        .map(|i| {
            let level = if i > 7_000 { 600.0 } else { 500.0 };
            let p95 = level * (1.0 + rng.random_range(-0.05..0.05));
            Run {
                threshold_ms: Some(2000.0),
                ..Run::of_percentiles(format!("build-{i}"), p95 / 3.0, p95, p95 * 1.8)
            }
        })
        .collect();
    let mut g = c.benchmark_group("analyze");
    g.sample_size(10);
    g.bench_function("history of 10,000 runs", |b| {
        b.iter(|| analyze(&runs, Percentile::P95, None).expect("analysis"))
    });
    g.finish();
}

criterion_group!(benches, hot_path, analyze_history);
criterion_main!(benches);
