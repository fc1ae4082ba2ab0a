//! Running a real editor's end-to-end script (Neovim, Emacs): start it with its output in
//! a log file, wait at most a limit, and check the script's `e2e: N passed, M failed` line.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// `name` in a directory of `PATH`, if there is one.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The first line `path --version` prints (trimmed), or why it cannot be run.
pub fn version_line(path: &Path) -> Result<String, String> {
    let out = Command::new(path)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// What one editor run left: its exit status (`None`: killed at the limit), its output and
/// how long it took.
pub struct EditorRun {
    pub status: Option<ExitStatus>,
    pub output: String,
    pub elapsed: Duration,
}

/// Runs `cmd` (whose stdout and stderr go to `log`), killing it after `limit`.
pub fn run_logged(mut cmd: Command, log: &Path, limit: Duration) -> EditorRun {
    let started = Instant::now();
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the editor") {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let mut output = String::new();
    std::fs::File::open(log)
        .and_then(|mut f| f.read_to_string(&mut output))
        .expect("read the editor's output");
    EditorRun {
        status,
        output,
        elapsed,
    }
}

impl EditorRun {
    /// Prints the run (its summary past the harness's capture) and asserts that the script
    /// ended on time, successfully, with a summary line that counts no failure.
    pub fn assert_passed(&self, editor: &str, test: &str) {
        let summary = self
            .output
            .lines()
            .find(|l| l.starts_with("e2e: "))
            .unwrap_or("no summary line");
        let secs = self.elapsed.as_secs_f64();
        let _ = writeln!(
            std::io::stderr(),
            "{test}: {editor} run took {secs:.2} s ({summary})"
        );
        let output = &self.output;
        println!("{output}");
        match self.status {
            None => panic!("{editor} did not finish in time; output so far:\n{output}"),
            Some(s) if !s.success() => {
                panic!("{editor} end-to-end test failed ({s}) after {secs:.2} s:\n{output}")
            }
            Some(_) => {}
        }
        assert!(
            summary.starts_with("e2e: ") && summary.contains(", 0 failed"),
            "no passing summary line in {editor}'s output:\n{output}"
        );
    }
}
