//! A catalogue source: where a catalogue is and how to read it (its file or folder, the
//! column mapping, the image folder). The command line, the window's open requests and its
//! recent list, and a run's configuration all name a catalogue with this one type.

use super::{ColumnMap, ImportError, ImportOptions};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where a catalogue is and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The catalogue: a folder (with styles.csv or manifest.csv/.jsonl) or a file.
    // The window's recent list named the fields `path`, `map` and `images`; they still read.
    #[serde(alias = "path")]
    pub catalogue: PathBuf,
    /// Column mapping items, `FIELD=COLUMN` (`colour=baseColour`).
    #[serde(default, alias = "map")]
    pub columns: Vec<String>,
    /// Folder the image paths are relative to, when not the format's default.
    #[serde(default, alias = "images")]
    pub image_root: Option<PathBuf>,
}

impl Source {
    /// The catalogue at `catalogue`, read with the format's defaults.
    pub fn new(catalogue: impl Into<PathBuf>) -> Self {
        Source {
            catalogue: catalogue.into(),
            columns: Vec::new(),
            image_root: None,
        }
    }

    /// The import options this source describes (no progress reporting).
    pub fn options(&self) -> Result<ImportOptions, ImportError> {
        Ok(ImportOptions {
            columns: ColumnMap::parse(&self.columns)?,
            image_root: self.image_root.clone(),
            progress: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn options_carry_the_mapping_and_image_folder_and_bad_mappings_are_refused() {
        let source = Source {
            catalogue: "styles.csv".into(),
            columns: vec!["colour=baseColour".into()],
            image_root: Some("photos".into()),
        };
        let options = source.options().unwrap();
        assert_eq!(options.image_root.as_deref(), Some(Path::new("photos")));
        assert_eq!(
            options.columns,
            ColumnMap::parse(&["colour=baseColour"]).unwrap()
        );
        let bad = Source {
            columns: vec!["size=Size".into()],
            ..Source::new("styles.csv")
        };
        assert!(bad.options().is_err());
    }

    #[test]
    fn the_recent_lists_older_field_names_still_read() {
        let old = r#"{"path":"a/manifest.csv","map":["colour=c"],"images":"img"}"#;
        let source: Source = serde_json::from_str(old).unwrap();
        assert_eq!(
            source,
            Source {
                catalogue: "a/manifest.csv".into(),
                columns: vec!["colour=c".into()],
                image_root: Some("img".into()),
            }
        );
    }
}
