//! Bounds on what a user can hand the engine, in one place: memory must stay in
//! proportion to an answer, never to a hostile input's size (or its square).

/// Longest question read, in bytes; the rest is ignored. A question is a sentence or
/// two: 2 KB holds about 300 words, and the ranking cost grows with every word.
pub const MAX_QUESTION_BYTES: usize = 2048;

/// Questions `ask`'s interactive prompt recalls with ↑ (in memory only, never written to
/// a file): a session's worth, a few hundred kilobytes at most.
pub const MAX_PROMPT_HISTORY: usize = 100;

/// Most results a question may ask for.
pub const MAX_RESULTS: usize = 100;

/// Largest note `check` analyses, in bytes (a file, stdin, or one JSON Lines record's
/// line). Clinical notes are kilobytes; past this a note is reported as an error and the
/// run goes on. Analysis takes up to ~8 bytes of memory per byte of a note dense with
/// findings, so one note at this size stays near 200 MB (BENCHMARKS.md, "Hostile pass:
/// command line").
pub const MAX_NOTE_BYTES: usize = 24 << 20;

/// Mentions marked up in one note of `check --format html` (each `<mark>` carries its
/// assertion, letter, term and trigger: ~150 bytes for a mention of a few letters). A
/// clinical note has tens; a 4.4 MB note of nothing but "Denies RP." has 800,000, and marking
/// them all took 162 MB and wrote 64 MB. Past this the text is written plain; the chart's
/// cells still count every mention.
pub const MAX_MARKED_MENTIONS: usize = 10_000;

/// Bytes of notes `check` holds at once between reading and writing them (the reader waits
/// for the writer past it). A note larger than what is left waits until nothing else is in
/// flight, so memory follows one large note, never `--jobs` of them.
pub const IN_FLIGHT_NOTE_BYTES: usize = MAX_NOTE_BYTES;

/// Most notes `check`'s reader hands the pool at once. Handing notes over one at a time
/// (a gate entry, a pool task and a channel message each) cost a tenth of a run of short
/// notes (BENCHMARKS.md, "Analysis and batch throughput (#24)"); a group is also handed over
/// as soon as the reader would wait for input, so a note typed into a pipe is still answered
/// at once.
pub const CHECK_GROUP_NOTES: usize = 64;

/// Most bytes of note text in one group handed to the pool (see [`CHECK_GROUP_NOTES`]); a
/// note larger than what is left goes in a group of its own, so a group never holds more
/// than this or one note. Small enough that two cores get work from the first 128 KB of
/// input, and that the reports of the groups in flight stay a few megabytes.
pub const CHECK_GROUP_BYTES: usize = 64 << 10;

/// Notes of at least this size are rendered by the writer straight to the output, a piece
/// at a time, instead of into a buffer on the pool: a dense note's JSON report is ~16 times the
/// note, and the reports of a window of notes waiting behind a slow one would otherwise be
/// held whole (at this size, at most ~4 MB each). Smaller notes (nearly all: clinical notes
/// are kilobytes) keep the parallel path.
pub const STREAMED_NOTE_BYTES: usize = 256 << 10;

/// Most notes analysed in parallel by `check --jobs`: more threads than this only cost
/// memory and start-up time (`--jobs 10000` took 70 s for 200 notes).
pub const MAX_JOBS: usize = 256;

/// Longest record name (a JSON Lines id) repeated on each line of `check`'s text output,
/// in characters; longer ones are cut with `…` (`--id-field text` would otherwise repeat a
/// whole note on every finding).
pub const MAX_NAME_CHARS: usize = 80;
/// Largest corpus file read (a statements `.md`, a lexicon or rules `.toml`), in bytes. The
/// default corpus's largest file is 20 KB; 16 MiB holds a textbook's worth of statements.
/// Without a cap a 1 GiB file was read whole (1.04 GB of memory). Checked on the opened
/// file before a byte is read, so a huge (or sparse) file is refused at once.
pub const MAX_CORPUS_FILE_BYTES: u64 = 16 << 20;

/// Most bytes of names, synonyms and abbreviations a lexicon (all its files together) may
/// list. The term matcher's automaton has about one state per byte of them: 15,000 terms
/// of 200 bytes (3 MB) took 1.64 GB with a DFA, 213 MB with an NFA, and 15 MB of them
/// 855 MB and 25 s. 4 MiB keeps a lexicon's load under 300 MB and holds a 100,000-term
/// lexicon of ordinary names (2.9 MB).
pub const MAX_LEXICON_FORM_BYTES: usize = 4 << 20;

/// Largest index marker (`calcinosis-ls-index.json`) read, in bytes. Ours is under 1 KB:
/// a few fields and the names of the folders this program made, which are pruned at
/// every build. A marker linked to `/dev/zero` was read until memory ran out.
pub const MAX_MARKER_BYTES: u64 = 1 << 20;

/// Largest stamp file (the proof, inside a folder of an index directory, that this
/// program made it) read, in bytes. Ours is one short line.
pub const MAX_STAMP_BYTES: u64 = 4096;

/// Largest `meta.json` of an index generation let through to tantivy, which reads it
/// whole. Ours lists one segment in about 1 KB; 16 MiB would list thousands.
pub const MAX_INDEX_META_BYTES: u64 = 16 << 20;

/// Largest single file of an index generation opened (or, for a read-only index, read
/// into memory). Segments grow with the corpus, which [`MAX_CORPUS_FILE_BYTES`] bounds per
/// file; the default corpus's largest segment file is a few KB.
pub const MAX_INDEX_FILE_BYTES: u64 = 1 << 30;

/// Most code actions offered for one request. A lightbulb menu is read by a person: a
/// hundred entries is already more than anyone scrolls, and "Select All" over a 3 MB note
/// once produced 219,510 actions (648 MB).
pub const MAX_CODE_ACTIONS: usize = 100;

/// Code actions are offered only for findings within this many bytes of the requested
/// range's start (a paragraph or two): an editor asks for the cursor's line or the
/// selection, and what a person acts on is where the selection begins.
pub const CODE_ACTION_SPAN_BYTES: usize = 4096;

/// How long a knowledge-base build (corpus and index, from the editor's settings) may go
/// without passing a checkpoint (a file, a segment, a term) before it is given up: a named
/// pipe or a hung network drive in the index directory would otherwise stall it forever.
/// Generous: a checkpoint passes every few milliseconds in a healthy build.
pub const BUILD_STALL: std::time::Duration = std::time::Duration::from_secs(20);

/// How long `shutdown` waits for a cancelled index build to stop at its next checkpoint and
/// remove its half-built folder. Well under a second: a client waits for the answer.
pub const SHUTDOWN_BUILD_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A document whose last diagnostics run (analysis and diagnostics together) took less
/// than this is analysed again as soon as it changes, with no wait: a 100-line note takes
/// ~0.3 ms and a 1,000-line one ~2 ms (BENCHMARKS.md, "Server latency (#24)"), so waiting
/// to coalesce keystrokes would only delay them. Slower documents wait as long as their
/// last run took, at most `diagnostics.debounceMs`, and keystrokes during a run are
/// coalesced into the next one whatever the document's speed.
pub const FAST_ANALYSIS: std::time::Duration = std::time::Duration::from_millis(5);

/// `text` cut to at most `max` bytes, at a character boundary (and, where one is near, at
/// a word boundary, so that no half word is searched for).
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &text[..end];
    match cut.rfind(char::is_whitespace) {
        Some(space) if space > end / 2 => &cut[..space],
        _ => cut,
    }
}

/// A question bounded by [`MAX_QUESTION_BYTES`].
pub fn question(text: &str) -> &str {
    truncate(text, MAX_QUESTION_BYTES)
}

/// Longest `pattern` (a regular expression in `lexicon.toml` or `context.toml`), in bytes
/// of its source. A rule names a lab value, an interval or a site: a few dozen bytes. A
/// longer one is refused when the corpus loads, before it is compiled (a 100,000-literal
/// alternation is 1 MB of source).
pub const MAX_PATTERN_BYTES: usize = 4096;

/// Most `pattern` entries of one kind (lexicon terms, or assertion rules) in a corpus,
/// counted before any is compiled. Loading checks each (parse and NFA) and compiles all
/// into one set: 0.4–0.55 s and 45–55 MB for 1,000 patterns (BENCHMARKS.md, "#27 Patterns"), so
/// that the largest corpus allowed loads in about a second. Each pattern the set reports in
/// a note is then compiled once more on its own (its position and `value` group).
pub const MAX_PATTERNS: usize = 2_000;

/// The compiled size allowed to one pattern (`regex`'s `size_limit`): past it the pattern
/// is refused with its file and line. `x{1000}{1000}` or a class repeated thousands of times
/// compiles to megabytes; a clinical pattern to a few kilobytes.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The lazy DFA cache of one pattern (`regex`'s `dfa_size_limit`), per searching thread.
/// Past it the search goes on in the slower, still linear, NFA: memory stays bounded. Small,
/// because every pattern a note matches keeps a cache per thread: a clinical pattern's DFA
/// has tens of states (a few KB), and [`MAX_PATTERNS`] caches at this size are 32 MB per
/// thread at the very worst, whatever the patterns and the notes.
pub const PATTERN_DFA_SIZE_LIMIT: usize = 16 << 10;

/// The compiled size (the sum of their NFAs, counted as they load) allowed to all patterns
/// of one kind, which are compiled into one `RegexSet` that finds which of them occur in a
/// sentence. 1,000 clinical patterns come to a few MB; compiling the set takes time in
/// proportion, so the bound keeps the largest corpus allowed loading in about a second.
pub const PATTERN_SET_SIZE_LIMIT: usize = 8 << 20;

/// The lazy DFA cache of that set, per searching thread.
pub const PATTERN_SET_DFA_SIZE_LIMIT: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_char_and_word_boundaries() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("calcinosis cutis", 13), "calcinosis");
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("😀😀", 5), "😀");
        let long = "word ".repeat(10_000);
        assert!(question(&long).len() <= MAX_QUESTION_BYTES);
        assert!(question(&long).ends_with("word"));
    }
}
