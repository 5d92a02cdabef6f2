//! mlcompat: will this ML project run on this machine, and if not, what exactly must change?
//!
//! The pipeline, one module a stage, plain data between them:
//! [`probe`] (this machine) or a saved [`profile`] → [`project`] scan → [`rules`] engine →
//! [`assessment`] → [`report`].

#![warn(missing_docs)]

pub mod assessment;
pub mod config;
pub mod distro;
pub mod fix;
pub mod index;
pub mod names;
pub mod pipeline;
pub mod probe;
pub mod profile;
pub mod project;
pub mod publish;
pub mod reader;
pub mod report;
pub mod rules;
pub mod schema;
pub mod size;
pub mod source;
pub mod wording;
