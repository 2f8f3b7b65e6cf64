//! Compiles `.proto` text held in memory into a descriptor with protox, serving the files it
//! imports and protox's well-known `google/protobuf/*.proto`: the tests' and benchmark's own
//! way to a `FileDescriptor`, independent of the registry's parser.

use std::collections::HashMap;

use prost_reflect::FileDescriptor;
use protox::file::{File, FileResolver, GoogleFileResolver};

/// The name the compiled file gets; imports must not use it.
pub const ROOT: &str = "herald-test-root.proto";

/// The in-memory files, then the well-known ones.
struct Sources {
    files: HashMap<String, String>,
    google: GoogleFileResolver,
}

impl FileResolver for Sources {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.get(name) {
            Some(text) => File::from_source(name, text),
            None => self.google.open_file(name),
        }
    }
}

/// Compiles `root` with `imports` (`(name, text)`) available to it.
pub fn compile(root: &str, imports: &[(&str, &str)]) -> Result<FileDescriptor, protox::Error> {
    let mut files: HashMap<String, String> = imports
        .iter()
        .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
        .collect();
    files.insert(ROOT.to_owned(), root.to_owned());
    let mut compiler = protox::Compiler::with_file_resolver(Sources {
        files,
        google: GoogleFileResolver::new(),
    });
    compiler.open_file(ROOT)?;
    compiler
        .descriptor_pool()
        .get_file_by_name(ROOT)
        .ok_or_else(|| protox::Error::file_not_found(ROOT))
}
