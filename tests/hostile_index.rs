//! The hostile suite for index directories and corpus files (issue 21: D1, D2, H1, U1,
//! U5, R7). Each test drives the real binary (`index --out`, `ask --index`, `--corpus`,
//! the server's `indexDir`) at a directory someone else has been in, and asserts the bound:
//! what survives byte for byte, the exit status and message, peak memory (`wait4`'s
//! `ru_maxrss`, the server's `VmHWM`) and a generous liveness limit instead of a hang.
//!
//! Children run under an address-space limit (`RLIMIT_AS`, [`AS_LIMIT`]): a regression that
//! reads `/dev/zero` then fails fast on its allocation instead of taking the machine's
//! memory with it.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Client;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_calcinosis-ls");
/// Address space a child may map (enough for the CLI and the server by far).
const AS_LIMIT: u64 = 3 << 30;
/// How long a command may take before it is taken to hang (it should take well under 1 s).
const LIVENESS: Duration = Duration::from_secs(10);
/// The same for loading a large lexicon, which takes seconds in a debug build on a busy
/// machine.
const SLOW_LIVENESS: Duration = Duration::from_secs(60);
/// Peak RSS a refused index directory or corpus file may cost, in kB: the binary's own
/// start-up is ~20 MB.
const REFUSAL_PEAK_KB: u64 = 100 * 1024;

/// What a bounded run of the binary did.
struct Run {
    /// Exit code; `None` if killed (by us at the liveness limit, or by a signal).
    code: Option<i32>,
    timed_out: bool,
    stdout: String,
    stderr: String,
    peak_kb: u64,
    elapsed: Duration,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "code {:?}, timed out {}, peak {} kB, {:?}; stderr: {}",
            self.code, self.timed_out, self.peak_kb, self.elapsed, self.stderr
        )
    }
}

/// Runs the binary with `args`, as user `uid` if given, under [`AS_LIMIT`], killing it
/// after `liveness`; peak RSS from `wait4`.
fn run_bounded(args: &[&str], uid: Option<u32>, liveness: Duration) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let (out, err) = (out_dir.path().join("out"), out_dir.path().join("err"));
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: AS_LIMIT,
                rlim_max: AS_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let child = cmd.spawn().expect("start calcinosis-ls");
    let pid = child.id() as libc::pid_t;
    std::mem::forget(child); // reaped below by wait4, which also gives its peak RSS
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: pid is our own child; status and usage are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if start.elapsed() > liveness && !timed_out {
            timed_out = true;
            // SAFETY: killing our own, not yet reaped, child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Run {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        timed_out,
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        peak_kb: usage.ru_maxrss as u64,
        elapsed: start.elapsed(),
    }
}

fn run(args: &[&str]) -> Run {
    run_bounded(args, None, LIVENESS)
}

fn run_as(args: &[&str], uid: Option<u32>) -> Run {
    run_bounded(args, uid, LIVENESS)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file under `dir` with its contents (links and special files by their kind), to
/// compare a directory before and after.
fn snapshot(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            let what = if t.is_dir() {
                stack.push(e.path());
                "dir".to_string()
            } else if t.is_symlink() {
                format!("link to {:?}", std::fs::read_link(e.path()).unwrap())
            } else if t.is_file() {
                std::fs::read_to_string(e.path()).unwrap_or_else(|_| "binary".into())
            } else {
                "special".to_string()
            };
            out.push((e.path(), what));
        }
    }
    out.sort();
    out
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Builds an index of the default corpus in `dir` and returns its current generation.
fn built(dir: &Path) -> PathBuf {
    let r = run(&["index", "--out", s(dir)]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    dir.join(marker(dir)["generation"].as_str().unwrap())
}

fn marker(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(calcinosis_ls::index::MARKER)).unwrap())
        .unwrap()
}

/// A corpus directory extending the default one with a statement (so that an index of
/// the default corpus is stale for it).
fn extra_corpus(parent: &Path) -> PathBuf {
    let dir = parent.join("extra-corpus");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("extra.md"),
        "# Extra\n\n- Calcinosis of the elbows is fine in this test [1]\n",
    )
    .unwrap();
    dir
}

/// A server with `indexDir` set at initialisation, under [`AS_LIMIT`] (through `prlimit`,
/// which execs it: the pid is the server's).
fn server_with_index(index: &Path) -> Client {
    let limit = format!("--as={AS_LIMIT}");
    let prlimit = Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut c = if prlimit {
        Client::start_with_program("prlimit", &[&limit, BIN, "serve"])
    } else {
        // Without util-linux's prlimit the bound is still asserted (VmHWM), unenforced.
        Client::start_with(&["serve"], &[])
    };
    c.initialize(&[], json!({"indexDir": index}));
    c
}

/// The first error `showMessage` whose text contains `needle`.
fn error_message(c: &mut Client, needle: &str) -> String {
    let m = c.wait_for(needle, |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(needle)
    });
    assert_eq!(m["params"]["type"], 1, "{m}");
    m["params"]["message"].as_str().unwrap().to_string()
}

/// Shuts the server down, which must answer within 1 s (liveness under a hang input).
fn shutdown_promptly(mut c: Client) {
    let start = Instant::now();
    let id = c.request_async("shutdown", Value::Null);
    let r = c.response(id);
    assert!(r.get("error").is_none(), "{r}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "shutdown took {:?}",
        start.elapsed()
    );
    c.notify("exit", Value::Null);
    assert_eq!(c.wait_for_exit("exit"), Some(0));
}

/// D1: a directory holding a README and a user's `.build-cache/` is not an empty index
/// directory; it used to be taken for one and `.build-cache/` deleted, exit 0, no word.
#[test]
fn d1_user_build_cache_folder_survives_every_entry_point() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ix");
    std::fs::create_dir_all(dir.join(".build-cache/objects")).unwrap();
    std::fs::write(dir.join("README.md"), "my index notes").unwrap();
    std::fs::write(dir.join(".build-cache/objects/a.o"), "compiled").unwrap();
    let before = snapshot(&dir);
    for args in [
        vec!["index", "--out", s(&dir)],
        vec!["ask", "--index", s(&dir), "elbows"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.describe());
        assert!(
            r.stderr.contains("holds no calcinosis-ls index") && r.stderr.contains(".build-cache"),
            "the message names what was found: {}",
            r.stderr
        );
        assert_eq!(snapshot(&dir), before, "{args:?} changed the directory");
    }
    let mut c = server_with_index(&dir);
    let m = error_message(&mut c, "holds no calcinosis-ls index");
    assert!(m.contains(".build-cache"), "{m}");
    assert_eq!(snapshot(&dir), before, "the server changed the directory");
    shutdown_promptly(c);
}

/// D2: a user's `gen-photos/` in an index directory survives rebuilds (every `gen-*` was
/// deleted); the rebuild says it left it alone, and removes its own old generations.
#[test]
fn d2_gen_photos_survives_rebuilds_and_only_recorded_stamped_folders_go() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ix");
    let first = built(&dir);
    std::fs::create_dir_all(dir.join("gen-photos/2026")).unwrap();
    std::fs::write(dir.join("gen-photos/2026/elbow.jpg"), "jpeg").unwrap();
    // A folder named like a build of ours, and one named like a generation that carries a
    // copied stamp but is in no record: neither is ours.
    std::fs::create_dir_all(dir.join(".build-old")).unwrap();
    std::fs::create_dir_all(dir.join("gen-copy")).unwrap();
    let id = &first.file_name().unwrap().to_str().unwrap()["gen-".len()..];
    std::fs::write(
        dir.join("gen-copy/.calcinosis-ls-stamp"),
        format!("calcinosis-ls {id}\n"),
    )
    .unwrap();
    let user = |d: &Path| {
        let mut v = snapshot(&d.join("gen-photos"));
        v.extend(snapshot(&d.join(".build-old")));
        v.extend(snapshot(&d.join("gen-copy")));
        v
    };
    let before = user(&dir);

    // Rebuilt on request.
    let r = run(&["index", "--out", s(&dir)]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert_eq!(user(&dir), before);
    assert!(
        r.stderr.contains("left alone") && r.stderr.contains("gen-photos"),
        "{}",
        r.stderr
    );
    assert!(!first.exists(), "our previous generation is removed");
    // Rebuilt because the corpus changed.
    let extra = extra_corpus(tmp.path());
    let r = run(&["--corpus", s(&extra), "ask", "--index", s(&dir), "elbows"]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(r.stderr.contains("rebuilt the index"), "{}", r.stderr);
    assert_eq!(user(&dir), before);
    // Through the server (the default corpus again: stale, rebuilt).
    let mut c = server_with_index(&dir);
    let r = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["elbows", 1]}),
    );
    assert!(r.as_array().is_some_and(|a| !a.is_empty()), "{r}");
    shutdown_promptly(c);
    assert_eq!(user(&dir), before);
    let ours: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("gen-") && n != "gen-photos" && n != "gen-copy")
        .collect();
    assert_eq!(ours.len(), 1, "one generation of ours is left: {ours:?}");
    assert_eq!(marker(&dir)["made"], json!(ours));
    assert!(
        dir.join(&ours[0]).join(".calcinosis-ls-stamp").is_file(),
        "a stamp in every folder of ours"
    );
}

/// Backwards compatibility: a directory written before the record (a marker without
/// `made`, folders without stamps) opens as it is; a rebuild deletes none of its folders
/// and says which it left.
#[test]
fn an_index_without_the_record_opens_and_its_folders_are_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ix");
    let generation = built(&dir);
    let mut m = marker(&dir);
    m.as_object_mut().unwrap().remove("made");
    std::fs::write(
        dir.join(calcinosis_ls::index::MARKER),
        serde_json::to_string(&m).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(generation.join(".calcinosis-ls-stamp")).unwrap();
    std::fs::create_dir(dir.join(".build-abc123")).unwrap();
    let r = run(&["ask", "--index", s(&dir), "elbows"]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(r.stderr.is_empty(), "opened as it is: {}", r.stderr);
    let r = run(&["index", "--out", s(&dir)]);
    assert_eq!(r.code, Some(0), "{}", r.describe());
    let name = generation.file_name().unwrap().to_str().unwrap();
    assert!(
        r.stderr.contains(name) && r.stderr.contains(".build-abc123"),
        "says what it left: {}",
        r.stderr
    );
    assert!(generation.join("meta.json").is_file());
    assert!(dir.join(".build-abc123").is_dir());
}

/// H1: the marker, or a generation's `meta.json`, linked to `/dev/zero` or `/dev/urandom`
/// was read without a bound (2 GB in under a second). Now: refused, naming the file,
/// in little memory, and nothing is changed.
#[test]
fn h1_marker_and_meta_linked_to_devices_are_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    for device in ["/dev/zero", "/dev/urandom"] {
        let dir = tmp.path().join(format!("marker-{}", &device[5..]));
        built(&dir);
        let m = dir.join(calcinosis_ls::index::MARKER);
        std::fs::remove_file(&m).unwrap();
        symlink(device, &m).unwrap();
        let before = snapshot(&dir);
        for args in [
            vec!["ask", "--index", s(&dir), "elbows"],
            vec!["index", "--out", s(&dir)],
        ] {
            let r = run(&args);
            assert_eq!(r.code, Some(2), "{device} {args:?}: {}", r.describe());
            assert!(r.peak_kb < REFUSAL_PEAK_KB, "{}", r.describe());
            assert!(
                r.stderr
                    .contains("calcinosis-ls-index.json is a symbolic link, not a regular file"),
                "{}",
                r.stderr
            );
            assert_eq!(snapshot(&dir), before);
        }

        let dir = tmp.path().join(format!("meta-{}", &device[5..]));
        let generation = built(&dir);
        std::fs::remove_file(generation.join("meta.json")).unwrap();
        symlink(device, generation.join("meta.json")).unwrap();
        let r = run(&["ask", "--index", s(&dir), "elbows"]);
        assert_eq!(r.code, Some(2), "{device}: {}", r.describe());
        assert!(r.peak_kb < REFUSAL_PEAK_KB, "{}", r.describe());
        assert!(
            r.stderr.contains("/meta.json is a symbolic link"),
            "{}",
            r.stderr
        );
    }

    // The server: refused with a message, its memory bounded, still answering.
    let dir = tmp.path().join("server");
    built(&dir);
    let m = dir.join(calcinosis_ls::index::MARKER);
    std::fs::remove_file(&m).unwrap();
    symlink("/dev/zero", &m).unwrap();
    let mut c = server_with_index(&dir);
    error_message(&mut c, "calcinosis-ls-index.json is a symbolic link");
    let peak = c.memory_kb("VmHWM").unwrap();
    assert!(peak < 200 * 1024, "server peak {peak} kB");
    shutdown_promptly(c);
}

/// H1: the marker, `.lock` or a segment as a named pipe hung the process for ever (an
/// open that waits for a writer, or for a reader). Now: a prompt error naming it.
#[test]
fn h1_named_pipes_in_an_index_directory_never_hang() {
    let tmp = tempfile::tempdir().unwrap();
    let marker_fifo = tmp.path().join("marker");
    built(&marker_fifo);
    let m = marker_fifo.join(calcinosis_ls::index::MARKER);
    std::fs::remove_file(&m).unwrap();
    mkfifo(&m);
    let lock_fifo = tmp.path().join("lock");
    built(&lock_fifo);
    std::fs::remove_file(lock_fifo.join(".lock")).unwrap();
    mkfifo(&lock_fifo.join(".lock"));
    let segment_fifo = tmp.path().join("segment");
    let generation = built(&segment_fifo);
    let store = std::fs::read_dir(&generation)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "store"))
        .unwrap();
    std::fs::remove_file(&store).unwrap();
    mkfifo(&store);

    for (dir, args, named) in [
        (
            &marker_fifo,
            "ask",
            "calcinosis-ls-index.json is a named pipe",
        ),
        (
            &marker_fifo,
            "index",
            "calcinosis-ls-index.json is a named pipe",
        ),
        (&lock_fifo, "index", ".lock is a named pipe"),
        (&segment_fifo, "ask", ".store is a named pipe"),
    ] {
        let args = if args == "ask" {
            vec!["ask", "--index", s(dir), "elbows"]
        } else {
            vec!["index", "--out", s(dir)]
        };
        let r = run(&args);
        assert!(!r.timed_out, "{args:?} hung: {}", r.describe());
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.describe());
        assert!(r.stderr.contains(named), "{args:?}: {}", r.stderr);
    }

    // The server: a stale index (another corpus) must be rebuilt, so the lock is taken.
    let mut c = server_with_index(&lock_fifo);
    let extra = extra_corpus(tmp.path());
    c.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"calcinosis": {"corpusDir": extra, "indexDir": lock_fifo}}}),
    );
    error_message(&mut c, ".lock is a named pipe");
    shutdown_promptly(c);
}

/// U1: an index built by another user and made read-only was called "corrupt" (tantivy
/// leaves `meta.json` readable by its owner alone). Run as another user (root runs the
/// child as `nobody`); skipped when not root, where there is no other user to be, or when
/// `nobody` cannot reach the binary.
#[test]
fn u1_read_only_index_of_another_user_opens_and_is_never_called_corrupt() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to run the binary as another user");
        return;
    }
    let nobody = 65534;
    // The binary must be reachable by that user (a clone under /root is not).
    let reachable = Command::new(BIN)
        .arg("--version")
        .uid(nobody)
        .gid(nobody)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !reachable {
        eprintln!("skipped: user {nobody} cannot run {BIN}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = tmp.path().join("ix");
    built(&dir);
    let extra = extra_corpus(tmp.path());
    let chmod = Command::new("chmod")
        .args(["-R", "a-w", s(&dir)])
        .status()
        .unwrap();
    assert!(chmod.success());
    let r = run_as(&["ask", "--index", s(&dir), "elbows"], Some(nobody));
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(r.stdout.contains("elbows"), "{}", r.stdout);
    assert!(!r.stderr.contains("corrupt"), "{}", r.stderr);
    // Stale for this user's corpus, and not theirs to rebuild: said so, not "corrupt".
    let r = run_as(
        &["--corpus", s(&extra), "ask", "--index", s(&dir), "elbows"],
        Some(nobody),
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.stderr.contains("not writable"), "{}", r.stderr);
    assert!(!r.stderr.contains("corrupt"), "{}", r.stderr);
    // An index whose meta.json its owner alone may read (as older versions left it).
    let generation = dir.join(marker(&dir)["generation"].as_str().unwrap());
    std::fs::set_permissions(
        generation.join("meta.json"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    let r = run_as(&["ask", "--index", s(&dir), "elbows"], Some(nobody));
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(
        r.stderr.contains("meta.json") && r.stderr.contains("another user"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("corrupt"), "{}", r.stderr);
}

/// U5: the cache copy of the embedded corpus (go-to-definition) was written to a temporary
/// name made of the fingerprint and the pid, through whatever link was planted there.
#[test]
fn u5_a_link_planted_at_the_cache_copys_temporary_name_is_not_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let uri = "file:///u5.txt";
    let note = "Has lcSSc.\n";
    let definition = |c: &mut Client| {
        c.open(uri, "plaintext", note);
        let def = c.call(
            "textDocument/definition",
            json!({"textDocument": {"uri": uri}, "position": common::pos_of(note, "lcSSc", false)}),
        );
        let path = def["uri"].as_str().and_then(|u| u.strip_prefix("file://"));
        PathBuf::from(path.unwrap_or_else(|| panic!("{def}")))
    };
    // A first server shows where the copy goes (a folder named by the corpus fingerprint).
    let mut c = Client::start_with(&["serve"], &[("XDG_CACHE_HOME", s(&cache))]);
    c.initialize(&[], json!({}));
    let copy = definition(&mut c).parent().unwrap().to_path_buf();
    shutdown_promptly(c);
    std::fs::remove_dir_all(&copy).unwrap();
    // The second one's temporary name (fingerprint and pid) is planted before it copies.
    let mut c = Client::start_with(&["serve"], &[("XDG_CACHE_HOME", s(&cache))]);
    c.initialize(&[], json!({}));
    std::fs::create_dir_all(&copy).unwrap();
    let fp = &copy.file_name().unwrap().to_str().unwrap()["corpus-".len()..];
    symlink(&victim, copy.join(format!(".{fp}.{}.tmp", c.pid()))).unwrap();
    assert!(definition(&mut c).starts_with(&copy));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(copy.join("statements.md"))
        .unwrap()
        .is_file());
    shutdown_promptly(c);
}

/// R7: a corpus file was read whole (a 1 GiB `.md`: 1.04 GB). Now refused before a byte
/// is read, quickly, in little memory, with the limit in the message.
#[test]
fn r7_a_sparse_gigabyte_corpus_file_is_refused_quickly_in_little_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let big = std::fs::File::create(corpus.join("huge.md")).unwrap();
    big.set_len(1 << 30).unwrap();
    let r = run(&["--corpus", s(&corpus), "ask", "elbows"]);
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.peak_kb < REFUSAL_PEAK_KB, "{}", r.describe());
    assert!(
        r.stderr.contains("huge.md") && r.stderr.contains("more than the 16777216 bytes"),
        "{}",
        r.stderr
    );
}

/// R7: what is not a plain file among the corpus files (a named pipe, a device, a loop of
/// links) was skipped without a word, or would block; now each is an error naming it.
#[test]
fn r7_pipes_devices_and_link_loops_among_corpus_files_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, make, says) in [
        ("pipe.md", 0, "is a named pipe (FIFO)"),
        ("zero.md", 1, "is a device"),
        ("loop.md", 2, "is a loop of symbolic links"),
    ] {
        let corpus = tmp.path().join(name);
        std::fs::create_dir(&corpus).unwrap();
        let path = corpus.join(name);
        match make {
            0 => mkfifo(&path),
            1 => symlink("/dev/zero", &path).unwrap(),
            _ => {
                symlink(corpus.join("other.md"), &path).unwrap();
                symlink(&path, corpus.join("other.md")).unwrap();
            }
        }
        let r = run(&["--corpus", s(&corpus), "ask", "elbows"]);
        assert_eq!(r.code, Some(2), "{name}: {}", r.describe());
        assert!(r.peak_kb < REFUSAL_PEAK_KB, "{}", r.describe());
        assert!(
            r.stderr.contains(name) && r.stderr.contains(says),
            "{}",
            r.stderr
        );
    }
}

/// R7: a lexicon of 15,000 terms of 200 bytes (3 MB of names) took 1.64 GB, 8,000 of them
/// about 0.9 GB (its automaton a DFA); one listing more than the documented total of names
/// is refused with the limit in the message.
#[test]
fn r7_a_lexicon_of_huge_terms_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let term = |i: usize| {
        let mut name = format!("t{i} ");
        let mut w = i;
        while name.len() < 196 {
            name.push_str(["calx ", "nodule ", "digit ", "elbow ", "finger "][w % 5]);
            w = w / 5 + name.len();
        }
        name.truncate(200);
        format!(
            "[[term]]\nname = \"{}\"\ncategory = \"site\"\n\n",
            name.trim()
        )
    };
    let corpus = tmp.path().join("big");
    std::fs::create_dir(&corpus).unwrap();
    let toml: String = (0..8_000).map(term).collect();
    std::fs::write(corpus.join("lexicon.toml"), &toml).unwrap();
    let r = run_bounded(
        &["--corpus", s(&corpus), "ask", "elbows"],
        None,
        SLOW_LIVENESS,
    );
    assert_eq!(r.code, Some(0), "{}", r.describe());
    assert!(r.peak_kb < 300 * 1024, "{}", r.describe());

    let corpus = tmp.path().join("too-big");
    std::fs::create_dir(&corpus).unwrap();
    let toml: String = (0..25_000).map(term).collect();
    std::fs::write(corpus.join("lexicon.toml"), &toml).unwrap();
    let r = run_bounded(
        &["--corpus", s(&corpus), "ask", "elbows"],
        None,
        SLOW_LIVENESS,
    );
    assert_eq!(r.code, Some(2), "{}", r.describe());
    assert!(r.peak_kb < 300 * 1024, "{}", r.describe());
    assert!(
        r.stderr.contains("lexicon.toml:") && r.stderr.contains("more than 4194304 bytes"),
        "{}",
        r.stderr
    );
}

/// A settings build still running at `shutdown` is cancelled and cleans up after itself:
/// its half-built `.build-*` folder is removed and dropped from the directory's record,
/// not left for the next build (it was, when the editor closed during a rebuild).
#[test]
fn shutdown_during_a_settings_build_leaves_no_half_built_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ix");
    let corpus = tmp.path().join("big-corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    // Enough statements that the build is still running when shutdown comes.
    for f in 0..6 {
        let mut big = format!("# Big {f}\n\n");
        for i in 0..50_000 {
            big.push_str(&format!(
                "- Calcinosis statement {f} {i} about the elbows [1]\n"
            ));
        }
        std::fs::write(corpus.join(format!("big-{f}.md")), big).unwrap();
    }
    let mut c = Client::start_with(&["serve"], &[]);
    c.initialize(&[], json!({"indexDir": dir, "corpusDir": corpus}));
    // A request lets the client answer the server's progress request, which the build
    // waits for.
    let r = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["elbows", 1]}),
    );
    assert!(r.is_array(), "{r}");
    // Wait until the build has made its folder, so that shutdown meets it running.
    let start = Instant::now();
    let building = || {
        std::fs::read_dir(&dir).ok().is_some_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".build-"))
        })
    };
    while !building() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let listing = || -> Vec<String> {
        std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(building(), "the build never started: {:?}", listing());
    shutdown_promptly(c);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".build-"))
        .collect();
    assert!(left.is_empty(), "half-built folders left: {left:?}");
    let made = marker(&dir)["made"].clone();
    assert!(
        made.as_array().is_some_and(|a| a
            .iter()
            .all(|n| !n.as_str().unwrap_or("").starts_with(".build-"))),
        "the record still names a build: {made}"
    );
}
