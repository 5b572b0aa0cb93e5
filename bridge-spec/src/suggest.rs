//! "Did you mean ...?" suggestions for misspelt tool and parameter names.

/// The candidate closest to `target`, if any is close enough to be a plausible typo.
///
/// Closeness is the Jaro-Winkler similarity (good at typos and shared prefixes); a candidate
/// must score at least 0.8, so unrelated names are never suggested.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::closest_name;
/// let tools = ["calculate_fibonacci", "parse_json", "process_list"];
/// assert_eq!(closest_name("calculate_fibonaci", tools), Some("calculate_fibonacci"));
/// assert_eq!(closest_name("launch_rockets", tools), None);
/// ```
pub fn closest_name<'a, I>(target: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    const THRESHOLD: f64 = 0.8;
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(target, candidate), candidate))
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

/// The suggestion as every message words it: `; did you mean `name`?`, or nothing.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::did_you_mean;
/// assert_eq!(did_you_mean(Some("list")), "; did you mean `list`?");
/// assert_eq!(did_you_mean(None), "");
/// ```
pub fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|name| format!("; did you mean `{name}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::closest_name;

    const TOOLS: [&str; 3] = ["calculate_fibonacci", "parse_json", "process_list"];

    #[test]
    fn suggests_the_nearest_name_for_a_typo() {
        assert_eq!(closest_name("parse_jsn", TOOLS), Some("parse_json"));
        assert_eq!(closest_name("proces_list", TOOLS), Some("process_list"));
        assert_eq!(
            closest_name("fibonacci", ["fibonaci", "factorial"]),
            Some("fibonaci")
        );
    }

    #[test]
    fn suggests_nothing_for_an_unrelated_name() {
        assert_eq!(closest_name("launch_rockets", TOOLS), None);
        assert_eq!(closest_name("x", TOOLS), None);
    }

    #[test]
    fn suggests_nothing_without_candidates() {
        assert_eq!(closest_name("parse_json", []), None);
    }
}
