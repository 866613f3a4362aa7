//! End-to-end tests across crates live in `tests/tests/`: the README's main
//! job (`harness demo`: an in-process mock-api on a fresh SQLite file, the
//! built-in scenario, the record and the HTML report) run for real.
