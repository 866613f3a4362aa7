//! One connection against servers that close, refuse or answer what was
//! not expected.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

/// A loopback HTTP/1.1 server that answers one request per connection
/// and then closes it without saying so (no `Connection: close`), as a
/// server with a short keep-alive timeout does to an idle client.
async fn one_request_per_connection() -> (reqwest::Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = reqwest::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
                // Then closes the idle connection a little later.
                tokio::time::sleep(Duration::from_millis(10)).await;
            });
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced_without_an_error() {
    let (url, accepted) = one_request_per_connection().await;
    let endpoint = Arc::new(Endpoint::new(
        &url,
        Duration::from_secs(5),
        &Default::default(),
    ));
    let mut connection = Connection::new(endpoint);
    for i in 0..5 {
        // Give the server's close time to arrive, as after think time.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let outcome = connection.execute(&Method::GET, "/x", None, 200).await;
        assert_eq!(outcome, Outcome::Ok, "request {i}");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 5);
}

#[test]
fn error_classes_are_written_as_records_name_them() {
    for class in ErrorClass::ALL {
        assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
        let counts = std::collections::BTreeMap::from([(class, 3u64)]);
        let text = serde_json::to_string(&counts).unwrap();
        assert_eq!(text, format!("{{\"{class}\":3}}"));
        let back: std::collections::BTreeMap<ErrorClass, u64> =
            serde_json::from_str(&text).unwrap();
        assert_eq!(back, counts);
    }
}

#[tokio::test]
async fn statuses_and_refused_connections_are_classed() {
    let (url, _) = one_request_per_connection().await;
    let endpoint = Arc::new(Endpoint::new(
        &url,
        Duration::from_secs(5),
        &Default::default(),
    ));
    let mut connection = Connection::new(endpoint);
    match connection.execute(&Method::GET, "/x", None, 404).await {
        Outcome::Error(ErrorClass::StatusOther, msg) => {
            assert!(msg.contains("status 200, expected 404"), "{msg}")
        }
        other => panic!("{other:?}"),
    }

    // A port nothing listens on: bind one, note it, close it.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = reqwest::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let mut connection = Connection::new(Arc::new(Endpoint::new(
        &url,
        Duration::from_secs(5),
        &Default::default(),
    )));
    match connection.execute(&Method::GET, "/a b", None, 200).await {
        Outcome::Error(ErrorClass::Connect, msg) => {
            assert!(
                msg.starts_with(&format!("GET http://127.0.0.1:{port}/a b: connect")),
                "{msg}"
            )
        }
        other => panic!("{other:?}"),
    }
}
