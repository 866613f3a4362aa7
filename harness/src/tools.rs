//! The load tools the harness knows by name: a leaf module, read by the
//! adapters (whose output they parse), the scorer (which runs them) and the
//! record (whose `source` names the tool that measured it).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The tools an adapter reads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    Harness,
    Wrk,
    Oha,
    Hey,
    Locust,
    K6,
    Vegeta,
    Jmeter,
    Gatling,
    Artillery,
    Autocannon,
}

impl Tool {
    pub const ALL: [Tool; 11] = [
        Tool::Harness,
        Tool::Wrk,
        Tool::Oha,
        Tool::Hey,
        Tool::Locust,
        Tool::K6,
        Tool::Vegeta,
        Tool::Jmeter,
        Tool::Gatling,
        Tool::Artillery,
        Tool::Autocannon,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tool::Harness => "harness",
            Tool::Wrk => "wrk",
            Tool::Oha => "oha",
            Tool::Hey => "hey",
            Tool::Locust => "locust",
            Tool::K6 => "k6",
            Tool::Vegeta => "vegeta",
            Tool::Jmeter => "jmeter",
            Tool::Gatling => "gatling",
            Tool::Artillery => "artillery",
            Tool::Autocannon => "autocannon",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
