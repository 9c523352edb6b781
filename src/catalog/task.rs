//! The five classification tasks every product is labelled for.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the five labelling tasks. `Type > Category > Subcategory` form the taxonomy tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Who the product is for (Men, Women, Unisex, ...).
    Gender,
    /// The product's dominant colour.
    Colour,
    /// Top level of the taxonomy (Apparel, Footwear, ...).
    Type,
    /// Middle level of the taxonomy (Topwear, Shoes, ...).
    Category,
    /// Leaf level of the taxonomy (Tshirts, Sneakers, ...).
    Subcategory,
}

impl Task {
    /// All tasks in their canonical order (the order of model heads and label columns).
    pub const ALL: [Task; 5] = [
        Task::Gender,
        Task::Colour,
        Task::Type,
        Task::Category,
        Task::Subcategory,
    ];

    /// Position of the task in [`Task::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Canonical lowercase name, also the manifest column name.
    pub fn name(self) -> &'static str {
        match self {
            Task::Gender => "gender",
            Task::Colour => "colour",
            Task::Type => "type",
            Task::Category => "category",
            Task::Subcategory => "subcategory",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A task name that is none of the five.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown task '{}' (expected one of: gender, colour, type, category, subcategory)",
    super::text::excerpt(.0)
)]
pub struct UnknownTask(pub String);

impl FromStr for Task {
    type Err = UnknownTask;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gender" => Ok(Task::Gender),
            "colour" | "color" => Ok(Task::Colour),
            "type" => Ok(Task::Type),
            "category" => Ok(Task::Category),
            "subcategory" | "sub_category" | "sub-category" => Ok(Task::Subcategory),
            _ => Err(UnknownTask(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_accept_american_spelling() {
        for task in Task::ALL {
            assert_eq!(task.name().parse::<Task>(), Ok(task));
            assert_eq!(Task::ALL[task.index()], task);
        }
        assert_eq!("Color".parse::<Task>(), Ok(Task::Colour));
        assert!("size".parse::<Task>().is_err());
    }
}
