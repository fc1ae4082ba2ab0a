//! Commands that wait on a terminal say so: run on a real pseudo-terminal (python3's `pty`
//! module), as a person who typed the command sees them, and with pipes, as an editor or a
//! script runs them (nothing said there).

mod common;

use std::process::Command;

use common::cli::run;

/// Starts the binary with `args` on a new pseudo-terminal (stdin, stdout and stderr, with
/// `TERM` set as a terminal emulator sets it) and plays `steps`: each types its text, then
/// waits until what the terminal showed holds its marker as many times as it says, or its
/// seconds have passed. Then Ctrl-D. Returns everything the terminal showed and the exit
/// status ("exit N", or "hung" when it did not end within 10 s of Ctrl-D).
const ON_A_PTY: &str = r#"
import json, os, pty, select, subprocess, sys, time
exe, steps = sys.argv[1], json.loads(sys.argv[2])
args = sys.argv[3:]
m, s = pty.openpty()
p = subprocess.Popen([exe] + args, stdin=s, stdout=s, stderr=s, close_fds=True)
os.close(s)
out = bytearray()
def pump(secs, marker=None, count=0):
    end = time.time() + secs
    while time.time() < end:
        if marker and out.count(marker.encode()) >= count:
            return
        r, _, _ = select.select([m], [], [], 0.05)
        if r:
            try:
                d = os.read(m, 65536)
            except OSError:
                return
            if not d:
                return
            out.extend(d)
for typed, secs, marker, count in steps:
    if typed:
        os.write(m, typed.encode())
    pump(secs, marker, count)
os.write(m, b"\x04")
end = time.time() + 10
while p.poll() is None and time.time() < end:
    pump(0.1)
pump(0.2)
status = "hung" if p.poll() is None else "exit %d" % p.returncode
if p.poll() is None:
    p.kill()
sys.stdout.buffer.write(bytes(out))
sys.stdout.write("\n[" + status + "]\n")
"#;

/// One step of a session on a pseudo-terminal: what is typed, then how long to wait at
/// most, and for how many times a marker to be shown (`""`, 0: the whole wait).
type Step<'a> = (&'a str, f64, &'a str, usize);

fn on_a_pty_steps(args: &[&str], steps: &[Step]) -> String {
    let steps = serde_json::to_string(steps).expect("steps are plain strings and numbers");
    let o = Command::new("python3")
        .arg("-c")
        .arg(ON_A_PTY)
        .arg(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .arg(steps)
        .args(args)
        .env("TERM", "xterm-256color")
        .output()
        .expect("python3 is needed to run a command on a pseudo-terminal");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits `wait` seconds, types `typed` (and waits 0.3 s more), then Ctrl-D.
fn on_a_pty(args: &[&str], wait: f64, typed: &str) -> String {
    on_a_pty_steps(args, &[("", wait, "", 0), (typed, 0.3, "", 0)])
}

#[test]
fn the_language_server_on_a_terminal_says_what_it_waits_for_and_how_to_leave() {
    let shown = on_a_pty(&[], 1.5, "");
    assert!(
        shown.contains("language server") && shown.contains("waits for an editor"),
        "{shown}"
    );
    assert!(
        shown.contains("Ctrl-D") && shown.contains("Ctrl-C") && shown.contains("--help"),
        "{shown}"
    );
    // One line, said once, and Ctrl-D leaves as it says (with status 1, as the protocol
    // asks of a server whose input ends before `shutdown`).
    assert_eq!(shown.matches("language server").count(), 1, "{shown}");
    assert!(!shown.contains("[hung]"), "{shown}");
}

#[test]
fn check_on_a_terminal_says_it_reads_a_note_and_how_to_end_it() {
    // Typed after a second: the progress line has been drawn by then.
    let shown = on_a_pty(&["check"], 1.0, "Calcinosis cutis on the elbow.\n");
    assert!(
        shown.contains("reading a note from stdin") && shown.contains("Ctrl-D"),
        "{shown}"
    );
    // The note was checked once Ctrl-D ended it.
    assert!(shown.contains("calcinosis"), "{shown}");
    assert!(shown.contains("[exit 0]"), "{shown}");
    // The progress line has units, and a summary ends the run.
    assert!(
        shown.contains("notes") && shown.contains("MB/s") && shown.contains("notes/s"),
        "{shown}"
    );
    assert!(shown.contains("analysed 1 of 1 notes"), "{shown}");
    assert!(
        shown.contains("0 could not be analysed, 0 skipped"),
        "{shown}"
    );
}

#[test]
fn check_of_records_on_a_terminal_says_it_reads_records() {
    let shown = on_a_pty(
        &["check", "--input", "jsonl", "--format", "jsonl"],
        0.5,
        "{\"id\": 1, \"text\": \"Denies RP.\"}\n",
    );
    assert!(
        shown.contains("reading JSON Lines records from stdin") && shown.contains("Ctrl-D"),
        "{shown}"
    );
    assert!(shown.contains("\"assertion\":\"negated\""), "{shown}");
    assert!(shown.contains("analysed 1 of 1 notes"), "{shown}");
}

#[test]
fn check_of_named_files_on_a_terminal_ends_with_a_summary_and_says_nothing_of_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "Calcinosis cutis on the elbow.\n").unwrap();
    std::fs::write(&b, "No Raynaud phenomenon.\n").unwrap();
    let shown = on_a_pty(
        &["check", a.to_str().unwrap(), b.to_str().unwrap()],
        0.0,
        "",
    );
    assert!(!shown.contains("reading a note"), "{shown}");
    assert!(shown.contains("analysed 2 of 2 notes"), "{shown}");
}

#[test]
fn nothing_is_said_when_stdin_is_not_a_terminal() {
    // An editor starts the server with pipes: it ends at the end of its input, silently.
    let o = run(&[], Some(b""));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("language server"), "{err}");
    let o = run(&["check"], Some(b"Calcinosis cutis on the elbow.\n"));
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.is_empty(), "{err}");
}

#[test]
fn the_ask_prompt_edits_lines_recalls_questions_and_goes_on_after_an_empty_line() {
    // Typed as a person types: a slip fixed with the left arrow ("asociated" → "associated",
    // seven characters back), End, another fixed with backspace; Enter. Then an empty line,
    // which asks nothing and no longer ends the prompt; then ↑ and Enter ask the question
    // again from the history. Ctrl-D leaves.
    let asked = "\"asked\":\"what is calcinosis associated with in juvenile dermatomyositis\"";
    let shown = on_a_pty_steps(
        &["ask", "--explain"],
        &[
            ("", 10.0, "> ", 1),
            (
                "what is calcinosis asociated\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[Ds\x05 with in \
                 juvenile dermatomyositiz\x7fs\r",
                20.0,
                "Terms:",
                1,
            ),
            // Each keystroke waits for its prompt: typed before the line editor is back in
            // raw mode, it would be read as a cooked line or dropped. The editor turns on
            // bracketed paste ("ESC [?2004h") once per prompt.
            ("", 20.0, "[?2004h", 2),
            ("\r", 20.0, "[?2004h", 3),
            ("\x1b[A\r", 20.0, "Terms:", 2),
            // Ctrl-D (sent last) too waits for its prompt.
            ("", 20.0, "[?2004h", 4),
        ],
    );
    assert!(
        shown.contains("Ctrl-D") && shown.contains("quit") && shown.contains("in memory only"),
        "{shown}"
    );
    // Both questions were asked as edited, and answered from the statements.
    assert_eq!(shown.matches(asked).count(), 2, "{shown}");
    assert!(
        shown.matches("(source 1 of the seed document)").count() >= 2,
        "{shown}"
    );
    assert!(!shown.contains("asociated\""), "{shown}");
    assert!(shown.contains("[exit 0]"), "{shown}");
}

#[test]
fn the_ask_prompt_ends_at_quit() {
    let shown = on_a_pty_steps(&["ask"], &[("", 10.0, "> ", 1), ("quit\r", 5.0, "[", 99)]);
    assert!(shown.contains("[exit 0]"), "{shown}");
    assert!(!shown.contains("Sources:"), "{shown}");
}

#[test]
fn ask_reads_piped_questions_line_by_line_as_before() {
    // Not a terminal: no banner, no prompt, and a blank line asks nothing (`[]` in JSON).
    let o = run(
        &["ask", "--format", "json"],
        Some(b"anticentromere\n\ncalcinosis\n"),
    );
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[1], "[]");
    assert!(
        !out.contains("Ask about calcinosis") && !out.contains("> "),
        "{out}"
    );
}

#[test]
fn ask_typed_on_a_terminal_with_answers_to_a_file_writes_no_escape_codes_there() {
    // `calcinosis-ls ask > answers.txt`: the questions come from the terminal, the answers go
    // elsewhere. The line editor would draw its prompt and escape sequences into the file,
    // so the questions are read a line at a time; an empty line asks nothing there too.
    const STDIN_ONLY: &str = r#"
import os, pty, subprocess, sys, time
m, s = pty.openpty()
p = subprocess.Popen([sys.argv[1], "ask"], stdin=s, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, close_fds=True)
os.close(s)
os.write(m, b"anticentromere\n\nanticentromere\n")
time.sleep(0.5)
os.write(m, b"\x04")
try:
    out, _ = p.communicate(timeout=20)
    sys.stdout.buffer.write(out + b"\n[exit %d]\n" % p.returncode)
except subprocess.TimeoutExpired:
    p.kill()
    sys.stdout.write("[hung]\n")
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(STDIN_ONLY)
        .arg(env!("CARGO_BIN_EXE_calcinosis-ls"))
        .env("TERM", "xterm-256color")
        .output()
        .expect("python3 is needed to run a command on a pseudo-terminal");
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert_eq!(shown.matches("Sources:").count(), 2, "{shown}");
    assert!(shown.contains("[exit 0]"), "{shown}");
}
