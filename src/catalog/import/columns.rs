//! Which source column feeds which product field (`--map colour=baseColour`).

use super::ImportError;
use crate::catalog::Task;
use crate::catalog::text::excerpt_list;
use std::fmt;
use std::str::FromStr;

/// A product field a column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The unique product id.
    ProductId,
    /// The display name.
    Name,
    /// `|`-separated image paths.
    Images,
    /// `|`-separated view tags, one per image.
    Views,
    /// The label of one task.
    Label(Task),
}

impl Field {
    /// Canonical name (also the manifest column name).
    pub fn name(self) -> &'static str {
        match self {
            Field::ProductId => "product_id",
            Field::Name => "name",
            Field::Images => "images",
            Field::Views => "views",
            Field::Label(task) => task.name(),
        }
    }

    /// Column names tried, in order, when no mapping names the field.
    pub fn default_columns(self) -> &'static [&'static str] {
        match self {
            Field::ProductId => &["product_id", "id", "group_id", "sku"],
            Field::Name => &["name", "product_name", "title", "productDisplayName"],
            Field::Images => &["images", "image", "image_paths"],
            Field::Views => &["views", "view_tags"],
            Field::Label(Task::Gender) => &["gender"],
            Field::Label(Task::Colour) => &["colour", "color"],
            Field::Label(Task::Type) => &["type"],
            Field::Label(Task::Category) => &["category"],
            Field::Label(Task::Subcategory) => &["subcategory"],
        }
    }

    /// Every field.
    pub const ALL: [Field; 9] = [
        Field::ProductId,
        Field::Name,
        Field::Images,
        Field::Views,
        Field::Label(Task::Gender),
        Field::Label(Task::Colour),
        Field::Label(Task::Type),
        Field::Label(Task::Category),
        Field::Label(Task::Subcategory),
    ];
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "product_id" | "id" => Ok(Field::ProductId),
            "name" => Ok(Field::Name),
            "images" => Ok(Field::Images),
            "views" | "view_tags" => Ok(Field::Views),
            other => other.parse::<Task>().map(Field::Label).map_err(|_| ()),
        }
    }
}

/// Explicit `field=column` choices; fields not named fall back to their default columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap {
    entries: Vec<(Field, String)>,
}

impl ColumnMap {
    /// Parses `FIELD=COLUMN` items as given on the command line.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, ImportError> {
        let mut map = ColumnMap::default();
        for item in items {
            let item = item.as_ref();
            let (field, column) = item
                .split_once('=')
                .ok_or_else(|| ImportError::BadMapping(item.to_string()))?;
            let field: Field = field
                .parse()
                .map_err(|_| ImportError::BadMapping(item.to_string()))?;
            if column.trim().is_empty() {
                return Err(ImportError::BadMapping(item.to_string()));
            }
            map.set(field, column.trim());
        }
        Ok(map)
    }

    /// Sets (or replaces) the column of `field`.
    pub fn set(&mut self, field: Field, column: &str) {
        self.entries.retain(|(f, _)| *f != field);
        self.entries.push((field, column.to_string()));
    }

    /// The explicit column of `field`, if one was given.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.entries
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c.as_str())
    }

    /// Fills fields not set here from `other` (command line wins over a mapping file).
    pub fn or(mut self, other: &ColumnMap) -> ColumnMap {
        for (field, column) in &other.entries {
            if self.get(*field).is_none() {
                self.entries.push((*field, column.clone()));
            }
        }
        self
    }

    /// Whether no field is mapped explicitly.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The explicit entries.
    pub fn entries(&self) -> impl Iterator<Item = (Field, &str)> {
        self.entries.iter().map(|(f, c)| (*f, c.as_str()))
    }
}

/// Finds the column feeding each field: the explicit mapping first (an error if absent from the
/// header), else the first of `defaults(field)` present. Fields with no column are left out.
pub(crate) fn resolve(
    path: &std::path::Path,
    header: &[String],
    map: &ColumnMap,
    defaults: impl Fn(Field) -> &'static [&'static str],
) -> Result<std::collections::BTreeMap<Field, usize>, ImportError> {
    let position = |name: &str| header.iter().position(|h| h == name);
    let mut resolved = std::collections::BTreeMap::new();
    for field in Field::ALL {
        let found = match map.get(field) {
            Some(column) => Some(position(column).ok_or_else(|| ImportError::MissingColumn {
                path: path.to_path_buf(),
                field: field.name().to_string(),
                column: column.to_string(),
                available: excerpt_list(header),
            })?),
            None => defaults(field).iter().find_map(|c| position(c)),
        };
        if let Some(index) = found {
            resolved.insert(field, index);
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let map = ColumnMap::parse(&["colour=baseColour", "product_id=group_id"]).unwrap();
        assert_eq!(map.get(Field::Label(Task::Colour)), Some("baseColour"));
        assert_eq!(map.get(Field::ProductId), Some("group_id"));
        assert!(ColumnMap::parse(&["size=Size"]).is_err());
        assert!(ColumnMap::parse(&["colour"]).is_err());
        assert!(ColumnMap::parse(&["colour="]).is_err());
        let merged = ColumnMap::parse(&["colour=a"])
            .unwrap()
            .or(&ColumnMap::parse(&["colour=b", "type=t"]).unwrap());
        assert_eq!(merged.get(Field::Label(Task::Colour)), Some("a"));
        assert_eq!(merged.get(Field::Label(Task::Type)), Some("t"));
    }

    #[test]
    fn resolve_prefers_mapping_and_reports_missing_columns() {
        let header: Vec<String> = ["group_id", "colour", "baseColour"]
            .map(String::from)
            .into();
        let path = std::path::Path::new("m.csv");
        let map = ColumnMap::parse(&["colour=baseColour"]).unwrap();
        let r = resolve(path, &header, &map, Field::default_columns).unwrap();
        assert_eq!(r[&Field::ProductId], 0);
        assert_eq!(r[&Field::Label(Task::Colour)], 2);
        assert!(!r.contains_key(&Field::Images));
        let bad = ColumnMap::parse(&["type=masterCategory"]).unwrap();
        let err = resolve(path, &header, &bad, Field::default_columns).unwrap_err();
        assert!(
            err.to_string().contains("no column 'masterCategory'"),
            "{err}"
        );
    }
}
