//! Findings in the shapes clinical data lives in, beside `report.rs`'s JSON: FHIR R4
//! resources ([`fhir`]), OMOP CDM v5.4 `NOTE_NLP` rows ([`omop`]) and the self-contained HTML
//! chart report ([`html`]). Each format is made from the report form of a note's findings
//! ([`crate::report::FindingReport`]), the one place that decides a finding's fields, and
//! knows nothing of LSP, the command line or files.

pub mod fhir;
pub mod html;
pub mod omop;

use crate::report::FindingReport;

/// Counts characters up to increasing byte offsets of one text in one walk: FHIR and OMOP
/// count characters, as Python and most databases do, not UTF-8 bytes or UTF-16 units. An
/// offset before the last one restarts the count, never a wrong answer.
#[derive(Debug, Default, Clone)]
pub struct CharCounter {
    at: usize,
    count: usize,
}

impl CharCounter {
    /// The characters of `text` before byte `byte` (clamped to the text).
    pub fn to(&mut self, text: &str, byte: usize) -> usize {
        let byte = byte.min(text.len());
        if byte < self.at {
            *self = CharCounter::default();
        }
        self.count += text.get(self.at..byte).map_or(0, |s| s.chars().count());
        self.at = byte;
        self.count
    }
}

/// Code point offsets of each finding's start and end in `text`, in one walk when the
/// findings are in note order (as [`crate::report::findings`] gives them).
pub fn char_offsets(text: &str, findings: &[FindingReport<'_>]) -> Vec<(usize, usize)> {
    let mut counter = CharCounter::default();
    findings
        .iter()
        .map(|f| {
            let start = counter.to(text, f.bytes.start);
            (start, counter.to(text, f.bytes.end))
        })
        .collect()
}

/// `s` cut to at most `max` characters (never inside one).
pub(crate) fn at_most_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((cut, _)) => &s[..cut],
        None => s,
    }
}

/// The calendar date and time (UTC) of `secs` seconds since the Unix epoch, as
/// `(year, month, day, hour, minute, second)`: the run's date for OMOP's `nlp_date`, computed
/// here rather than with a date library (Howard Hinnant's `civil_from_days`).
pub fn utc_civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(utc_civil(0), (1970, 1, 1, 0, 0, 0));
        // 2000-02-29 (a leap day in a century year), 2024-12-31 23:59:59.
        assert_eq!(utc_civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(utc_civil(1_735_689_599), (2024, 12, 31, 23, 59, 59));
        assert_eq!(utc_civil(1_735_689_600), (2025, 1, 1, 0, 0, 0));
    }

    #[test]
    fn cut_at_characters() {
        assert_eq!(at_most_chars("é😀日x", 3), "é😀日");
        assert_eq!(at_most_chars("ab", 5), "ab");
    }
}
