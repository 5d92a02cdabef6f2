//! The sentences mlcompat writes about what it judged itself (what the package index shows, how
//! a package came into the project, the edits a change makes), as data: `wording/engine.yaml`.
//! The rules' own sentences are their templates; these are the engine's, kept out of its code so
//! that the engine decides and the words are reviewed in one place.
//!
//! build.rs turns each message into a function whose parameters are its placeholders, in
//! alphabetical order: `wording::wheel_title(name, on, version)` for
//! `"{name} {version} installs from a wheel on {on}"`.

include!(concat!(env!("OUT_DIR"), "/wording.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn a_message_fills_its_placeholders_by_name() {
        assert_eq!(
            super::wheel_title("torch", "macOS arm64", "2.5.1"),
            "torch 2.5.1 installs from a wheel on macOS arm64"
        );
        assert_eq!(super::unjudged(), "no rule knows this package");
    }
}
