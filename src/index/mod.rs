#![warn(missing_docs)]
//! Knowledge from the package index (DESIGN.md, "Knowledge from the package index"): which
//! wheels exist for which Python, OS, architecture, glibc and macOS version, what each release
//! requires, and what pip would install on a target.
//!
//! - [`knowledge`]: the snapshot compiled into the binary, overlaid by `refresh`'s cache; read
//!   lazily, one package at a time, never from the network.
//! - [`install`]: what an installer picks on a [`Target`]; [`requires`]: a release's
//!   `Requires-Dist` with markers evaluated for the target; [`tags`]: wheel-tag compatibility.
//! - [`refresh`] (with [`http`], [`simple`], [`metadata`]): reading an index into a folder of
//!   files in the [`format`] the snapshot uses (`mlcompat refresh` and the snapshot script).

pub mod cache;
pub mod format;
pub mod http;
pub mod install;
pub mod knowledge;
pub mod list;
pub mod metadata;
pub mod package;
pub mod refresh;
pub mod requires;
pub mod simple;
pub mod tags;
pub mod target;
pub mod wheel;

pub use install::{Choice, Outcome, Why, choose};
pub use knowledge::{Knowledge, snapshot_as_of};
pub use package::{Package, Release};
pub use requires::requires_dist;
pub use target::{Implementation, Libc, Target};
