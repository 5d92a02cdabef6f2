//! Knowledge from the package index (DESIGN.md, "Knowledge from the package index"): which
//! wheels exist for which Python, OS, architecture, glibc and macOS version, what each release
//! requires, and what pip would install on a target.
//!
//! - [`install`]: what an installer picks on a [`Target`]; [`requires`]: a release's
//!   `Requires-Dist` with markers evaluated for the target; [`tags`]: wheel-tag compatibility.
//! - [`package`] and [`format`]: one package's releases, and the text file that holds them.

pub mod format;
pub mod install;
pub mod package;
pub mod requires;
pub mod tags;
pub mod target;

pub use install::{Choice, Outcome, Why, choose};
pub use package::{Package, Release};
pub use requires::requires_dist;
pub use target::{Implementation, Libc, Target};
