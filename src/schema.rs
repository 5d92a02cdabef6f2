//! JSON Schemas of the saved profile and of every JSON document mlcompat writes (one machine's
//! report, a fleet's, the error document, `fix --format json`), generated from the Rust types so
//! they cannot disagree with what mlcompat reads and writes (`schemas/*.json`, kept current by
//! tests/schema.rs).

use crate::assessment::{Assessment, ErrorDocument, Fleet};
use crate::profile::Profile;
use crate::report::FixDocument;

/// The saved profile's schema (what `--profile` reads).
pub fn profile() -> String {
    pretty(schemars::schema_for!(Profile))
}

/// One machine's report (`check --format json` with one machine).
pub fn report() -> String {
    pretty(schemars::schema_for!(Assessment))
}

/// Several machines' reports (`check --format json` with two or more profiles).
pub fn fleet() -> String {
    pretty(schemars::schema_for!(Fleet<'static>))
}

/// The document on stdout when a JSON run fails (exit 2).
pub fn error() -> String {
    pretty(schemars::schema_for!(ErrorDocument))
}

/// `fix --format json`.
pub fn fix() -> String {
    pretty(schemars::schema_for!(FixDocument))
}

fn pretty(schema: schemars::Schema) -> String {
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
