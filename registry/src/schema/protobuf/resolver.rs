//! Where protox finds a schema's files: the schema itself, the schemas its references name
//! (by import path), the bundled well-known files and the `google/protobuf/*.proto` files
//! protox ships. Nothing is read from disk.

use std::collections::HashMap;

use prost::Message;
use prost_reflect::prost_types::FileDescriptorProto;
use protox::Error;
use protox::file::{File, FileResolver, GoogleFileResolver};

use super::{ROOT, wellknown};

/// The root file, as text or as a compiled descriptor.
#[derive(Debug, Clone)]
pub(super) enum Root {
    /// `.proto` source text.
    Text(String),
    /// An encoded `FileDescriptorProto` (already named [`ROOT`]).
    Encoded(Vec<u8>),
}

/// Serves the files of one compilation from memory.
pub(super) struct MemoryResolver {
    root: Root,
    /// Encoded descriptors of the referenced files and everything they import, by import path.
    imports: HashMap<String, Vec<u8>>,
    google: GoogleFileResolver,
}

impl MemoryResolver {
    pub(super) fn new(root: Root) -> Self {
        MemoryResolver {
            root,
            imports: HashMap::new(),
            google: GoogleFileResolver::new(),
        }
    }

    /// Makes `encoded` (a `FileDescriptorProto`) importable as `name` (first one wins).
    pub(super) fn add(&mut self, name: &str, encoded: Vec<u8>) {
        if name == ROOT || self.imports.contains_key(name) {
            return;
        }
        self.imports.insert(name.to_owned(), renamed(encoded, name));
    }
}

/// `encoded` (a `FileDescriptorProto`) named `name`: the name field appended, since the last
/// occurrence of a field wins. Decoding and re-encoding would drop custom options, which
/// `prost_types` does not know.
pub(super) fn renamed(mut encoded: Vec<u8>, name: &str) -> Vec<u8> {
    let name = FileDescriptorProto {
        name: Some(name.to_owned()),
        ..FileDescriptorProto::default()
    };
    encoded.extend(name.encode_to_vec());
    encoded
}

impl FileResolver for MemoryResolver {
    fn open_file(&self, name: &str) -> Result<File, Error> {
        if name == ROOT {
            return match &self.root {
                Root::Text(text) => File::from_source(ROOT, text),
                Root::Encoded(bytes) => {
                    File::decode_file_descriptor_proto(bytes.as_slice()).map_err(Error::new)
                }
            };
        }
        if let Some(bytes) = self.imports.get(name) {
            return File::decode_file_descriptor_proto(bytes.as_slice()).map_err(Error::new);
        }
        if let Some(text) = wellknown::source(name) {
            return File::from_source(name, text);
        }
        self.google.open_file(name)
    }
}
