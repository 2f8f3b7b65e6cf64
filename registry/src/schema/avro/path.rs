//! Avro paths (`/fields/2/type`) built on the stack and formatted only when needed.

use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seg<'a> {
    /// A key such as `type`, `items`, `values`, `symbols`, `size` or `name`.
    Key(&'static str),
    /// A position: a union branch or an element of `aliases` or `symbols`.
    Index(usize),
    /// `fields/<index>`, remembering the field's name for messages.
    Field(usize, &'a str),
}

/// A path as a linked list of segments living in the callers' stack frames: extending it
/// costs nothing and nothing is formatted unless a path ends up in an error or violation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    seg: Option<Seg<'a>>,
}

impl<'a> Path<'a> {
    /// The root path, `/`.
    pub(crate) const ROOT: Path<'static> = Path {
        parent: None,
        seg: None,
    };

    /// This path extended by `seg`.
    pub(crate) fn then(&'a self, seg: Seg<'a>) -> Path<'a> {
        Path {
            parent: Some(self),
            seg: Some(seg),
        }
    }

    /// This path extended by a key.
    pub(crate) fn key(&'a self, key: &'static str) -> Path<'a> {
        self.then(Seg::Key(key))
    }

    /// This path extended by an index.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        self.then(Seg::Index(index))
    }

    /// This path extended by `fields/<index>`.
    pub(crate) fn field(&'a self, index: usize, name: &'a str) -> Path<'a> {
        self.then(Seg::Field(index, name))
    }

    /// The name of the innermost field on the path, if any.
    pub(crate) fn field_name(&self) -> Option<&'a str> {
        let mut at = Some(self);
        while let Some(path) = at {
            if let Some(Seg::Field(_, name)) = path.seg {
                return Some(name);
            }
            at = path.parent;
        }
        None
    }

    fn segments(&self) -> Vec<Seg<'a>> {
        let mut segs = Vec::new();
        let mut at = Some(self);
        while let Some(path) = at {
            if let Some(seg) = path.seg {
                segs.push(seg);
            }
            at = path.parent;
        }
        segs.reverse();
        segs
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let segs = self.segments();
        if segs.is_empty() {
            return f.write_str("/");
        }
        for seg in segs {
            match seg {
                Seg::Key(key) => write!(f, "/{key}")?,
                Seg::Index(index) => write!(f, "/{index}")?,
                Seg::Field(index, _) => write!(f, "/fields/{index}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_java_locations() {
        let root = Path::ROOT;
        assert_eq!(root.to_string(), "/");
        let field = root.field(2, "price");
        let ty = field.key("type");
        let branch = ty.index(1);
        assert_eq!(branch.to_string(), "/fields/2/type/1");
        assert_eq!(branch.field_name(), Some("price"));
        assert_eq!(root.key("items").field_name(), None);
    }
}
