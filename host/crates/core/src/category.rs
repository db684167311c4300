//! The ten VaPR task categories, spelled exactly as every output file records them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One of the paper's ten task categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Counting,
    Spatial,
    Object,
    Color,
    Size,
    Background,
    Existence,
    Referential,
    Captioning,
    Reasoning,
}

impl Category {
    /// All categories in the paper's order.
    pub const ALL: [Category; 10] = [
        Category::Counting,
        Category::Spatial,
        Category::Object,
        Category::Color,
        Category::Size,
        Category::Background,
        Category::Existence,
        Category::Referential,
        Category::Captioning,
        Category::Reasoning,
    ];

    /// The recorded name (`counting`, `spatial`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Counting => "counting",
            Category::Spatial => "spatial",
            Category::Object => "object",
            Category::Color => "color",
            Category::Size => "size",
            Category::Background => "background",
            Category::Existence => "existence",
            Category::Referential => "referential",
            Category::Captioning => "captioning",
            Category::Reasoning => "reasoning",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name that is not one of the ten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category `{0}` (expected one of: counting, spatial, object, color, size, background, existence, referential, captioning, reasoning)"
)]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase();
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == key)
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), c);
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Category>(&json).unwrap(), c);
        }
    }

    #[test]
    fn unknown_name_lists_the_ten() {
        let err = "colour".parse::<Category>().unwrap_err();
        assert!(err.to_string().contains("colour"));
        assert!(err.to_string().contains("captioning"));
    }
}
