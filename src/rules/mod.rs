//! The rules engine: YAML rules (built in, plus `--rules` files) judged against a machine and a
//! project. Knowledge lives in `rules/*.yaml`; this module only knows the grammar.

mod catalogue;
mod condition;
mod engine;
mod facts;
mod memory;
mod model;
mod selftest;

pub use catalogue::{Catalogue, LintIssue, LoadedRule, Recommendation};
/// Version-set arithmetic, for the property tests and fuzz targets (not a stable API).
#[doc(hidden)]
pub use condition::{describe, release_range, specifiers};
pub use engine::assess;
pub use facts::judged_python_version;
pub use memory::MemoryEstimate;
pub use model::Rule;
pub use selftest::{TestFailure, run_tests, test_profile};

/// The memory model's estimate for a project on a machine, as `check` computes it: for tests
/// that hold the model against published figures, and for tools built on the library.
pub fn estimate_memory(
    profile: &crate::profile::Profile,
    project: &crate::project::Project,
    catalogue: &Catalogue,
) -> Option<MemoryEstimate> {
    facts::Facts::new(profile, project, catalogue).memory
}
