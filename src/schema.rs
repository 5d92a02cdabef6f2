//! JSON Schemas of the saved profile and of the JSON report, generated from the Rust types so
//! they cannot disagree with what mlcompat reads and writes (`schemas/*.json`, kept current by
//! tests/schema.rs).

use crate::assessment::Assessment;
use crate::profile::Profile;

pub fn profile() -> String {
    pretty(schemars::schema_for!(Profile))
}

pub fn report() -> String {
    pretty(schemars::schema_for!(Assessment))
}

fn pretty(schema: schemars::Schema) -> String {
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
