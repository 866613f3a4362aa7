//! The harness against hostile targets: a 1 GiB response is read to its
//! end and counted, never held whole, so the harness's peak RSS grows by a
//! few MiB at most; a server that resets, hangs, sends garbage, dribbles
//! its headers forever or promises a body it never sends is classified,
//! its timeouts honoured, and the run ends with its record written. The
//! target is a tiny HTTP/1.1 server in this test, on 127.0.0.1 port 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::conformance_server::MIB;
use crate::helpers::{read_record, EXCLUSIVE};

const GIB: u64 = 1 << 30;
const CHUNK: usize = 64 * 1024;
static MIB_OF_ZEROS: [u8; MIB] = [0; MIB];

/// Serves `GET /big` with a 1 GiB body of zeros (written 64 KiB at a
/// time), `GET /mib` with 1 MiB (in one write), `GET /small` with `ok`,
/// anything else 404; keep-alive.
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
                    if let Some(done) = misbehave(&path, &mut socket).await {
                        if done {
                            return;
                        }
                        continue;
                    }
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
                    } else if path == "/mib" {
                        // 1 MiB in one write: as fast as loopback takes it.
                        let h = format!("HTTP/1.1 200 OK\r\nContent-Length: {MIB}\r\n\r\n");
                        socket.write_all(h.as_bytes()).await.is_ok()
                            && socket.write_all(&MIB_OF_ZEROS).await.is_ok()
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

/// The hostile answers; `Some(true)` when the connection is finished.
async fn misbehave(path: &str, socket: &mut tokio::net::TcpStream) -> Option<bool> {
    match path {
        // Read the request, then reset the connection.
        "/reset" => {
            // Dropped with a zero linger: closed by RST, not FIN.
            let _ = socket.set_zero_linger();
            Some(true)
        }
        // Never answer: wait until the client gives up and closes.
        "/hang" => {
            let mut sink = [0u8; 64];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
            Some(true)
        }
        "/garbage" => {
            let _ = socket.write_all(b"SURELY NOT HTTP\r\n\r\n").await;
            Some(true)
        }
        // A status line, then one header byte every 50 ms, forever.
        "/dribble" => {
            let mut ok = socket
                .write_all(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                .await
                .is_ok();
            while ok {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ok = socket.write_all(b"a").await.is_ok();
            }
            Some(true)
        }
        // Promise 10 GiB, send 1 MiB, close.
        "/promise" => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 10 * GIB);
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&vec![0u8; 1 << 20]).await;
            Some(true)
        }
        _ => None,
    }
}

/// Runs `harness run` on `path` (one user, 1 s, then its request in flight
/// finishes) and returns its peak resident set (VmHWM, KiB) and record.
fn run_and_peak(url: &str, path: &str, out: &std::path::Path) -> (u64, serde_json::Value) {
    run_and_peak_with(url, path, out, &["--users", "1", "--duration", "1s"])
}

/// The same with other flags (users, duration, engine).
fn run_and_peak_with(
    url: &str,
    path: &str,
    out: &std::path::Path,
    flags: &[&str],
) -> (u64, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["run", "--target", url, "--path", path])
        .args(flags)
        .args([
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

/// Memory per connection whatever the server sends: 100 users each
/// reading 1 MiB answers that a fast server writes in one go. hyper's
/// engine grows its read buffer to about 400 KiB per connection under such
/// a sender (the one-user 1 GiB test above cannot see it: one connection's
/// worth is within its margin); the native engine reads through one
/// 16 KiB buffer per exchange. The bound is the issue's: 64 MiB plus
/// 64 KiB per user. Set HOSTILE_ENGINE=hyper to see the reference engine
/// fail it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_reading_large_answers_from_a_fast_server_stay_within_64_kib_each() {
    let _exclusive = EXCLUSIVE.lock().await;
    let url = tiny_server().await;
    let dir = tempfile::tempdir().unwrap();
    let engine = std::env::var("HOSTILE_ENGINE").unwrap_or_else(|_| "native".to_owned());
    let users = 100u64;
    let (peak_kib, record) = tokio::task::spawn_blocking({
        let (url, out, engine) = (url.clone(), dir.path().join("mib.json"), engine.clone());
        move || {
            let flags = ["--users", "100", "--duration", "3s", "--engine", &engine];
            run_and_peak_with(&url, "/mib", &out, &flags)
        }
    })
    .await
    .unwrap();
    let steady = &record["steady"];
    assert_eq!(steady["errors"], 0, "{}", record["errors"]);
    let answers = steady["requests"].as_u64().unwrap();
    let bound_kib = 64 * 1024 + 64 * users;
    eprintln!(
        "{engine} engine, {users} users reading 1 MiB answers: {answers} answers, peak RSS {peak_kib} KiB (bound {bound_kib} KiB)"
    );
    assert!(
        answers >= users,
        "every user read at least one answer: {answers}"
    );
    assert!(
        peak_kib > 0 && peak_kib < bound_kib,
        "{engine} engine: peak RSS {peak_kib} KiB with {users} users reading 1 MiB answers, over {bound_kib} KiB"
    );
}

const HOSTILE: &str = r#"
name = "hostile"
timeout = "1s"
[requirement]
id = "REQ-HOSTILE"
text = "The harness survives a hostile target."
[[tasks]]
name = "reset"
path = "/reset"
[[tasks]]
name = "hang"
path = "/hang"
[[tasks]]
name = "garbage"
path = "/garbage"
[[tasks]]
name = "dribble"
path = "/dribble"
[[tasks]]
name = "promise"
path = "/promise"
[[tasks]]
name = "small"
path = "/small"
[[stages]]
name = "hold"
users = 6
duration = "3s"
steady = true
[[slos]]
metric = "errors"
bound = 0
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_target_is_classified_within_its_timeouts_and_the_record_written() {
    let _exclusive = EXCLUSIVE.lock().await;
    let url = tiny_server().await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("hostile.toml");
    std::fs::write(&scenario, HOSTILE).unwrap();
    let out = dir.path().join("hostile.json");
    let started = Instant::now();
    let o = crate::helpers::harness(crate::helpers::args(&[
        "run",
        "--target",
        &url,
        "--scenario",
        scenario.to_str().unwrap(),
        "--quiet",
        "--no-server-stats",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    let took = started.elapsed();
    let stderr = crate::helpers::stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "an SLO fails, nothing crashes: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // 3 s of load, then requests in flight get at most their 1 s timeout.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let r = read_record(&out);
    let errors = &r["errors"];
    eprintln!(
        "hostile run in {took:?}: errors {errors}\n{}",
        r["error_samples"]
    );
    for class in ["request", "timeout", "body"] {
        assert!(errors[class].as_u64().unwrap_or(0) > 0, "{class}: {errors}");
    }
    let task = |name: &str| {
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()
            .clone()
    };
    for name in ["reset", "hang", "garbage", "dribble", "promise"] {
        let t = task(name);
        assert!(t["requests"].as_u64().unwrap() > 0, "{name} was never sent");
        assert_eq!(
            t["requests"], t["errors"],
            "every {name} request is an error"
        );
    }
    assert_eq!(task("small")["errors"], 0, "honest answers stay fine");
    // Waits end at the timeout: hang and dribble fail at about 1 s.
    let samples = r["error_samples"]["timeout"].to_string();
    assert!(
        samples.contains("no complete answer within 1s"),
        "{samples}"
    );
}
