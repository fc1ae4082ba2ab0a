//! Bounds on what a user can hand the engine, in one place: memory must stay in
//! proportion to an answer, never to a hostile input's size (or its square).

/// Longest question read, in bytes; the rest is ignored. A question is a sentence or
/// two: 2 KB holds about 300 words, and the ranking cost grows with every word.
pub const MAX_QUESTION_BYTES: usize = 2048;

/// Most results a question may ask for.
pub const MAX_RESULTS: usize = 100;

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
