//! A sequence of edits applied both to a `Document` and to a plain `String` whose positions
//! are converted by an independent oracle that follows the LSP rules:
//! - lines end at "\n", "\r\n" or "\r";
//! - `character` counts UTF-8 bytes, UTF-16 code units or Unicode scalar values;
//! - a character past the end of its line clamps to the line end (before its line ending);
//! - a position inside a multi-unit character (a surrogate pair, a multi-byte sequence)
//!   moves to that character's start;
//! - a line past the last one clamps to the end of the document (`offset` says `None`);
//! - a range whose start is after its end is rejected and leaves the text alone.
//!
//! After every edit the texts must be equal, the replaced ranges must agree, and
//! `offset`/`position` must agree with the oracle and round-trip on char boundaries.
#![no_main]

use arbitrary::Arbitrary;
use calcinosis_ls::document::{Document, Encoding, Position};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Enc {
    Utf8,
    Utf16,
    Utf32,
}

impl Enc {
    fn lib(self) -> Encoding {
        match self {
            Enc::Utf8 => Encoding::Utf8,
            Enc::Utf16 => Encoding::Utf16,
            Enc::Utf32 => Encoding::Utf32,
        }
    }

    /// How many code units `c` takes, written independently of the library.
    fn units(self, c: char) -> usize {
        let mut buf = [0u16; 2];
        match self {
            Enc::Utf8 => c.to_string().len(),
            Enc::Utf16 => c.encode_utf16(&mut buf).len(),
            Enc::Utf32 => 1,
        }
    }
}

/// A coordinate: mostly small (to land inside the text), sometimes anything.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Coord {
    Small(u8),
    Any(u32),
}

impl Coord {
    fn get(self) -> u32 {
        match self {
            Coord::Small(n) => u32::from(n % 24),
            Coord::Any(n) => n,
        }
    }
}

#[derive(Debug, Clone, Copy, Arbitrary)]
struct Pos {
    line: Coord,
    character: Coord,
}

impl Pos {
    fn get(self) -> Position {
        Position::new(self.line.get(), self.character.get())
    }
}

/// Pieces of inserted text, biased towards line endings and multi-unit characters.
#[derive(Debug, Clone, Arbitrary)]
enum Piece {
    Raw(String),
    Lf,
    Cr,
    CrLf,
    /// U+00E9, 2 bytes, 1 UTF-16 unit.
    Two,
    /// U+4E2D, 3 bytes, 1 UTF-16 unit.
    Three,
    /// U+1F600, 4 bytes, a surrogate pair.
    Four,
    Ascii(u8),
}

fn render(pieces: &[Piece]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Raw(t) => s.push_str(t),
            Piece::Lf => s.push('\n'),
            Piece::Cr => s.push('\r'),
            Piece::CrLf => s.push_str("\r\n"),
            Piece::Two => s.push('\u{e9}'),
            Piece::Three => s.push('\u{4e2d}'),
            Piece::Four => s.push('\u{1f600}'),
            Piece::Ascii(b) => s.push(char::from(b'a' + b % 26)),
        }
    }
    s
}

#[derive(Debug, Clone, Arbitrary)]
struct Edit {
    /// `None` replaces the whole document.
    range: Option<(Pos, Pos)>,
    text: Vec<Piece>,
    enc: Enc,
    /// Positions and offsets to query after this edit.
    probes: Vec<(Pos, u16)>,
}

#[derive(Debug, Clone, Arbitrary)]
struct Input {
    initial: Vec<Piece>,
    edits: Vec<Edit>,
}

/// Lines as `(start, end of content)` byte offsets: the oracle's own split.
fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\r' if chars.peek().map(|&(_, n)| n) == Some('\n') => {
                chars.next();
                out.push((start, i));
                start = i + 2;
            }
            '\r' | '\n' => {
                out.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push((start, text.len()));
    out
}

/// The oracle's byte offset of `pos`, `None` if the line is past the end.
fn oracle_offset(text: &str, pos: Position, enc: Enc) -> Option<usize> {
    let &(start, end) = lines(text).get(pos.line as usize)?;
    // For every code unit of the line, the byte offset of the character holding it.
    let mut unit_owner = Vec::new();
    for (i, c) in text[start..end].char_indices() {
        for _ in 0..enc.units(c) {
            unit_owner.push(start + i);
        }
    }
    Some(
        unit_owner
            .get(pos.character as usize)
            .copied()
            .unwrap_or(end),
    )
}

/// The oracle's position of a char-boundary offset that is not between "\r" and "\n".
fn oracle_position(text: &str, offset: usize, enc: Enc) -> Position {
    let all = lines(text);
    let line = all
        .iter()
        .rposition(|&(s, _)| s <= offset)
        .expect("line 0 starts at 0");
    let start = all[line].0;
    let character: usize = text[start..offset].chars().map(|c| enc.units(c)).sum();
    Position::new(line as u32, character as u32)
}

fn inside_crlf(text: &str, offset: usize) -> bool {
    offset > 0
        && text.as_bytes().get(offset - 1) == Some(&b'\r')
        && text.as_bytes().get(offset) == Some(&b'\n')
}

fn check_queries(doc: &Document, oracle: &str, probes: &[(Pos, u16)]) {
    let text = doc.text();
    assert_eq!(
        doc.line_count(),
        lines(oracle).len(),
        "line count of {oracle:?}"
    );
    for enc in [Enc::Utf8, Enc::Utf16, Enc::Utf32] {
        // Probed positions and offsets.
        for &(pos, off) in probes {
            let pos = pos.get();
            let got = doc.offset(pos, enc.lib());
            let want = oracle_offset(oracle, pos, enc);
            assert_eq!(got, want, "offset({pos:?}, {enc:?}) in {oracle:?}");
            assert_eq!(
                doc.offset_clamped(pos, enc.lib()),
                want.unwrap_or(oracle.len()),
                "offset_clamped({pos:?}, {enc:?}) in {oracle:?}"
            );
            let off = usize::from(off);
            let p = doc.position(off, enc.lib());
            let mut floor = off.min(text.len());
            while !text.is_char_boundary(floor) {
                floor -= 1;
            }
            if !inside_crlf(text, floor) {
                assert_eq!(
                    p,
                    oracle_position(oracle, floor, enc),
                    "position({off}, {enc:?}) in {oracle:?}"
                );
            }
        }
        // Round trips on char boundaries: all of them for short texts, a sample otherwise.
        let step = (text.len() / 128).max(1);
        for off in (0..=text.len()).step_by(step) {
            if !text.is_char_boundary(off) || inside_crlf(text, off) {
                continue;
            }
            let p = doc.position(off, enc.lib());
            assert_eq!(
                p,
                oracle_position(oracle, off, enc),
                "position({off}, {enc:?}) in {oracle:?}"
            );
            assert_eq!(
                doc.offset(p, enc.lib()),
                Some(off),
                "offset(position({off})) = offset({p:?}, {enc:?}) in {oracle:?}"
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let initial = render(&input.initial);
    let mut doc = Document::new(initial.clone());
    let mut oracle = initial;
    assert_eq!(doc.text(), oracle);
    check_queries(&doc, &oracle, &[]);
    for edit in input.edits.iter().take(64) {
        let new_text = render(&edit.text);
        let range = edit.range.map(|(s, e)| (s.get(), e.get()));
        let got = doc.apply(range, &new_text, edit.enc.lib());
        match range {
            None => {
                assert_eq!(got, Ok(0..oracle.len()), "whole-document edit");
                oracle = new_text;
            }
            Some((s, e)) if (s.line, s.character) > (e.line, e.character) => {
                assert!(got.is_err(), "reversed range {s:?}..{e:?} accepted");
            }
            Some((s, e)) => {
                let so = oracle_offset(&oracle, s, edit.enc).unwrap_or(oracle.len());
                let eo = oracle_offset(&oracle, e, edit.enc).unwrap_or(oracle.len());
                assert!(so <= eo, "oracle: {s:?}..{e:?} maps to {so}..{eo}");
                assert_eq!(
                    got,
                    Ok(so..eo),
                    "edit {s:?}..{e:?} ({:?}) of {oracle:?}",
                    edit.enc
                );
                oracle.replace_range(so..eo, &new_text);
            }
        }
        assert_eq!(doc.text(), oracle, "text after {edit:?}");
        check_queries(&doc, &oracle, &edit.probes);
    }
});
