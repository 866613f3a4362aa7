//! The conformance suite's server: HTTP/1.1 on 127.0.0.1 port 0, written
//! byte by byte so that it can send every framing a response may have and
//! every way one may go wrong. The path names the case; the server counts
//! the connections it accepted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub(crate) const MIB: usize = 1 << 20;

/// A running case server: its URL and the connections it accepted.
pub(crate) struct CaseServer {
    pub(crate) url: reqwest::Url,
    pub(crate) accepted: Arc<AtomicUsize>,
}

impl CaseServer {
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

pub(crate) async fn start() -> CaseServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = reqwest::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(connection(socket));
        }
    });
    CaseServer { url, accepted }
}

/// Reads one request (head, and a body by its Content-Length); its method
/// and path, or `None` when the client closed.
async fn request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, String)> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.drain(..end);
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    buf.drain(..length);
    let mut words = head.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    Some((method, path))
}

/// What the connection does after an answer.
enum Then {
    KeepAlive,
    Close,
    Reset,
    /// Wait for the client to give up.
    Hang,
}

async fn connection(mut socket: TcpStream) {
    let mut buf = Vec::new();
    while let Some((method, path)) = request(&mut socket, &mut buf).await {
        let then = answer(&mut socket, &method, &path)
            .await
            .unwrap_or(Then::Close);
        match then {
            Then::KeepAlive => continue,
            Then::Close => return,
            Then::Reset => {
                let _ = socket.set_zero_linger();
                return;
            }
            Then::Hang => {
                let mut sink = [0u8; 64];
                while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

/// Writes `total` bytes of zeros in `piece`-byte writes, pausing `pause`
/// after every MiB.
async fn zeros(
    s: &mut TcpStream,
    total: usize,
    piece: usize,
    pause: Duration,
) -> std::io::Result<()> {
    let block = vec![0u8; piece];
    let mut sent = 0;
    while sent < total {
        let n = piece.min(total - sent);
        s.write_all(&block[..n]).await?;
        let before = sent / MIB;
        sent += n;
        if !pause.is_zero() && sent / MIB != before {
            tokio::time::sleep(pause).await;
        }
    }
    Ok(())
}

async fn answer(s: &mut TcpStream, method: &str, path: &str) -> std::io::Result<Then> {
    let ok = |body: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let (text, then) = match path {
        "/length" => (ok("hello"), Then::KeepAlive),
        "/chunked" => ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_owned(), Then::KeepAlive),
        "/trailers" => ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-More: 2\r\n\r\n".to_owned(), Then::KeepAlive),
        "/close-delimited" => ("HTTP/1.1 200 OK\r\n\r\nto the end".to_owned(), Then::Close),
        "/head" if method == "HEAD" => ("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_owned(), Then::KeepAlive),
        "/no-content" => ("HTTP/1.1 204 No Content\r\n\r\n".to_owned(), Then::KeepAlive),
        "/not-modified" => ("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n".to_owned(), Then::KeepAlive),
        "/interim" => (
            format!(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n{}",
                ok("after")
            ),
            Then::KeepAlive,
        ),
        "/connection-close" => ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".to_owned(), Then::Close),
        "/http10" => ("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_owned(), Then::Close),
        "/stale" => {
            s.write_all(ok("ok").as_bytes()).await?;
            // Closes the idle connection a little later, unannounced.
            tokio::time::sleep(Duration::from_millis(10)).await;
            return Ok(Then::Close);
        }
        "/extra-bytes" => (format!("{}JUNK", ok("ok")), Then::KeepAlive),
        "/status-500" => ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_owned(), Then::KeepAlive),
        "/status-404" => ("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!".to_owned(), Then::KeepAlive),
        "/status-302" => ("HTTP/1.1 302 Found\r\nLocation: /length\r\nContent-Length: 0\r\n\r\n".to_owned(), Then::KeepAlive),
        "/garbage" => ("SURELY NOT HTTP\r\n\r\n".to_owned(), Then::Close),
        "/reset-before-head" => (String::new(), Then::Reset),
        "/close-before-head" => (String::new(), Then::Close),
        "/close-in-head" => ("HTTP/1.1 200 OK\r\nContent-Le".to_owned(), Then::Close),
        "/reset-in-body" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n").await?;
            s.write_all(&[b'x'; 100]).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Ok(Then::Reset);
        }
        "/close-in-body" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n").await?;
            s.write_all(&[b'x'; 100]).await?;
            return Ok(Then::Close);
        }
        "/close-in-chunk" => ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel".to_owned(), Then::Close),
        "/close-before-last-chunk" => ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".to_owned(), Then::Close),
        "/bad-chunk" => ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_owned(), Then::Hang),
        "/bad-length" => ("HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n".to_owned(), Then::Hang),
        // Heads longer than the client's buffer, within and past hyper's
        // bound (about 408 KiB).
        "/long-head" => (format!("HTTP/1.1 200 OK\r\nX-Long: {}\r\nContent-Length: 2\r\n\r\nok", "a".repeat(20 * 1024)), Then::KeepAlive),
        "/too-long-head" => (
            format!("HTTP/1.1 200 OK\r\nX-Long: {}\r\n\r\n", "a".repeat(500 * 1024)),
            Then::Close,
        ),
        "/hang" => (String::new(), Then::Hang),
        "/hang-in-body" => ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_owned(), Then::Hang),
        "/dribble" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ").await?;
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                s.write_all(b"a").await?;
            }
        }
        "/chunked-large" => {
            // 4 MiB in chunks of 64 KiB + 7 bytes, so that chunk lines
            // fall across the client's reads.
            s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").await?;
            let chunk = vec![b'c'; 64 * 1024 + 7];
            let mut sent = 0;
            while sent < 4 * MIB {
                let n = chunk.len().min(4 * MIB - sent);
                s.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                s.write_all(&chunk[..n]).await?;
                s.write_all(b"\r\n").await?;
                sent += n;
            }
            ("0\r\n\r\n".to_owned(), Then::KeepAlive)
        }
        "/kept-large" => {
            s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 5 * MIB).as_bytes()).await?;
            zeros(s, 5 * MIB, 64 * 1024, Duration::ZERO).await?;
            return Ok(Then::KeepAlive);
        }
        "/big-fast" | "/big-slow" => {
            let total = 128 * MIB;
            s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n").as_bytes()).await?;
            if path == "/big-fast" {
                zeros(s, total, MIB, Duration::ZERO).await?;
            } else {
                zeros(s, total, 16 * 1024, Duration::from_millis(2)).await?;
            }
            return Ok(Then::KeepAlive);
        }
        _ => ("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(), Then::KeepAlive),
    };
    s.write_all(text.as_bytes()).await?;
    Ok(then)
}
