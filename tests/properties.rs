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
