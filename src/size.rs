//! Memory sizes as people write them (`8 GB`, `80GiB`, `512 MiB`) and as the probe reads them (bytes).
//!
//! RAM and VRAM are sold in powers of 1024, so `GB` here means GiB: an "8 GB" Mac reports
//! 8589934592 bytes, and a hand-written profile that says `8 GB` must mean the same machine.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

const UNITS: [(&str, u32); 5] = [("", 0), ("k", 1), ("m", 2), ("g", 3), ("t", 4)];

impl ByteSize {
    /// Bytes in a GiB (the `GB` of RAM and VRAM).
    pub const GIB: u64 = 1 << 30;

    /// A size in GiB, rounded to the byte.
    pub fn from_gib(gib: f64) -> Self {
        ByteSize((gib * Self::GIB as f64).round() as u64)
    }

    /// The size in GiB.
    pub fn gib(self) -> f64 {
        self.0 as f64 / Self::GIB as f64
    }

    /// Parses `8 GB`, `8GB`, `7.5 GiB`, `512M`, `1024` (bytes).
    ///
    /// ```
    /// use mlcompat::size::ByteSize;
    /// assert_eq!(ByteSize::parse("8 GB"), Ok(ByteSize(8 * 1024 * 1024 * 1024)));
    /// assert_eq!(ByteSize::parse("8 GB"), ByteSize::parse("8GiB"));
    /// assert!(ByteSize::parse("8 parsecs").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().map_err(|_| {
            format!("`{text}` is not a size: expected a number and a unit such as `8 GB`")
        })?;
        let unit = unit.trim().to_ascii_lowercase();
        let unit = unit
            .strip_suffix("ib")
            .or_else(|| unit.strip_suffix('b'))
            .unwrap_or(&unit);
        let power = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, power)| *power)
            .ok_or_else(|| format!("`{text}` has an unknown unit: expected B, KB, MB, GB or TB"))?;
        let bytes = number * 1024f64.powi(power as i32);
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
            return Err(format!("`{text}` is out of range"));
        }
        Ok(ByteSize(bytes.round() as u64))
    }
}

impl fmt::Display for ByteSize {
    /// One decimal at most, in the largest unit that keeps the number at or above 1: `8 GB`, `5.3 GB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, power) = UNITS
            .iter()
            .rev()
            .find(|(_, power)| self.0 >= 1u64 << (10 * power))
            .copied()
            .unwrap_or(("", 0));
        let value = self.0 as f64 / (1u64 << (10 * power)) as f64;
        let unit = if name.is_empty() {
            "B".to_string()
        } else {
            format!("{}B", name.to_ascii_uppercase())
        };
        if (value - value.round()).abs() < 0.05 {
            write!(f, "{} {unit}", value.round())
        } else {
            write!(f, "{value:.1} {unit}")
        }
    }
}

impl schemars::JsonSchema for ByteSize {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ByteSize".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Bytes, or a number and a unit (`8 GB`, `512 MiB`); KB/MB/GB/TB are powers of 1024.",
            "anyOf": [
                { "type": "number", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*([0-9]+\\.?[0-9]*|\\.[0-9]+)\\s*[KkMmGgTt]?([Ii][Bb]|[Bb])?\\s*$" }
            ]
        })
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size: integer bytes, or a number and a unit such as `8 GB`")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ByteSize, E> {
                ByteSize::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_powers_of_1024() {
        assert_eq!(ByteSize::parse("8 GB").unwrap().0, 8_589_934_592);
        assert_eq!(ByteSize::parse("8GiB").unwrap().0, 8_589_934_592);
        assert_eq!(ByteSize::parse("512 MiB").unwrap().0, 512 << 20);
        assert_eq!(ByteSize::parse("1.5 tb").unwrap().0, 3 << 39);
        assert_eq!(ByteSize::parse("80G").unwrap().0, 80 << 30);
        assert_eq!(ByteSize::parse("1024").unwrap().0, 1024);
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        assert!(ByteSize::parse("GB").is_err());
        assert!(ByteSize::parse("8 parsecs").is_err());
        assert!(ByteSize::parse("").is_err());
        assert!(ByteSize::parse("1e400 GB").is_err());
    }

    #[test]
    fn displays_in_the_largest_unit() {
        assert_eq!(ByteSize(8_589_934_592).to_string(), "8 GB");
        assert_eq!(ByteSize::from_gib(5.33).to_string(), "5.3 GB");
        assert_eq!(ByteSize(512).to_string(), "512 B");
    }
}
