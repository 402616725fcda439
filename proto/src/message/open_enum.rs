//! Decoding tagged enums that a newer peer may extend.
//!
//! Our wire enums are externally tagged: `{"alarm": {...}}`, or a bare
//! string for variants without data. serde's derive refuses a tag it does
//! not know, which would make an older unit drop a whole message because a
//! newer hub added one variant. These enums instead decode an unknown tag
//! into their `Unknown` variant (keeping the tag's name), skip its payload,
//! and let the caller decide what to do with it.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};

/// An enum whose unknown tags decode into a value instead of an error.
pub(crate) trait OpenEnum: Sized {
    /// What the decoder expected, for error messages.
    const EXPECTING: &'static str;

    /// Decodes the payload of a known tag from `map`, or returns `None`
    /// without reading anything when `tag` is unknown.
    fn known<'de, A: MapAccess<'de>>(tag: &str, map: &mut A) -> Result<Option<Self>, A::Error>;

    /// A variant without data, written as a bare string.
    fn unit_variant(_tag: &str) -> Option<Self> {
        None
    }

    /// The value for an unknown tag.
    fn unknown(tag: String) -> Self;
}

/// The `deserialize` body for an [`OpenEnum`].
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: OpenEnum>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(OpenVisitor(PhantomData))
}

struct OpenVisitor<T>(PhantomData<T>);

impl<'de, T: OpenEnum> Visitor<'de> for OpenVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, tag: &str) -> Result<T, E> {
        Ok(T::unit_variant(tag).unwrap_or_else(|| T::unknown(bounded(tag))))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let tag: String = map
            .next_key()?
            .ok_or_else(|| de::Error::invalid_length(0, &"a map with exactly one entry"))?;
        let value = match T::known(&tag, &mut map)? {
            Some(value) => value,
            None => {
                map.next_value::<IgnoredAny>()?;
                T::unknown(bounded(&tag))
            }
        };
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(
                2,
                &"a map with exactly one entry",
            ));
        }
        Ok(value)
    }
}

/// Unknown tags are kept for logs; a hostile peer cannot make them large.
fn bounded(tag: &str) -> String {
    tag.chars().take(64).collect()
}
