//! Integration tests: the real API on 127.0.0.1 (port 0) over a real SQLite file.

mod binary;
mod causes;
mod ceiling;
mod contract;
mod durability;
mod evidence;
mod helpers;
mod hostile;
mod known_target;
mod links;
mod load;
mod missions;
mod oneshot;
mod openapi;
mod search;
mod stall;
mod storage;
mod tls;
mod waypoints;
