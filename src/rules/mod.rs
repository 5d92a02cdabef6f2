//! The rules engine: YAML rules (built in, plus `--rules` files) judged against a machine and a
//! project. Knowledge lives in `rules/*.yaml`; this module only knows the grammar.
//!
//! The way through: [`grammar`] is what a rule file says; [`compile`] turns it, once at load,
//! into the typed [`rule`]s the [`catalogue`] holds; [`engine`] evaluates them against the
//! [`facts`] ([`condition`] in four-valued logic, [`memory`] for the memory model), fills their
//! [`template`]s, points their [`changes`] at lines, and [`fold`]s findings into components.
//! The built-in rules come [`builtin`], compacted by build.rs.

mod builtin;
mod catalogue;
mod changes;
mod compile;
mod condition;
mod engine;
mod facts;
mod fold;
mod grammar;
mod memory;
mod memory_model;
mod pattern;
mod prose;
mod recipes;
mod rule;
mod selftest;
mod template;
mod variables;
mod versions;
mod wheels;

pub use catalogue::{Catalogue, LintIssue, Listing, LoadedRule, Recommendation};
pub use engine::{assess, judge};
pub use facts::judged_python_version;
/// The fold of components into a verdict and counts, for judging again after suppressions.
pub use fold::{summary, verdict};
pub use memory_model::MemoryEstimate;
pub use rule::{Condition, Rule};
pub use selftest::{TestFailure, run_tests, test_profile};
/// Version-set arithmetic, for the property tests and fuzz targets (not a stable API).
#[doc(hidden)]
pub use versions::{describe, merge_requirement, release_range, specifiers};
/// The pseudo-rule id of a pair pip cannot install together; `fix` moves such pins together.
pub use wheels::PAIR_RULE;
/// The pseudo-rule id of the index's wheel findings.
pub use wheels::RULE as WHEEL_RULE;

/// The memory model's estimate for a project on a machine, as `check` computes it: for tests
/// that hold the model against published figures, and for tools built on the library.
pub fn estimate_memory(
    profile: &crate::profile::Profile,
    project: &crate::project::Project,
    catalogue: &Catalogue,
) -> Option<MemoryEstimate> {
    memory::estimate(&facts::Facts::new(profile, project, catalogue))
}
