//! Bounds on what a user can hand the engine, in one place: memory must stay in
//! proportion to an answer, never to a hostile input's size (or its square).

/// Longest question read, in bytes; the rest is ignored. A question is a sentence or
/// two: 2 KB holds about 300 words, and the ranking cost grows with every word.
pub const MAX_QUESTION_BYTES: usize = 2048;

/// Most results a question may ask for.
pub const MAX_RESULTS: usize = 100;

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
