//! snakepit's rule for tool names (`validate_tool_name/1` and `@tool_name_pattern` in snakepit
//! v0.13.0's `lib/snakepit/bridge/tool_registry.ex`).

use std::fmt;

/// The longest tool name the host accepts, in bytes.
pub const MAX_TOOL_NAME_BYTES: usize = 64;

/// Why a tool name breaks snakepit's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolNameError {
    /// The name is empty (after trimming, as the host trims it).
    Empty,
    /// The name is longer than [`MAX_TOOL_NAME_BYTES`].
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The first character is not an ASCII letter or digit.
    BadStart {
        /// The offending character.
        found: char,
    },
    /// A character other than an ASCII letter, digit, `_`, `-` or `.`.
    BadChar {
        /// The offending character.
        found: char,
        /// Its byte offset in the name.
        at: usize,
    },
}

impl fmt::Display for ToolNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolNameError::Empty => f.write_str("a tool name must not be empty"),
            ToolNameError::TooLong { len } => write!(
                f,
                "a tool name may be at most {MAX_TOOL_NAME_BYTES} bytes long, this one is {len}"
            ),
            ToolNameError::BadStart { found } => write!(
                f,
                "a tool name must start with an ASCII letter or digit, not {found:?}"
            ),
            ToolNameError::BadChar { found, at } => write!(
                f,
                "a tool name may contain only ASCII letters, digits, `_`, `-` and `.`, \
                 found {found:?} at byte {at}"
            ),
        }
    }
}

impl std::error::Error for ToolNameError {}

/// Checks `name` against snakepit's rule: non-empty, at most 64 bytes, and matching
/// `^[A-Za-z0-9][A-Za-z0-9_\-\.]*$`.
///
/// The host trims names before checking them; a name with surrounding white space would be
/// sent as something else than what the caller wrote, so it is rejected here as a bad character.
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::validate_tool_name;
/// assert!(validate_tool_name("calculate_fibonacci").is_ok());
/// assert!(validate_tool_name("bad name").is_err());
/// ```
pub fn validate_tool_name(name: &str) -> Result<(), ToolNameError> {
    if name.trim().is_empty() {
        return Err(ToolNameError::Empty);
    }
    if name.len() > MAX_TOOL_NAME_BYTES {
        return Err(ToolNameError::TooLong { len: name.len() });
    }
    let mut chars = name.char_indices();
    if let Some((_, first)) = chars.next() {
        if !first.is_ascii_alphanumeric() {
            return Err(ToolNameError::BadStart { found: first });
        }
    }
    for (at, c) in chars {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err(ToolNameError::BadChar { found: c, at });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_names_snakepit_accepts() {
        for name in [
            "a",
            "0",
            "calculate_fibonacci",
            "ns.tool-v2",
            "A_b.c-d",
            &"x".repeat(64),
        ] {
            assert_eq!(validate_tool_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_empty_and_blank_names() {
        assert_eq!(validate_tool_name(""), Err(ToolNameError::Empty));
        assert_eq!(validate_tool_name("   "), Err(ToolNameError::Empty));
    }

    #[test]
    fn rejects_names_over_64_bytes() {
        assert_eq!(
            validate_tool_name(&"x".repeat(65)),
            Err(ToolNameError::TooLong { len: 65 })
        );
    }

    #[test]
    fn rejects_a_bad_first_character() {
        assert_eq!(
            validate_tool_name("_private"),
            Err(ToolNameError::BadStart { found: '_' })
        );
        assert_eq!(
            validate_tool_name("-x"),
            Err(ToolNameError::BadStart { found: '-' })
        );
    }

    #[test]
    fn rejects_bad_characters_with_their_position() {
        assert_eq!(
            validate_tool_name("bad name"),
            Err(ToolNameError::BadChar { found: ' ', at: 3 })
        );
        assert_eq!(
            validate_tool_name("caf\u{e9}"),
            Err(ToolNameError::BadChar {
                found: '\u{e9}',
                at: 3
            })
        );
        assert_eq!(
            validate_tool_name(" padded"),
            Err(ToolNameError::BadStart { found: ' ' })
        );
    }

    #[test]
    fn messages_say_what_the_rule_is() {
        let text = validate_tool_name("a b").unwrap_err().to_string();
        assert!(text.contains("only ASCII letters"), "{text}");
    }
}
