//! The real `harness` binary against a real mock-api (in-process on
//! 127.0.0.1:0, fresh SQLite file).

mod analyze;
mod capacity;
mod classes;
mod conformance;
mod conformance_server;
mod helpers;
mod hostile;
mod import;
mod import_input;
mod import_real;
mod judge;
mod known_target;
mod locations;
mod observe;
mod otlp;
mod prometheus;
mod record;
mod regression;
mod review;
mod run;
mod score;
mod score_pages;
mod score_tools;
mod score_wire;
mod shards;
mod slos;
mod tls;
