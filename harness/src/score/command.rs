//! Running the tool under score. In: its command (placeholders in any
//! argument), the values to put in them, a time limit. Out: what it
//! printed, or an error with its last lines when it failed, hung or could
//! not start.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::error::Error;

/// The values a command's placeholders take.
#[derive(Debug, Clone)]
pub struct Values {
    /// `{url}`: the target's base URL, no trailing `/`.
    pub url: String,
    /// `{path}`: the path the trial requests.
    pub path: String,
    /// `{rate}`: arrivals per second.
    pub rate: f64,
    /// `{duration}`: `30s`.
    pub duration: Duration,
    /// `{connections}`.
    pub connections: u32,
    /// `{out}`: a file (or prefix) the tool may write its results to.
    pub out: String,
    /// `{locustfile}`: the Locust file written for the default command.
    pub locustfile: String,
    /// `{k6script}`: the k6 script written for the default command.
    pub k6script: String,
    /// `{artilleryscript}`: the Artillery script written for the default command.
    pub artilleryscript: String,
    /// `{jmeterplan}`: the JMeter test plan written for the default command.
    pub jmeterplan: String,
    /// `{cacert}`: the certificate an HTTPS target serves (PEM), when known.
    pub cacert: String,
}

/// `arg` with every placeholder filled in.
pub fn fill(arg: &str, v: &Values) -> String {
    let rate = if v.rate.fract() == 0.0 {
        format!("{}", v.rate as u64)
    } else {
        format!("{}", v.rate)
    };
    arg.replace("{url}", &v.url)
        .replace("{path}", &v.path)
        .replace("{rate}", &rate)
        .replace("{duration}", &format!("{}s", v.duration.as_secs().max(1)))
        .replace("{connections}", &v.connections.to_string())
        .replace("{out}", &v.out)
        .replace("{locustfile}", &v.locustfile)
        .replace("{k6script}", &v.k6script)
        .replace("{artilleryscript}", &v.artilleryscript)
        .replace("{jmeterplan}", &v.jmeterplan)
        .replace("{cacert}", &v.cacert)
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
}

/// The last `n` lines of `text`, for an error message.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Runs `argv` in `dir`, killing it after `limit`.
pub async fn run(argv: &[String], dir: &Path, limit: Duration) -> Result<Ran, Error> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::Usage("no command to score: give it after --".into()))?;
    let failed = |why: String| Error::ToolFailed {
        command: argv.join(" "),
        why,
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("cannot start {program:?}: {e}")))?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let finished = tokio::time::timeout(limit, async {
        let (a, b, status) = tokio::join!(
            out.read_to_end(&mut stdout),
            err.read_to_end(&mut stderr),
            child.wait()
        );
        a.and(b).and(status)
    })
    .await;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let status = match finished {
        Err(_) => {
            let _ = child.kill().await;
            return Err(failed(format!(
                "still running after {}: stopped",
                humantime::format_duration(limit)
            )));
        }
        Ok(Err(e)) => return Err(failed(format!("cannot read its output: {e}"))),
        Ok(Ok(status)) => status,
    };
    let ran = Ran {
        stdout: text(&stdout),
        stderr: text(&stderr),
    };
    if !status.success() {
        let last = tail(&format!("{}\n{}", ran.stdout, ran.stderr), 8);
        return Err(failed(format!(
            "exited with {status}; its last lines:\n{last}"
        )));
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_anywhere_in_an_argument() {
        let v = Values {
            url: "http://127.0.0.1:9".into(),
            path: "/x".into(),
            rate: 200.0,
            duration: Duration::from_secs(15),
            connections: 50,
            out: "/tmp/o".into(),
            locustfile: "/tmp/l.py".into(),
            k6script: "/tmp/k.js".into(),
            artilleryscript: "/tmp/a.yml".into(),
            jmeterplan: "/tmp/t.jmx".into(),
            cacert: "/tmp/cert.pem".into(),
        };
        assert_eq!(fill("-c{connections}", &v), "-c50");
        assert_eq!(fill("{url}{path}", &v), "http://127.0.0.1:9/x");
        assert_eq!(fill("-d{duration}", &v), "-d15s");
        assert_eq!(fill("{rate}/s to {out}", &v), "200/s to /tmp/o");
        assert_eq!(fill("{rate}", &Values { rate: 2.5, ..v }), "2.5");
    }

    #[tokio::test]
    async fn failures_show_the_last_lines_and_hangs_are_stopped() {
        let dir = std::env::temp_dir();
        let sh = |script: &str| vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
        let ok = run(&sh("echo hello"), &dir, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(ok.stdout.trim(), "hello");
        let e = run(
            &sh("echo one; echo two >&2; exit 3"),
            &dir,
            Duration::from_secs(10),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("exit status: 3") && e.contains("one") && e.contains("two"),
            "{e}"
        );
        let e = run(&sh("sleep 30"), &dir, Duration::from_millis(200))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("still running"), "{e}");
        let e = run(
            &["no-such-tool-here".to_owned()],
            &dir,
            Duration::from_secs(5),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("cannot start") && e.contains("no-such-tool-here"),
            "{e}"
        );
    }
}
