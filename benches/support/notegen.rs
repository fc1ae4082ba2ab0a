//! Deterministic synthetic clinical notes for benchmarks and soak tests: realistic sections,
//! prose without terms, and CREST features under every kind of assertion cue.

#![allow(dead_code)]

const DISEASES: &[&str] = &[
    "limited cutaneous systemic sclerosis",
    "lcSSc",
    "systemic sclerosis",
    "SSc",
    "scleroderma",
    "juvenile dermatomyositis",
    "JDM",
    "dermatomyositis",
    "CREST syndrome",
    "overlap syndrome",
];
const FEATURES: &[&str] = &[
    "Raynaud's phenomenon",
    "RP",
    "Raynaud's",
    "calcinosis",
    "calcinosis cutis",
    "sclerodactyly",
    "telangiectasias",
    "dysphagia",
    "esophageal dysmotility",
    "digital ulcers",
    "acro-osteolysis",
    "Reynaud's",
    "telangectasia",
    "sclerodactily",
];
const SITES: &[&str] = &[
    "elbows",
    "knees",
    "fingertips",
    "subcutaneous tissue",
    "forearms",
    "paraspinal region",
];
const RELATIVES: &[&str] = &["Mother", "Father", "Sister", "Maternal aunt", "Brother"];
const PROSE: &[&str] = &[
    "Patient presents for routine follow-up accompanied by her husband.",
    "She works as a teacher and walks thirty minutes most days.",
    "Sleep is fair; appetite is stable and weight is unchanged at 64 kg.",
    "Vital signs: BP 124/78, HR 72, T 36.8 C, SpO2 98% on room air.",
    "Medications reviewed with the patient and reconciled; no new allergies.",
    "Labs from 03/14: CBC within normal limits, creatinine 0.8, calcium 9.4, CRP 3.2.",
    "Discussed the risks and benefits of the current regimen at length.",
    "Lungs clear to auscultation bilaterally; heart regular without murmur.",
    "Abdomen soft, non-tender, no hepatosplenomegaly.",
    "Will obtain hand radiographs and pulmonary function tests before the next visit.",
    "Patient verbalized understanding and agrees with the plan.",
    "Seen with Dr. Alvarez, who agrees with the assessment.",
];
const CUES: &[&str] = &[
    "Reports {f}.",
    "Denies {f}.",
    "No {f}, {f}, or {f}.",
    "Possible {f} at the {s}.",
    "History of {f}, resolved.",
    "Return if {f} worsens.",
    "{f}: none.",
    "{f}: present.",
    "Denies {f} but reports {f}.",
    "No increase in {f} since the last visit.",
    "Firm nodules at the {s} consistent with {f}.",
    "Rule out {f}.",
    "{R} has {f}.",
    "Exam notable for {f} and {f}.",
    "?{f} on the left hand.",
    "Monitor for {f}.",
];

/// A small deterministic generator.
pub struct NoteGen {
    rng: fastrand::Rng,
    /// Prose sentences added per cue sentence (0: dense, every paragraph half cues;
    /// 4: typical, about one cue in six sentences).
    extra_prose: usize,
}

impl NoteGen {
    /// Dense notes: a CREST cue in about every second sentence (worst case).
    pub fn new(seed: u64) -> NoteGen {
        NoteGen {
            rng: fastrand::Rng::with_seed(seed),
            extra_prose: 0,
        }
    }

    /// Typical notes: mostly prose, a cue in about one sentence in six.
    pub fn typical(seed: u64) -> NoteGen {
        NoteGen {
            rng: fastrand::Rng::with_seed(seed),
            extra_prose: 4,
        }
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.usize(..xs.len())]
    }

    /// One sentence with CREST cues.
    pub fn cue_sentence(&mut self) -> String {
        let mut s = self.pick(CUES).to_string();
        while let Some(i) = s.find("{f}") {
            let f = self.pick(FEATURES);
            s.replace_range(i..i + 3, f);
        }
        while let Some(i) = s.find("{s}") {
            let site = self.pick(SITES);
            s.replace_range(i..i + 3, site);
        }
        if let Some(i) = s.find("{R}") {
            let r = self.pick(RELATIVES);
            s.replace_range(i..i + 3, r);
        }
        let mut chars = s.chars();
        match chars.next() {
            Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
            None => s,
        }
    }

    fn paragraph(&mut self, out: &mut String, cues: usize, prose: usize) {
        let mut parts: Vec<String> = (0..cues).map(|_| self.cue_sentence()).collect();
        let prose = prose + cues * self.extra_prose;
        parts.extend((0..prose).map(|_| self.pick(PROSE).to_string()));
        self.rng.shuffle(&mut parts);
        out.push_str(&parts.join(" "));
        out.push('\n');
    }

    /// One realistic multi-section note (about 1.5 KB).
    pub fn note(&mut self) -> String {
        let mut n = String::with_capacity(2048);
        let age = self.rng.u32(8..85);
        let dx = self.pick(DISEASES);
        n.push_str(&format!("HPI: {age} yo with {dx} here for follow-up. "));
        self.paragraph(&mut n, 3, 3);
        n.push_str("\nPast Medical History:\n- ");
        n.push_str(self.pick(DISEASES));
        n.push_str("\n- hypertension\n- ");
        n.push_str(self.pick(FEATURES));
        n.push_str("\n\nFamily History: ");
        let rel = self.pick(RELATIVES);
        let d = self.pick(DISEASES);
        n.push_str(&format!("{rel} with {d}.\n\nROS: "));
        self.paragraph(&mut n, 2, 1);
        n.push_str("\nExam: ");
        self.paragraph(&mut n, 2, 2);
        n.push_str("\nAssessment and Plan:\n");
        for _ in 0..3 {
            n.push_str("- ");
            self.paragraph(&mut n, 1, 1);
        }
        n
    }

    /// Notes until at least `bytes` of text.
    pub fn notes(&mut self, bytes: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut total = 0;
        while total < bytes {
            let n = self.note();
            total += n.len();
            out.push(n);
        }
        out
    }

    /// One document of about `lines` lines (notes glued together).
    pub fn document(&mut self, lines: usize) -> String {
        let mut doc = String::new();
        while doc.lines().count() < lines {
            doc.push_str(&self.note());
            doc.push('\n');
        }
        doc.lines().take(lines).collect::<Vec<_>>().join("\n") + "\n"
    }
}

/// Words with no CREST meaning, for filler in the shapes below.
const FILLER: &[&str] = &[
    "patient", "seen", "today", "with", "her", "husband", "hands", "cold", "in", "winter",
    "stable", "weight", "plan", "follow", "up", "labs", "reviewed", "and", "the", "exam",
];

/// Misspellings the matcher corrects (each a finding of its own).
const MISSPELLED: &[&str] = &[
    "Reynaud's",
    "telangectasia",
    "sclerodactily",
    "calcinossis",
    "dermatomyosits",
    "telangiectasis",
];

/// Note shapes for the linear-time benches: each generator takes a size and makes one note
/// of that size, so that a super-linear cost shows as a curve over 1×, 2×, 4×.
impl NoteGen {
    /// One note of about `bytes` on a single line: typical notes with their line breaks
    /// turned into spaces (sentence punctuation kept).
    pub fn one_line(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 2048);
        while s.len() < bytes {
            s.push_str(&self.note().replace('\n', " "));
            s.push(' ');
        }
        s
    }

    /// A quickly typed note: `lines` lower-case lines without sentence punctuation, so
    /// every line continues the sentence before it (one sentence for the whole note).
    pub fn unpunctuated_lines(&mut self, lines: usize) -> String {
        let mut s = String::new();
        for _ in 0..lines {
            let line = self.unpunctuated_sentence();
            s.push_str(&line);
            s.push('\n');
        }
        s
    }

    /// One line of about `bytes` without any sentence punctuation.
    pub fn unpunctuated_line(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 256);
        while s.len() < bytes {
            s.push_str(&self.unpunctuated_sentence());
            s.push(' ');
        }
        s
    }

    /// A cue sentence or prose, lower case, without `.`, `!`, `?` or `:`.
    fn unpunctuated_sentence(&mut self) -> String {
        let s = if self.rng.bool() {
            self.cue_sentence()
        } else {
            self.pick(PROSE).to_string()
        };
        s.to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '.' | '!' | '?' | ':' | ';'))
            .collect()
    }

    /// One line with `count` misspelled terms among filler words, no punctuation.
    pub fn misspellings_line(&mut self, count: usize) -> String {
        let mut s = String::new();
        for _ in 0..count {
            s.push_str(self.pick(MISSPELLED));
            s.push(' ');
            for _ in 0..self.rng.usize(1..4) {
                s.push_str(self.pick(FILLER));
                s.push(' ');
            }
        }
        s
    }
}
