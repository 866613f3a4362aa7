//! The harness against a target that sends more than anyone should hold:
//! a 1 GiB response is read to its end and counted, never held whole, so
//! the harness's peak RSS grows by a few MiB at most. The target is a tiny
//! HTTP/1.1 server in this test, on 127.0.0.1 port 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{read_record, EXCLUSIVE};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;

/// Serves `GET /big` with a 1 GiB body of zeros (written 64 KiB at a
/// time), `GET /small` with `ok`, anything else 404; keep-alive.
async fn tiny_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let zeros = vec![0u8; CHUNK];
                let mut buf = Vec::new();
                loop {
                    // One request head (these requests have no body).
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let written = if path == "/big" {
                        let h = format!("HTTP/1.1 200 OK\r\nContent-Length: {GIB}\r\nContent-Type: application/octet-stream\r\n\r\n");
                        let mut ok = socket.write_all(h.as_bytes()).await.is_ok();
                        for _ in 0..(GIB as usize / CHUNK) {
                            if !ok {
                                break;
                            }
                            ok = socket.write_all(&zeros).await.is_ok();
                        }
                        ok
                    } else if path == "/small" {
                        socket
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .await
                            .is_ok()
                    } else {
                        socket
                            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                            .await
                            .is_ok()
                    };
                    if !written {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// Runs `harness run` on `path` (one user, 1 s, then its request in flight
/// finishes) and returns its peak resident set (VmHWM, KiB) and record.
fn run_and_peak(url: &str, path: &str, out: &std::path::Path) -> (u64, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "run",
            "--target",
            url,
            "--path",
            path,
            "--users",
            "1",
            "--duration",
            "1s",
            "--quiet",
            "--no-server-stats",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "harness run still running after 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    use std::io::Read as _;
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!(status.code(), Some(0), "{err}");
    (peak_kib, read_record(out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_gib_response_is_counted_not_held() {
    let _exclusive = EXCLUSIVE.lock().await;
    let url = tiny_server().await;
    let dir = tempfile::tempdir().unwrap();
    let (small_kib, small) = tokio::task::spawn_blocking({
        let (url, out) = (url.clone(), dir.path().join("small.json"));
        move || run_and_peak(&url, "/small", &out)
    })
    .await
    .unwrap();
    let (big_kib, big) = tokio::task::spawn_blocking({
        let (url, out) = (url.clone(), dir.path().join("big.json"));
        move || run_and_peak(&url, "/big", &out)
    })
    .await
    .unwrap();
    assert!(small["steady"]["requests"].as_u64().unwrap() > 10);
    // The 1 GiB answer was read to its end: a request without error.
    assert!(
        big["steady"]["requests"].as_u64().unwrap() >= 1,
        "{}",
        big["steady"]
    );
    assert_eq!(big["steady"]["errors"], 0, "{}", big["errors"]);
    let grew_mib = big_kib.saturating_sub(small_kib) as f64 / 1024.0;
    eprintln!(
        "peak RSS: {small_kib} KiB (2-byte bodies), {big_kib} KiB (1 GiB body, read in {} ms)",
        big["steady"]["max_ms"]
    );
    assert!(
        big_kib > 0 && small_kib > 0 && grew_mib < 16.0,
        "peak RSS {small_kib} KiB on 2-byte bodies, {big_kib} KiB on a 1 GiB body: +{grew_mib:.1} MiB"
    );
}
