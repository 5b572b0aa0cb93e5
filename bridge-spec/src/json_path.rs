//! Where a value sits inside a JSON document: `points[1].x`, for error messages.

use std::fmt;

/// One step into a JSON document: an object key (or a struct field, or an enum variant) or an
/// array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An object key, a struct field or an enum variant.
    Key(String),
    /// An array (or tuple) index.
    Index(usize),
}

/// A path into a JSON document, written `a.b[2]` (empty for the document itself).
///
/// ```
/// # mod snakepit_bridge { pub mod spec { pub use snakepit_bridge_spec::*; } }
/// use snakepit_bridge::spec::{JsonPath, PathSegment};
/// let path = JsonPath::from(vec![PathSegment::Key("points".into()), PathSegment::Index(1)]);
/// assert_eq!(path.to_string(), "points[1]");
/// assert_eq!(path.under("result"), "result.points[1]");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(Vec<PathSegment>);

impl JsonPath {
    /// The steps, outermost first.
    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    /// Whether this is the document itself.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The path written below `root` (a parameter name, `result`): `root`, `root.a`, `root[2]`.
    pub fn under(&self, root: &str) -> String {
        let inner = self.to_string();
        if inner.is_empty() {
            root.to_owned()
        } else if inner.starts_with('[') || root.is_empty() {
            format!("{root}{inner}")
        } else {
            format!("{root}.{inner}")
        }
    }
}

impl From<Vec<PathSegment>> for JsonPath {
    fn from(segments: Vec<PathSegment>) -> Self {
        JsonPath(segments)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(key) if position == 0 => f.write_str(key)?,
                PathSegment::Key(key) => write!(f, ".{key}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> PathSegment {
        PathSegment::Key(text.to_owned())
    }

    #[test]
    fn paths_read_as_javascript_accessors() {
        assert_eq!(JsonPath::default().to_string(), "");
        let path = JsonPath::from(vec![key("a"), PathSegment::Index(2), key("b")]);
        assert_eq!(path.to_string(), "a[2].b");
        assert_eq!(path.under("x"), "x.a[2].b");
        let list = JsonPath::from(vec![PathSegment::Index(0)]);
        assert_eq!(list.to_string(), "[0]");
        assert_eq!(list.under("values"), "values[0]");
        assert_eq!(JsonPath::default().under("x"), "x");
    }
}
