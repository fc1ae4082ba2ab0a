//! The server in a real editor: runs `editors/emacs/test/e2e.el` in batch Emacs with Eglot
//! and the shipped `calcinosis-ls.el`, against the binary built for this test run.
//!
//! Emacs is found through `$EMACS` (a path to the binary), then `emacs` on `PATH`. Eglot
//! comes with Emacs 29+; on Debian 12 (Emacs 28.2) it is the `elpa-eglot` package. Without
//! Emacs or Eglot the test fails when `CI` is set and is skipped (with a message) otherwise.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Longer than any single wait in the script (20 s each): only a wedged Emacs hits it.
const RUN_LIMIT: Duration = Duration::from_secs(180);

/// The line the script prints when no Eglot library can be loaded.
const NO_EGLOT: &str = "FAIL: load Eglot";

/// Whether `path` runs and says it is GNU Emacs; its version line if so.
fn emacs_version(path: &Path) -> Result<String, String> {
    let first = common::editor::version_line(path)?;
    if first.starts_with("GNU Emacs ") {
        Ok(first)
    } else {
        Err(format!("{} is not GNU Emacs: {first:?}", path.display()))
    }
}

/// The Emacs binary to use, or every reason none was found.
fn find_emacs() -> Result<PathBuf, Vec<String>> {
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    match std::env::var_os("EMACS").map(PathBuf::from) {
        // Shells inside Emacs may set $EMACS to a version string rather than a path.
        Some(p) if p.is_file() => candidates.push(("$EMACS", p)),
        Some(p) => tried.push(format!("$EMACS={} is not a file; ignored", p.display())),
        None => tried.push("$EMACS is not set".into()),
    }
    match common::editor::on_path("emacs") {
        Some(p) => candidates.push(("PATH", p)),
        None => tried.push("no emacs on PATH".into()),
    }
    for (from, path) in candidates {
        match emacs_version(&path) {
            Ok(v) => {
                println!("using {} ({v}) from {from}", path.display());
                return Ok(path);
            }
            Err(e) => tried.push(e),
        }
    }
    Err(tried)
}

/// Fails under CI, and otherwise says on stderr why the test did not run.
fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("Emacs with Eglot is required in CI (apt-get install emacs-nox elpa-eglot): {why}");
    }
    // Straight to stderr, past the test harness's capture, so that a skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED emacs_eglot_end_to_end: {why}. On Debian 12: apt-get install emacs-nox elpa-eglot (Emacs 29+ has Eglot built in); or set EMACS=/path/to/emacs."
    );
}

#[test]
fn emacs_eglot_end_to_end() {
    let emacs = match find_emacs() {
        Ok(found) => found,
        Err(tried) => return skip(&format!("no Emacs found ({})", tried.join("; "))),
    };

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = repo.join("editors/emacs/test/e2e.el");
    let home = tempfile::tempdir().expect("tempdir");
    let log_path = home.path().join("emacs-output.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut cmd = Command::new(&emacs);
    cmd.args(["--batch", "-Q", "-l"])
        .arg(&script)
        .current_dir(repo)
        .env("CALCINOSIS_LS", env!("CARGO_BIN_EXE_calcinosis-ls"))
        .env("CALCINOSIS_LS_REPO", repo)
        // Emacs itself reads nothing of the user's (the script isolates the server too).
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    for var in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env(var, home.path().join(var.to_lowercase()));
    }

    let run = common::editor::run_logged(cmd, &log_path, RUN_LIMIT);
    if run.output.lines().any(|l| l.starts_with(NO_EGLOT)) {
        return skip(&format!("{} cannot load Eglot", emacs.display()));
    }
    run.assert_passed("Emacs", "emacs_eglot_end_to_end");
}
