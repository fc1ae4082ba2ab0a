//! Assertion trigger rules (`context.toml`) and note structure (`note-structure.toml`):
//! the data the note analyser runs on, kept out of code so clinicians can extend it.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::patterns::{Pattern, PatternSet};

/// What a trigger phrase does to the term mentions in its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    /// Denies the finding ("denies", "no", "absent").
    Negated,
    /// Makes it uncertain ("possible", "rule out", "?").
    Possible,
    /// Places it in the past ("history of", "s/p").
    Historical,
    /// Makes it conditional or future ("if", "return if", "risk of").
    Hypothetical,
    /// Gives it to a relative ("mother", "family history").
    Family,
    /// Affirms it explicitly ("present", "positive").
    Present,
    /// Looks like a trigger but is not ("no increase in", "gram negative").
    Pseudo,
    /// Ends every scope ("but", "however", ";").
    Terminate,
    /// Ends negation, possibility and history scopes: a new affirmative verb ("reports").
    TerminateExistence,
    /// Ends a family scope: the patient is the subject again ("patient", "she").
    TerminateExperiencer,
    /// Says a problem goes on ("on and off", "worsening", "still"): a historical trigger
    /// before it in its scope gives way to present ("history of dysphagia on and off").
    Ongoing,
    /// Right after a mention, makes it the subject of its own clause ("Raynaud's
    /// improved"): a negation before the comma opening that clause does not reach it.
    Predicate,
    /// Ends every scope but a family or history one: what follows is what something is for
    /// ("Not on anticoagulation for atrial fibrillation", "Recommend manometry for
    /// dysphagia", but "s/p surgery for calcinosis").
    TerminateIndication,
}

/// Which way from the trigger its scope runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Mentions after the trigger.
    Forward,
    /// Mentions before the trigger.
    Backward,
    /// Both.
    Both,
    /// Mentions after the trigger, only when the trigger opens its sentence ("None
    /// telangiectasias", but not "sclerodactyly none, telangiectasia present").
    Leading,
    /// The one list item the trigger is written against: the item after it ("sclerodactyly,
    /// ?telangiectasia", "? telangiectasia"), or the item it ends when a word comes after
    /// it in the sentence ("telangiectasia?, sclerodactyly"). At the end of a sentence the
    /// phrase is a question mark instead, and its other rules apply ("Is this calcinosis?").
    Item,
    /// No scope of its own (pseudo triggers and terminations).
    None,
}

/// One trigger phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The phrase, lower case.
    pub phrase: String,
    /// What it does.
    pub kind: TriggerKind,
    /// Which way its scope runs.
    pub direction: Direction,
}

/// A value after "Term:" in a label line, and the assertion it gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelValue {
    /// The value, lower case ("none", "yes", "+").
    pub value: String,
    /// `Negated`, `Present` or `Possible`.
    pub kind: TriggerKind,
}

/// A trigger, pseudo-trigger or termination written as a regular expression (a `pattern`
/// table beside the phrase lists): the same kinds and directions as a phrase.
#[derive(Debug, Clone)]
pub struct PatternTrigger {
    /// The pattern, checked and compiled.
    pub pattern: Pattern,
    /// What it does.
    pub kind: TriggerKind,
    /// Which way its scope runs.
    pub direction: Direction,
}

/// All assertion rules.
#[derive(Debug, Clone, Default)]
pub struct ContextRules {
    /// Trigger phrases.
    pub triggers: Vec<Trigger>,
    /// Triggers written as patterns, in file order.
    pub pattern_triggers: Vec<PatternTrigger>,
    /// Their patterns compiled into one set (pattern `i` is `pattern_triggers[i]`'s);
    /// empty, and never searched, without any.
    pub patterns: Arc<PatternSet>,
    /// Label values.
    pub labels: Vec<LabelValue>,
    /// How many words a scope reaches at most.
    pub max_scope_words: usize,
    /// How many words a relative's (family) scope reaches at most: a sentence about a
    /// sister runs on past the other scopes' limit (0: as `max_scope_words`).
    pub experiencer_max_words: usize,
    /// Over a coordinated list whose items have at most this many words, a scope counts
    /// items instead of words (0: words only).
    pub list_item_words: usize,
    /// Words (lower case) that open a clause belonging to the trigger before them: a
    /// termination right after a trigger, or after one of these, does not end its scope
    /// ("not sure whether she has X", "denies that she has X").
    pub clause_openers: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Directed {
    #[serde(default)]
    forward: Vec<String>,
    #[serde(default)]
    backward: Vec<String>,
    #[serde(default)]
    both: Vec<String>,
    #[serde(default)]
    leading: Vec<String>,
    #[serde(default)]
    item: Vec<String>,
    /// The same lists, of regular expressions.
    #[serde(default)]
    pattern: DirectedPatterns,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DirectedPatterns {
    #[serde(default)]
    forward: Vec<Spanned<String>>,
    #[serde(default)]
    backward: Vec<Spanned<String>>,
    #[serde(default)]
    both: Vec<Spanned<String>>,
    #[serde(default)]
    leading: Vec<Spanned<String>>,
    #[serde(default)]
    item: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TerminationPatterns {
    #[serde(default)]
    all: Vec<Spanned<String>>,
    #[serde(default)]
    existence: Vec<Spanned<String>>,
    #[serde(default)]
    experiencer: Vec<Spanned<String>>,
    #[serde(default)]
    indication: Vec<Spanned<String>>,
    #[serde(default)]
    predicate: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Terminations {
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    existence: Vec<String>,
    #[serde(default)]
    experiencer: Vec<String>,
    #[serde(default)]
    indication: Vec<String>,
    #[serde(default)]
    predicate: Vec<String>,
    /// The same lists, of regular expressions.
    #[serde(default)]
    pattern: TerminationPatterns,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Labels {
    #[serde(default)]
    negated: Vec<String>,
    #[serde(default)]
    present: Vec<String>,
    #[serde(default)]
    possible: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Pseudo {
    #[serde(default)]
    phrases: Vec<String>,
    /// Pseudo-triggers as regular expressions.
    #[serde(default)]
    pattern: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Scope {
    max_words: Option<usize>,
    experiencer_max_words: Option<usize>,
    list_item_words: Option<usize>,
    #[serde(default)]
    clause_openers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextFile {
    #[serde(default)]
    scope: Scope,
    #[serde(default)]
    negated: Directed,
    #[serde(default)]
    possible: Directed,
    #[serde(default)]
    historical: Directed,
    #[serde(default)]
    hypothetical: Directed,
    #[serde(default)]
    family: Directed,
    #[serde(default)]
    present: Directed,
    #[serde(default)]
    ongoing: Directed,
    #[serde(default)]
    pseudo: Pseudo,
    #[serde(default)]
    terminate: Terminations,
    #[serde(default)]
    label: Labels,
}

fn toml_error(file: &str, source: &str, e: toml::de::Error) -> Error {
    let line = e
        .span()
        .map(|s| source[..s.start.min(source.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    Error::syntax(file, line, e.message().trim().to_string())
}

fn clean(phrases: Vec<String>) -> impl Iterator<Item = String> {
    phrases
        .into_iter()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
}

impl ContextRules {
    /// Default scope limit in words, when no file sets one.
    pub const DEFAULT_MAX_SCOPE_WORDS: usize = 12;

    /// Adds the rules of one `context.toml`.
    pub fn extend(&mut self, file: &str, source: &str) -> Result<()> {
        let def: ContextFile = toml::from_str(source).map_err(|e| toml_error(file, source, e))?;
        if let Some(n) = def.scope.max_words {
            if n == 0 {
                return Err(Error::syntax(file, 1, "scope.max_words must be at least 1"));
            }
            self.max_scope_words = n;
        } else if self.max_scope_words == 0 {
            self.max_scope_words = Self::DEFAULT_MAX_SCOPE_WORDS;
        }
        if let Some(n) = def.scope.experiencer_max_words {
            self.experiencer_max_words = n;
        }
        if let Some(n) = def.scope.list_item_words {
            self.list_item_words = n;
        }
        for w in clean(def.scope.clause_openers) {
            if !self.clause_openers.contains(&w) {
                self.clause_openers.push(w);
            }
        }
        let directed = [
            (def.negated, TriggerKind::Negated),
            (def.possible, TriggerKind::Possible),
            (def.historical, TriggerKind::Historical),
            (def.hypothetical, TriggerKind::Hypothetical),
            (def.family, TriggerKind::Family),
            (def.present, TriggerKind::Present),
            (def.ongoing, TriggerKind::Ongoing),
        ];
        let lines = super::lexicon::Lines::new(source);
        let line = |at: usize| lines.of(at);
        let mut patterns: Vec<(Spanned<String>, TriggerKind, Direction)> = Vec::new();
        for (d, kind) in &directed {
            let p = &d.pattern;
            for (list, direction) in [
                (&p.forward, Direction::Forward),
                (&p.backward, Direction::Backward),
                (&p.both, Direction::Both),
                (&p.leading, Direction::Leading),
                (&p.item, Direction::Item),
            ] {
                patterns.extend(list.iter().map(|s| (s.clone(), *kind, direction)));
            }
        }
        let t = &def.terminate.pattern;
        for (list, kind) in [
            (&def.pseudo.pattern, TriggerKind::Pseudo),
            (&t.all, TriggerKind::Terminate),
            (&t.existence, TriggerKind::TerminateExistence),
            (&t.experiencer, TriggerKind::TerminateExperiencer),
            (&t.indication, TriggerKind::TerminateIndication),
            (&t.predicate, TriggerKind::Predicate),
        ] {
            patterns.extend(list.iter().map(|s| (s.clone(), kind, Direction::None)));
        }
        // Each checked alone (file, line, why), then compiled with the earlier files' into
        // one set.
        let mut added: Vec<PatternTrigger> = Vec::with_capacity(patterns.len());
        let mut bytes = 0;
        for t in &self.pattern_triggers {
            bytes = t.pattern.add_to(bytes)?;
        }
        for (s, kind, direction) in patterns {
            // Counted before compiling, as the lexicon's.
            if self.pattern_triggers.len() + added.len() >= crate::limits::MAX_PATTERNS {
                return Err(crate::patterns::too_many(file, line(s.span().start)));
            }
            let pattern = Pattern::new(file, line(s.span().start), s.get_ref())?;
            bytes = pattern.add_to(bytes)?;
            added.push(PatternTrigger {
                pattern,
                kind,
                direction,
            });
        }
        if !added.is_empty() {
            let all: Vec<Pattern> = self
                .pattern_triggers
                .iter()
                .chain(&added)
                .map(|t| t.pattern.clone())
                .collect();
            self.patterns = Arc::new(PatternSet::new(all)?);
            self.pattern_triggers.extend(added);
        }
        for (d, kind) in directed {
            for (list, direction) in [
                (d.forward, Direction::Forward),
                (d.backward, Direction::Backward),
                (d.both, Direction::Both),
                (d.leading, Direction::Leading),
                (d.item, Direction::Item),
            ] {
                self.push(clean(list), kind, direction);
            }
        }
        self.push(
            clean(def.pseudo.phrases),
            TriggerKind::Pseudo,
            Direction::None,
        );
        self.push(
            clean(def.terminate.all),
            TriggerKind::Terminate,
            Direction::None,
        );
        self.push(
            clean(def.terminate.existence),
            TriggerKind::TerminateExistence,
            Direction::None,
        );
        self.push(
            clean(def.terminate.experiencer),
            TriggerKind::TerminateExperiencer,
            Direction::None,
        );
        self.push(
            clean(def.terminate.indication),
            TriggerKind::TerminateIndication,
            Direction::None,
        );
        self.push(
            clean(def.terminate.predicate),
            TriggerKind::Predicate,
            Direction::None,
        );
        for (list, kind) in [
            (def.label.negated, TriggerKind::Negated),
            (def.label.present, TriggerKind::Present),
            (def.label.possible, TriggerKind::Possible),
        ] {
            self.labels
                .extend(clean(list).map(|value| LabelValue { value, kind }));
        }
        Ok(())
    }

    fn push(
        &mut self,
        phrases: impl Iterator<Item = String>,
        kind: TriggerKind,
        direction: Direction,
    ) {
        for phrase in phrases {
            let t = Trigger {
                phrase,
                kind,
                direction,
            };
            if !self.triggers.contains(&t) {
                self.triggers.push(t);
            }
        }
    }
}

/// What a note section says about the mentions in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SectionEffect {
    /// Nothing: mentions are judged by their sentence alone.
    None,
    /// Mentions belong to relatives (Family History).
    Family,
    /// Mentions are the patient's history (Past Medical History).
    Historical,
}

/// A kind of note section and the headers that open it.
#[derive(Debug, Clone)]
pub struct SectionKind {
    /// Name, e.g. `family-history`.
    pub name: String,
    /// What it does to mentions in it.
    pub effect: SectionEffect,
    /// Header texts, lower case, without the trailing colon.
    pub headers: Vec<String>,
}

/// Section headers and sentence-splitting rules for notes.
#[derive(Debug, Clone, Default)]
pub struct NoteStructure {
    /// Section kinds, in file order.
    pub sections: Vec<SectionKind>,
    /// Words (lower case, without the period) after which a period does not end a sentence.
    pub abbreviations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StructureFile {
    #[serde(default)]
    sentences: SentenceDef,
    #[serde(default)]
    section: Vec<SectionDef>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SentenceDef {
    #[serde(default)]
    abbreviations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionDef {
    name: String,
    #[serde(default)]
    effect: Option<String>,
    headers: Vec<String>,
}

impl NoteStructure {
    /// Adds the rules of one `note-structure.toml`.
    pub fn extend(&mut self, file: &str, source: &str) -> Result<()> {
        let def: StructureFile = toml::from_str(source).map_err(|e| toml_error(file, source, e))?;
        self.abbreviations.extend(
            clean(def.sentences.abbreviations).map(|a| a.trim_end_matches('.').to_string()),
        );
        for s in def.section {
            let effect = match s.effect.as_deref() {
                None | Some("none") => SectionEffect::None,
                Some("family") => SectionEffect::Family,
                Some("historical") => SectionEffect::Historical,
                Some(other) => {
                    let line = source
                        .find(&format!("\"{other}\""))
                        .map(|b| source[..b].matches('\n').count() + 1)
                        .unwrap_or(1);
                    return Err(Error::syntax(
                        file,
                        line,
                        format!("unknown section effect '{other}': use none, family or historical"),
                    ));
                }
            };
            self.sections.push(SectionKind {
                name: s.name,
                effect,
                headers: clean(s.headers)
                    .map(|h| h.trim_end_matches(':').trim().to_string())
                    .collect(),
            });
        }
        Ok(())
    }
}
