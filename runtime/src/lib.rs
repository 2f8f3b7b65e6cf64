//! Herald: versioned events, codecs, upcast-on-read and an event store.
