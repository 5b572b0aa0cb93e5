//! `ml_analyze_text`'s analysis. snakepit v0.13's Python showcase registers `ml_analyze_text`
//! ("Perform text analysis using ML") but delegates to an `analyze_text` handler that
//! `handlers/ml_workflow.py` never defines, so every call fails with `KeyError: 'analyze_text'`.
//! This port keeps the tool's parameter (`text`) and answers a real, deterministic analysis of
//! it: counts, the most frequent words and a lexicon-based sentiment. It loads no model, and
//! says so in `"method": "lexicon"`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::system_stats::round_to;

/// Words that count towards a positive sentiment.
const POSITIVE: &[&str] = &[
    "amazing",
    "awesome",
    "beautiful",
    "best",
    "brilliant",
    "easy",
    "enjoy",
    "excellent",
    "fantastic",
    "fast",
    "glad",
    "good",
    "great",
    "happy",
    "like",
    "love",
    "nice",
    "perfect",
    "pleased",
    "wonderful",
];

/// Words that count towards a negative sentiment.
const NEGATIVE: &[&str] = &[
    "angry",
    "annoying",
    "awful",
    "bad",
    "boring",
    "broken",
    "disappointing",
    "fail",
    "failed",
    "hard",
    "hate",
    "horrible",
    "poor",
    "problem",
    "sad",
    "slow",
    "terrible",
    "ugly",
    "worst",
    "wrong",
];

/// How many of the most frequent words the analysis lists.
const TOP_WORDS: usize = 5;

/// The analysis of `text`: `text_length` (characters), `word_count`, `unique_words`,
/// `sentence_count`, `average_word_length`, `top_words` (`[{"word", "count"}]`, most frequent
/// first, ties alphabetical), `sentiment` (`{"label", "score", "positive_words",
/// "negative_words"}`, score in -1..1), `method` and `success`.
pub fn analyze(text: &str) -> Value {
    let words: Vec<String> = words(text);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in &words {
        *counts.entry(word.as_str()).or_default() += 1;
    }
    let mut top: Vec<(&str, usize)> = counts.iter().map(|(w, c)| (*w, *c)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    top.truncate(TOP_WORDS);

    let letters: usize = words.iter().map(|word| word.chars().count()).sum();
    let average_word_length = if words.is_empty() {
        0.0
    } else {
        round_to(letters as f64 / words.len() as f64, 2)
    };
    let positive = words
        .iter()
        .filter(|w| POSITIVE.contains(&w.as_str()))
        .count();
    let negative = words
        .iter()
        .filter(|w| NEGATIVE.contains(&w.as_str()))
        .count();
    let score = if positive + negative == 0 {
        0.0
    } else {
        round_to(
            (positive as f64 - negative as f64) / (positive + negative) as f64,
            3,
        )
    };
    let label = if score > 0.0 {
        "positive"
    } else if score < 0.0 {
        "negative"
    } else {
        "neutral"
    };

    json!({
        "text_length": text.chars().count(),
        "word_count": words.len(),
        "unique_words": counts.len(),
        "sentence_count": sentence_count(text),
        "average_word_length": average_word_length,
        "top_words": top
            .iter()
            .map(|(word, count)| json!({ "word": word, "count": count }))
            .collect::<Vec<_>>(),
        "sentiment": {
            "label": label,
            "score": score,
            "positive_words": positive,
            "negative_words": negative,
        },
        "method": "lexicon",
        "success": true,
    })
}

/// The words of `text`, lowercased: runs of letters, digits and apostrophes.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|word| word.trim_matches('\''))
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The sentences of `text`: pieces ended by `.`, `!` or `?` (or the end) that hold a word.
pub fn sentence_count(text: &str) -> usize {
    text.split(['.', '!', '?'])
        .filter(|piece| piece.chars().any(char::is_alphanumeric))
        .count()
}
