//! The built-in catalogue as build.rs compacts it for `check`: each rule's id, line, needs,
//! setting keys and `rules list` columns as plain values, its condition and texts as JSON
//! compiled only for the rules a project needs. Strings live in two tables and are named by
//! byte range, so nothing is parsed or relocated at start-up and the short strings every run
//! reads sit together.

use crate::assessment::Status;

/// Ids, package names, setting keys, components and titles, end to end.
const NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/builtin_names.txt"));
/// The rules' conditions and texts, and the files' other keys, as JSON, end to end.
const JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/builtin_json.txt"));

include!(concat!(env!("OUT_DIR"), "/builtin_compact.rs"));

/// A string of [`NAMES`], by byte range.
#[derive(Clone, Copy, Debug)]
pub(super) struct Name(usize, usize);

impl Name {
    pub(super) fn get(self) -> &'static str {
        NAMES.get(self.0..self.1).unwrap_or_default()
    }
}

/// A JSON document of [`JSON`], by byte range; empty when there is none.
#[derive(Clone, Copy, Debug)]
pub(super) struct Json(usize, usize);

impl Json {
    pub(super) fn get(self) -> &'static str {
        JSON.get(self.0..self.1).unwrap_or_default()
    }
}

/// A run of `LISTS`, by index range.
#[derive(Clone, Copy, Debug)]
pub(super) struct List(usize, usize);

impl List {
    pub(super) fn get(self) -> impl Iterator<Item = &'static str> {
        LISTS
            .get(self.0..self.1)
            .unwrap_or_default()
            .iter()
            .map(|name| name.get())
    }
}

/// A built-in rule file.
pub(super) struct BuiltinFile {
    pub file: Name,
    /// The file's other keys (aliases, recommendations, the memory and recipe models).
    pub shared: Json,
    /// Its rules: a range of [`RULES`].
    pub rules: std::ops::Range<usize>,
}

/// A built-in rule: what picks the rules a project can meet and what `rules list` shows, as
/// values; the rest as JSON, compiled when a project needs the rule.
#[derive(Debug)]
pub(super) struct BuiltinRule {
    pub line: u64,
    pub id: Name,
    /// The packages one of which a project must declare for the rule to apply.
    pub needs: Option<List>,
    /// The setting keys it tests or sets.
    pub keys: List,
    pub component: Name,
    pub status: Status,
    pub title: Name,
    /// Whether it can warn or fail about how a package runs (see
    /// [`super::catalogue::LoadedRule::judges_running`]).
    pub judges_running: bool,
    /// What the engine evaluates.
    pub rule: Json,
    /// The rule's texts, left unparsed until it fires.
    pub prose: Json,
}
