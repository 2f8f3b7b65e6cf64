//! Protobuf compatibility with Confluent Schema Registry's difference model.
//!
//! Two files are walked side by side as Confluent's `SchemaDiff` walks them ([`differ`]):
//! the package, then messages and enums matched by simple name per scope, the fields of a
//! message matched by number whatever oneof they sit in ([`message`]), and each pair of
//! fields by name, type shape and label ([`field`]). Message-typed fields are compared by
//! name below the package, and a type from an imported file is followed into that file.
//! Every difference is reported with Confluent's name for it ([`kinds`]); the incompatible
//! ones become [`Violation`]s ([`explain`]).

mod differ;
mod explain;
mod field;
mod kinds;
mod message;

use prost_reflect::FileDescriptor;

use super::{Difference, Violation};
use differ::{Differ, Found};

/// Every difference from `original` to `update`, in the order they were found.
fn differences(original: &FileDescriptor, update: &FileDescriptor) -> Vec<Found> {
    Differ::new(original, update).run(original, update)
}

/// What stops `reader` from reading data written with `writer`: the incompatible
/// differences of the diff from `writer` (original) to `reader` (update).
// Wired into `collect` once `Parsed::Protobuf` exists; until then only the tests call it.
#[allow(dead_code)]
pub(super) fn can_read(reader: &FileDescriptor, writer: &FileDescriptor) -> Vec<Violation> {
    differences(writer, reader)
        .into_iter()
        .filter(|found| !found.kind.is_compatible())
        .map(|found| {
            let (message, hint) = explain::explain(&found);
            Violation::new(found.kind.as_str(), found.location(), message, hint)
        })
        .collect()
}

/// Every difference Confluent's Protobuf diff reports from `original` to `update`,
/// compatible ones included, in the order they were found. Locations are message paths
/// with oneof names and field or constant numbers, e.g. `#/Order/3`; types of imported files
/// are found through each file's descriptor pool.
///
/// ```
/// use herald_registry::schema::protobuf_differences;
/// use protox::file::{File, FileResolver};
///
/// /// Serves one file, `order.proto`.
/// struct Source(&'static str);
///
/// impl FileResolver for Source {
///     fn open_file(&self, name: &str) -> Result<File, protox::Error> {
///         match name {
///             "order.proto" => File::from_source(name, self.0),
///             _ => Err(protox::Error::file_not_found(name)),
///         }
///     }
/// }
///
/// let compile = |text| -> Result<_, protox::Error> {
///     let mut compiler = protox::Compiler::with_file_resolver(Source(text));
///     compiler.open_file("order.proto")?;
///     Ok(compiler.descriptor_pool().get_file_by_name("order.proto"))
/// };
/// let v1 = compile("syntax = \"proto3\"; message Order { int32 id = 1; }")?.unwrap();
/// let v2 = compile("syntax = \"proto3\"; message Order { string id = 1; }")?.unwrap();
/// let found = protobuf_differences(&v1, &v2);
/// assert_eq!(found[0].to_string(), "FIELD_SCALAR_KIND_CHANGED #/Order/1");
/// assert!(!found[0].compatible);
/// # Ok::<(), protox::Error>(())
/// ```
pub fn protobuf_differences(original: &FileDescriptor, update: &FileDescriptor) -> Vec<Difference> {
    differences(original, update)
        .into_iter()
        .map(|found| Difference {
            kind: found.kind.as_str().to_owned(),
            location: found.location(),
            compatible: found.kind.is_compatible(),
        })
        .collect()
}
