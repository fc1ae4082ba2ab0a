//! The query vocabulary (`vocabulary.toml`): what `ask` needs to understand a question that
//! the statements and the lexicon do not give — words that carry no weight, lay and clinical
//! synonyms and abbreviations, the kinds of answer a question can ask for, and the names of
//! things the statements may not discuss (so that `ask` can say they are not covered).
//! Kept as data so that a user corpus can extend it. The format is in `corpus/README.md`.

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};

/// One group of interchangeable words or phrases ("treatment", "therapy", "Tx").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynonymGroup {
    /// The name shown when the group is reported (its first entry unless given).
    pub name: String,
    /// Phrases matched case-insensitively.
    pub words: Vec<String>,
    /// Abbreviations matched case-sensitively ("Tx", "SLE").
    pub abbreviations: Vec<String>,
    /// What the thing is ("connective tissue disease"), to find what the sources say nearest to it.
    pub is_a: Option<String>,
    /// The group names the subject of the whole corpus ("calcium lumps" = calcinosis).
    pub topic: bool,
}

/// A kind of answer a question can ask for, and how to recognise the statements that give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerType {
    /// Short name (`site`, `treatment`, …).
    pub name: String,
    /// Phrases in a question that ask for this kind of answer ("where", "how is it treated").
    pub cues: Vec<String>,
    /// Words of section headings that hold such answers ("anatomical", "distribution").
    pub sections: Vec<String>,
    /// Words in a statement that give such an answer ("treatment", "surgical").
    pub marks: Vec<String>,
    /// Lexicon category whose terms, looked up from a note, are in this role.
    pub category: Option<String>,
    /// Phrases that ask for a number ("what percentage"): without one in the answer, the
    /// question is not answered.
    pub figure_cues: Vec<String>,
    /// Gives way to any other answer type asked in the same question ("what morbidity is
    /// associated with …" asks for morbidity, not for associations).
    pub secondary: bool,
    /// A kind of answer the statements never give, in the words an abstention names it
    /// with ("who first described it, or when"): a question asking only for it is not
    /// answered by statements on its subject.
    pub uncovered: Option<String>,
}

/// Words for a share of patients ("half", "a third") and the percentage they stand for, so
/// that a figure in a question can be checked against the statements' figures.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureWords {
    /// Phrases, lower case ("half", "one in two").
    pub words: Vec<String>,
    /// The percentage they mean.
    pub percent: f32,
}

/// The whole query vocabulary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// Words that carry no weight in a question (lower case).
    pub ignore: Vec<String>,
    /// Words that ask for a whole list ("list", "all").
    pub list_cues: Vec<String>,
    /// Words that make a question a follow-up of the previous one ("and", "what about").
    pub follow_up_cues: Vec<String>,
    /// Synonym groups.
    pub synonyms: Vec<SynonymGroup>,
    /// Answer types, in priority order.
    pub answers: Vec<AnswerType>,
    /// Phrases that leave out what follows them ("besides", "other than").
    pub exclusion_cues: Vec<String>,
    /// Words that set two things side by side ("or", "vs", "compared with").
    pub alternative_cues: Vec<String>,
    /// Words that make a question a yes/no question when they open it ("is", "does").
    pub yes_no_openers: Vec<String>,
    /// Words for a share of patients and their percentage.
    pub figures: Vec<FigureWords>,
    /// Endings of English adjectives ("-able", "-ous"): a word not understood that ends so
    /// qualifies what is asked ("a reasonable choice") rather than naming it, so it weighs
    /// less than an unknown noun ("exercise").
    pub modifier_suffixes: Vec<String>,
    /// Words by which a statement hedges ("may", "proposed"): it never answers a yes/no
    /// question with a bare "Yes".
    pub hedges: Vec<String>,
    /// Words that make a question open, not yes/no ("what", "how"): a question with none of
    /// them and no yes/no opener ("Calcinosis is rare in JDM?") is a claim to check.
    pub open_question: Vec<String>,
    /// Words that make a claim absolute or negative ("only", "never", "not"): a yes/no
    /// question holding one is never answered with a bare "Yes".
    pub qualifiers: Vec<String>,
    /// Words that contradict a statement's own word ("rare" where a statement says "common",
    /// "shorter" where it says "longer"): a question saying one gets the statement's word
    /// instead ("The sources say longer, not shorter.").
    pub contraries: Vec<Contrary>,
}

/// Words a question may use that a statement's word contradicts (`[[contrary]]`; the older
/// `[rare]` table is the same with `instead = ["common", "commonly"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Contrary {
    /// What a question says ("rare", "shorter"), lower case.
    pub words: Vec<String>,
    /// The statement words it contradicts ("common", "longer"), lower case.
    pub instead: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[serde(default)]
    ignore: WordsDef,
    #[serde(default)]
    list: WordsDef,
    #[serde(default, rename = "follow-up")]
    follow_up: WordsDef,
    #[serde(default)]
    synonyms: Vec<Spanned<GroupDef>>,
    #[serde(default)]
    answer: Vec<Spanned<AnswerDef>>,
    #[serde(default)]
    exclusion: WordsDef,
    #[serde(default)]
    alternatives: WordsDef,
    #[serde(default, rename = "yes-no")]
    yes_no: WordsDef,
    #[serde(default)]
    figure: Vec<Spanned<FigureDef>>,
    #[serde(default)]
    rare: WordsDef,
    #[serde(default)]
    contrary: Vec<Spanned<ContraryDef>>,
    #[serde(default)]
    qualifiers: WordsDef,
    #[serde(default, rename = "open-question")]
    open_question: WordsDef,
    #[serde(default)]
    hedges: WordsDef,
    #[serde(default, rename = "modifier-suffixes")]
    modifier_suffixes: WordsDef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FigureDef {
    words: Vec<String>,
    percent: f32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContraryDef {
    words: Vec<String>,
    instead: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WordsDef {
    #[serde(default)]
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupDef {
    name: Option<String>,
    #[serde(default)]
    words: Vec<String>,
    #[serde(default)]
    abbreviations: Vec<String>,
    #[serde(rename = "is-a")]
    is_a: Option<String>,
    #[serde(default)]
    topic: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerDef {
    name: String,
    #[serde(default)]
    cues: Vec<String>,
    #[serde(default)]
    sections: Vec<String>,
    #[serde(default)]
    marks: Vec<String>,
    category: Option<String>,
    #[serde(default, rename = "figure-cues")]
    figure_cues: Vec<String>,
    #[serde(default)]
    secondary: bool,
    uncovered: Option<String>,
}

fn line_of(source: &str, byte: usize) -> usize {
    source[..byte.min(source.len())].matches('\n').count() + 1
}

impl Vocabulary {
    /// Adds the entries of one vocabulary file to those already loaded. An answer type with a
    /// name already defined gains the new cues, sections and marks.
    pub fn extend(&mut self, file: &str, source: &str) -> Result<()> {
        let def: FileDef = toml::from_str(source).map_err(|e| {
            let line = e.span().map(|s| line_of(source, s.start)).unwrap_or(1);
            Error::syntax(file, line, e.message().trim().to_string())
        })?;
        let lower = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        };
        self.ignore.extend(lower(def.ignore.words));
        self.list_cues.extend(lower(def.list.words));
        self.follow_up_cues.extend(lower(def.follow_up.words));
        self.exclusion_cues.extend(lower(def.exclusion.words));
        self.alternative_cues.extend(lower(def.alternatives.words));
        self.yes_no_openers.extend(lower(def.yes_no.words));
        let rare = lower(def.rare.words);
        if !rare.is_empty() {
            self.contraries.push(Contrary {
                words: rare,
                instead: vec!["common".into(), "commonly".into()],
            });
        }
        for c in def.contrary {
            let line = line_of(source, c.span().start);
            let c = c.into_inner();
            let (words, instead) = (lower(c.words), lower(c.instead));
            if words.is_empty() || instead.is_empty() {
                return Err(Error::syntax(
                    file,
                    line,
                    "a [[contrary]] needs at least one entry in `words` and in `instead`",
                ));
            }
            self.contraries.push(Contrary { words, instead });
        }
        self.qualifiers.extend(lower(def.qualifiers.words));
        self.open_question.extend(lower(def.open_question.words));
        self.hedges.extend(lower(def.hedges.words));
        self.modifier_suffixes
            .extend(lower(def.modifier_suffixes.words));
        for f in def.figure {
            let line = line_of(source, f.span().start);
            let f = f.into_inner();
            if !(0.0..=100.0).contains(&f.percent) {
                return Err(Error::syntax(
                    file,
                    line,
                    "a [[figure]]'s percent must be between 0 and 100",
                ));
            }
            self.figures.push(FigureWords {
                words: lower(f.words),
                percent: f.percent,
            });
        }
        for g in def.synonyms {
            let line = line_of(source, g.span().start);
            let g = g.into_inner();
            let words = lower(g.words);
            let abbreviations: Vec<String> = g
                .abbreviations
                .into_iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect();
            let Some(first) = words.first().or(abbreviations.first()).cloned() else {
                return Err(Error::syntax(
                    file,
                    line,
                    "a [[synonyms]] group needs at least one entry in `words` or `abbreviations`",
                ));
            };
            self.synonyms.push(SynonymGroup {
                name: g.name.unwrap_or(first),
                words,
                abbreviations,
                is_a: g.is_a,
                topic: g.topic,
            });
        }
        for a in def.answer {
            let line = line_of(source, a.span().start);
            let a = a.into_inner();
            let name = a.name.trim().to_lowercase();
            if name.is_empty() {
                return Err(Error::syntax(file, line, "an [[answer]] needs a name"));
            }
            let new = AnswerType {
                name: name.clone(),
                cues: lower(a.cues),
                sections: lower(a.sections),
                marks: lower(a.marks),
                category: a.category,
                figure_cues: lower(a.figure_cues),
                secondary: a.secondary,
                uncovered: a.uncovered,
            };
            match self.answers.iter_mut().find(|x| x.name == name) {
                Some(old) => {
                    old.cues.extend(new.cues);
                    old.sections.extend(new.sections);
                    old.marks.extend(new.marks);
                    old.figure_cues.extend(new.figure_cues);
                    if new.category.is_some() {
                        old.category = new.category;
                    }
                    old.secondary |= new.secondary;
                    if new.uncovered.is_some() {
                        old.uncovered = new.uncovered;
                    }
                }
                None => self.answers.push(new),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_extends() {
        let mut v = Vocabulary::default();
        v.extend(
            "v.toml",
            "[ignore]\nwords = [\"What\"]\n[[synonyms]]\nwords = [\"treatment\", \"therapy\"]\nabbreviations = [\"Tx\"]\n[[answer]]\nname = \"site\"\ncues = [\"where\"]\n",
        )
        .unwrap();
        v.extend(
            "w.toml",
            "[[answer]]\nname = \"site\"\ncues = [\"location\"]\n",
        )
        .unwrap();
        assert_eq!(v.ignore, vec!["what"]);
        assert_eq!(v.synonyms[0].name, "treatment");
        assert_eq!(v.synonyms[0].abbreviations, vec!["Tx"]);
        assert_eq!(v.answers.len(), 1);
        assert_eq!(v.answers[0].cues, vec!["where", "location"]);
        let e = v
            .extend("x.toml", "\n[[synonyms]]\nwords = []\n")
            .unwrap_err();
        assert!(e.to_string().starts_with("x.toml:2:"), "{e}");
        let e = v.extend("y.toml", "[[answer]]\nnam = \"x\"\n").unwrap_err();
        assert!(e.to_string().starts_with("y.toml:"), "{e}");
    }
}
