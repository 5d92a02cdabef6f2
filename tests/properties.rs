//! Properties that must hold for every input, not just the examples in the unit tests.

use mlcompat::size::ByteSize;
use proptest::prelude::*;

proptest! {
    /// Whatever a person writes, parsing a size never panics.
    #[test]
    fn size_parsing_never_panics(text in "\\PC{0,24}") {
        let _ = ByteSize::parse(&text);
    }

    /// A size printed in whole units parses back to the same number of bytes.
    #[test]
    fn whole_units_round_trip(value in 1u64..4096, unit in 0usize..5) {
        let names = ["B", "KB", "MB", "GB", "TB"];
        let bytes = value << (10 * unit);
        let parsed = ByteSize::parse(&format!("{value} {}", names[unit])).unwrap();
        prop_assert_eq!(parsed, ByteSize(bytes));
        prop_assert_eq!(ByteSize::parse(&format!("{value}{}", names[unit].to_lowercase())).unwrap(), parsed);
    }

    /// The display is within 5 % of the value (one decimal in the largest unit).
    #[test]
    fn display_is_close(bytes in 1u64..(1u64 << 50)) {
        let shown = ByteSize::parse(&ByteSize(bytes).to_string()).unwrap();
        let error = (shown.0 as f64 - bytes as f64).abs() / bytes as f64;
        prop_assert!(error < 0.05, "{} shown as {}", bytes, ByteSize(bytes));
    }

    /// Every profile text either loads or is refused with the file named; none panics.
    #[test]
    fn profiles_never_panic(text in "(schema_version: [0-9]\\n)?(system:\\n  (os|arch|memory|cores): [a-z0-9 {}:,]{0,12}\\n){0,3}") {
        if let Err(error) = mlcompat::profile::Profile::parse(&text, std::path::Path::new("p.yaml")) {
            prop_assert!(error.to_string().starts_with("p.yaml"));
        }
    }
}

mod version_ranges {
    //! The version-set arithmetic behind "which versions avoid the problem".

    use mlcompat::rules::{describe, release_range, specifiers};
    use pep440_rs::Version;
    use proptest::prelude::*;
    use std::str::FromStr;
    use version_ranges::Ranges;

    fn version() -> impl Strategy<Value = String> {
        (0u8..4, 0u8..4, proptest::option::of(0u8..3)).prop_map(|(a, b, c)| match c {
            Some(c) => format!("{a}.{b}.{c}"),
            None => format!("{a}.{b}"),
        })
    }

    fn clause() -> impl Strategy<Value = String> {
        let op = prop::sample::select(vec!["==", "!=", ">=", "<=", ">", "<", "~="]);
        prop_oneof![
            (op, version()).prop_map(|(op, v)| format!("{op}{v}")),
            (0u8..4, 0u8..4).prop_map(|(a, b)| format!("=={a}.{b}.*")),
            (0u8..4, 0u8..4).prop_map(|(a, b)| format!("!={a}.{b}.*")),
        ]
    }

    fn specifier() -> impl Strategy<Value = String> {
        prop::collection::vec(clause(), 1..4).prop_map(|clauses| clauses.join(","))
    }

    /// Every release version near the generated boundaries.
    fn samples() -> Vec<Version> {
        let mut all = Vec::new();
        for a in 0..5 {
            for b in 0..5 {
                all.push(Version::from_str(&format!("{a}.{b}")).unwrap());
                for c in 0..4 {
                    all.push(Version::from_str(&format!("{a}.{b}.{c}")).unwrap());
                }
            }
        }
        all
    }

    fn range(spec: &str) -> Option<Ranges<Version>> {
        specifiers(spec).map(release_range)
    }

    /// What `describe` printed, read back: its pieces are joined by " or ".
    fn read_back(text: &str) -> Ranges<Version> {
        if text.is_empty() {
            return Ranges::empty();
        }
        text.split(" or ").fold(Ranges::empty(), |union, piece| {
            let piece = if piece == "any version" {
                Ranges::full()
            } else {
                range(piece).unwrap_or_else(|| panic!("`{piece}` of `{text}` does not parse"))
            };
            union.union(&piece)
        })
    }

    proptest! {
        /// `describe(range)` is a specifier a person can paste that means the same versions.
        #[test]
        fn describe_reads_back_as_the_same_set(spec in specifier()) {
            let Some(set) = range(&spec) else { return Ok(()); };
            let text = describe(&set);
            let back = read_back(&text);
            for v in samples() {
                prop_assert_eq!(set.contains(&v), back.contains(&v), "{} -> {} at {}", spec, text, v);
            }
        }

        /// A declared range is inside a rule's range, outside it, or straddles it: never both
        /// inside and outside; and "the versions that avoid it" are exactly the declared ones
        /// the rule does not cover.
        #[test]
        fn a_declared_range_is_never_both_inside_and_outside(declared in specifier(), rule in specifier()) {
            let (Some(d), Some(r)) = (range(&declared), range(&rule)) else { return Ok(()); };
            let inside = d.subset_of(&r);
            let outside = d.is_disjoint(&r);
            let any = samples().into_iter().any(|v| d.contains(&v));
            prop_assert!(!(inside && outside && any), "{} vs {}", declared, rule);
            let avoid = read_back(&describe(&d.intersection(&r.complement())));
            for v in samples() {
                prop_assert_eq!(avoid.contains(&v), d.contains(&v) && !r.contains(&v), "{} vs {} at {}", declared, rule, v);
                if inside && d.contains(&v) { prop_assert!(r.contains(&v)); }
                if outside && d.contains(&v) { prop_assert!(!r.contains(&v)); }
            }
        }
    }
}
