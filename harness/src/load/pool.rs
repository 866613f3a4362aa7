//! Connections open-model arrivals share. In: the endpoint. Out: a
//! [`Connection`] taken for one arrival and given back after it.

use std::sync::{Arc, Mutex};

use crate::load::client::Connection;
use crate::load::endpoint::Endpoint;

/// Connections shared by open-model arrivals: an arrival takes an idle one
/// or opens a new one, and gives it back after its request. At most as many
/// as requests in flight.
#[derive(Debug)]
pub struct ConnectionPool {
    endpoint: Arc<Endpoint>,
    idle: Mutex<Vec<Connection>>,
}

impl ConnectionPool {
    pub fn new(endpoint: Arc<Endpoint>) -> ConnectionPool {
        ConnectionPool {
            endpoint,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// An idle connection, or a new one.
    pub fn take(&self) -> Connection {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        idle.unwrap_or_else(|| Connection::new(Arc::clone(&self.endpoint)))
    }

    /// Gives a connection back for the next arrival.
    pub fn give_back(&self, connection: Connection) {
        if connection.is_open() {
            if let Ok(mut idle) = self.idle.lock() {
                idle.push(connection);
            }
        }
    }
}
