//! A TOML file cut at its table headers, so that a large file (a user lexicon of 100,000
//! `[[term]]` tables) is parsed one table at a time: the `toml` crate holds a whole document
//! in about 25 times its size while it parses it (a 12 MB lexicon peaked at 320 MB).
//!
//! Cutting is safe by construction, not by a full TOML lexer: a cut is made only at a line
//! that looks like a header and is outside any multi-line string as far as a simple count
//! of `"""` and `'''` can tell. Where that guess is wrong, the cut lands inside a string or
//! an array, the piece before it does not parse, and the caller parses the whole file
//! instead (see [`parse_in_chunks`]), which gives TOML's own answer and error.

use serde::de::DeserializeOwned;

/// One piece of a TOML file: a table header and its keys (or, first, the keys before any
/// header), with its byte offset in the file.
pub struct Chunk<'a> {
    /// Where the piece starts in the file (for line numbers).
    pub offset: usize,
    /// The piece itself.
    pub text: &'a str,
}

/// The pieces of `source`, in order; together they are exactly `source`.
pub fn chunks(source: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_basic = false; // inside """ … """
    let mut in_literal = false; // inside ''' … '''
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        if !in_basic && !in_literal && line_start > start && is_header(line) {
            out.push(Chunk {
                offset: start,
                text: &source[start..line_start],
            });
            start = line_start;
        }
        // Toggle on every delimiter of the kind that can open a string here.
        let mut rest = line;
        loop {
            let basic = rest.find("\"\"\"");
            let literal = rest.find("'''");
            let (at, is_basic) = match (basic, literal) {
                (Some(b), Some(l)) => (b.min(l), b < l),
                (Some(b), None) => (b, true),
                (None, Some(l)) => (l, false),
                (None, None) => break,
            };
            if is_basic && !in_literal {
                in_basic = !in_basic;
            } else if !is_basic && !in_basic {
                in_literal = !in_literal;
            }
            rest = &rest[at + 3..];
        }
        line_start += line.len();
    }
    if start < source.len() || out.is_empty() {
        out.push(Chunk {
            offset: start,
            text: &source[start..],
        });
    }
    out
}

/// Whether `line` is a table or array-of-tables header: `[name]`, `[[name]]`, with dotted
/// or quoted keys, an optional comment after it.
fn is_header(line: &str) -> bool {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let (inner, after) = match rest.strip_prefix('[') {
        Some(r) => match r.find("]]") {
            Some(end) => (&r[..end], &r[end + 2..]),
            None => return false,
        },
        None => match rest.find(']') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => return false,
        },
    };
    let after = after.trim_start();
    !inner.trim().is_empty()
        && inner
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '"' | '\''))
        && (after.is_empty() || after.starts_with('#'))
}

/// Parses `source` one chunk at a time, handing each parsed chunk to `each` with its
/// offset. Returns `Ok(false)` when a chunk does not parse on its own, or when `each`
/// returns `Ok(false)` (a table seen in two chunks, which the whole file would reject): the
/// caller then undoes what `each` did and parses the whole file. An error from `each` (a
/// validation error) is returned as it is.
pub fn parse_in_chunks<T: DeserializeOwned, E>(
    source: &str,
    mut each: impl FnMut(usize, T) -> Result<bool, E>,
) -> Result<bool, E> {
    for chunk in chunks(source) {
        match toml::from_str::<T>(chunk.text) {
            Ok(def) => {
                if !each(chunk.offset, def)? {
                    return Ok(false);
                }
            }
            Err(_) => return Ok(false),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<&str> {
        chunks(source).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn cuts_at_headers_and_keeps_every_byte() {
        let src = "# top\nx = 1\n[[term]]\nname = \"a\"\n\n  [[ term ]] # two\nname = \"b\"\n[fuzzy]\nignore = []\n";
        let got = texts(src);
        assert_eq!(got.len(), 4);
        assert_eq!(got.concat(), src);
        assert!(got[1].starts_with("[[term]]"));
        assert!(got[2].starts_with("  [[ term ]] # two"));
        assert!(got[3].starts_with("[fuzzy]"));
        let offsets: Vec<usize> = chunks(src).iter().map(|c| c.offset).collect();
        assert_eq!(offsets[1], src.find("[[term]]").unwrap());
    }

    #[test]
    fn no_cut_inside_multi_line_strings_or_at_array_items() {
        let src = "[[term]]\ndescription = \"\"\"\n[[term]]\n\"\"\"\nq = '''\n[x]\n'''\nsynonyms = [\n  \"a\",\n]\n[[term]]\n";
        let got = texts(src);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got.concat(), src);
        assert!(!is_header("[1, 2],"));
        assert!(!is_header("[\"a\", \"b\"]"));
        assert!(is_header("[a.\"b c\"]"));
        assert!(!is_header("[]"));
        assert!(texts("").concat().is_empty());
    }

    #[test]
    fn a_wrong_guess_falls_back_to_the_whole_file() {
        // A `"""` in a literal string fools the count; the cut then lands inside the real
        // multi-line string, and the chunk before it does not parse.
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Any {
            #[serde(flatten)]
            rest: toml::Table,
        }
        let src = "a = '\"\"\"'\nb = \"\"\"\n[x]\n\"\"\"\n";
        let whole: toml::Table = toml::from_str(src).unwrap();
        assert_eq!(whole["b"].as_str(), Some("[x]\n"));
        let done = parse_in_chunks::<Any, ()>(src, |_, _| Ok(true)).unwrap();
        assert!(!done);
    }
}
