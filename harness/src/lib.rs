//! The load harness (built by the harness issue).
