//! The 503-storm part of `bench/run.sh`: the `dev-server` command cannot script faults,
//! so this starts the dev server in-process (HTTPS, the bench's certificate), queues
//! four 503 answers per run with `push_faults`, and times the release binary as a child
//! in Terraform mode with the default retry policy.
//!
//! Usage: bench-faults BIN CA_PEM CERT_PEM KEY_PEM RUNS
//! Prints one JSON object per run: wall time, attempts the server saw, the backoff waits
//! the binary logged (RUST_LOG=debug), exit code and status. Exits 1 if a run breaks
//! the documented policy: 4 attempts, backoff sum within 1.75-3.5 s.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use vault_fetch_relay::credentials::RelayCredentials;
use vfr_devserver::{DevServer, DevServerConfig, Fault, TlsIdentity};

const KEY: &str = "sk_test_benchFaultsKey0123456789abcdef";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bin, ca, cert, key, runs] = args.as_slice() else {
        anyhow::bail!("usage: bench-faults BIN CA_PEM CERT_PEM KEY_PEM RUNS");
    };
    let runs: usize = runs.parse()?;
    let mut config = DevServerConfig::loopback(KEY);
    config.tls = Some(TlsIdentity {
        cert_chain_pem: std::fs::read_to_string(cert)?,
        key_pem: std::fs::read_to_string(key)?,
    });
    let server = DevServer::start(config)?;
    let value = RelayCredentials::generate(None)?.to_vault_value();
    server.create("runlayer-sentry-credentials", &value)?;

    let mut ok = true;
    for run in 0..runs {
        server
            .push_faults((0..4).map(|_| Fault::status(503, r#"{"error":"Service Unavailable"}"#)));
        let before = server.request_count();
        let started = Instant::now();
        let mut child = Command::new(bin)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WORKOS_API_BASE", server.base_url())
            .env("SSL_CERT_FILE", ca)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(format!(r#"{{"api_key":"{KEY}"}}"#).as_bytes())?;
        let out = child.wait_with_output()?;
        let wall = started.elapsed();
        let attempts = server.request_count() - before;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let waits_ms: Vec<u64> = stderr
            .lines()
            .filter_map(|l| l.split("retrying in ").nth(1))
            .filter_map(|rest| rest.split(" ms").next()?.trim().parse().ok())
            .collect();
        let backoff_ms: u64 = waits_ms.iter().sum();
        let status = serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.get("status")?.as_str().map(str::to_string))
            .unwrap_or_default();
        let code = out.status.code().unwrap_or(-1);
        let pass = code == 0
            && status == "unavailable"
            && attempts == 4
            && waits_ms.len() == 3
            && (1750..=3500).contains(&backoff_ms)
            && wall.as_millis() >= 1750;
        ok &= pass;
        println!(
            "{}",
            serde_json::json!({
                "run": run,
                "wall_s": wall.as_secs_f64(),
                "attempts": attempts,
                "waits_ms": waits_ms,
                "backoff_ms": backoff_ms,
                "exit_code": code,
                "status": status,
                "pass": pass,
            })
        );
    }
    server.shutdown();
    if !ok {
        anyhow::bail!("a 503 storm run broke the documented retry policy (see the lines above)");
    }
    Ok(())
}
