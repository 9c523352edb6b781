//! The answer file of a demo catalogue: every deliberately wrong label with its truth, so
//! moderation tools and label-noise detectors can be scored.

use super::DemoError;
use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One deliberately wrong label of a demo catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongLabel {
    /// The product.
    pub product_id: String,
    /// The task whose label is wrong.
    pub task: Task,
    /// The label written to the manifest.
    pub given: String,
    /// The label the images show.
    pub truth: String,
}

/// A row of `answers.csv`; the task is kept as text so a bad name is reported with its line.
#[derive(Debug, Serialize, Deserialize)]
struct Row<'a> {
    product_id: &'a str,
    task: &'a str,
    given: &'a str,
    truth: &'a str,
}

/// Writes `answers` to `path` with the header `product_id,task,given,truth`.
pub fn write_answers(path: &Path, answers: &[WrongLabel]) -> Result<(), DemoError> {
    let csv_error = |reason| DemoError::Csv {
        path: path.to_path_buf(),
        reason,
    };
    // Serialising an empty list writes no header, so the header is written by hand.
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_path(path)
        .map_err(csv_error)?;
    writer
        .write_record(["product_id", "task", "given", "truth"])
        .map_err(csv_error)?;
    for answer in answers {
        writer
            .serialize(Row {
                product_id: &answer.product_id,
                task: answer.task.name(),
                given: &answer.given,
                truth: &answer.truth,
            })
            .map_err(csv_error)?;
    }
    writer.flush().map_err(|reason| DemoError::Io {
        path: path.to_path_buf(),
        reason,
    })
}

/// Reads the answer file of a demo catalogue (`answers.csv`).
pub fn read_answers(path: &Path) -> Result<Vec<WrongLabel>, DemoError> {
    let csv_error = |reason| DemoError::Csv {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_error)?;
    let mut answers = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        let row: Row = record.deserialize(None).map_err(csv_error)?;
        let task = row.task.parse().map_err(|e| DemoError::BadAnswer {
            path: path.to_path_buf(),
            line,
            message: format!("{e}"),
        })?;
        answers.push(WrongLabel {
            product_id: row.product_id.to_string(),
            task,
            given: row.given.to_string(),
            truth: row.truth.to_string(),
        });
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_with_quoting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.csv");
        let answers = vec![
            WrongLabel {
                product_id: "p0001".into(),
                task: Task::Colour,
                given: "Navy Blue".into(),
                truth: "Black".into(),
            },
            WrongLabel {
                product_id: "p0002, \"odd\"".into(),
                task: Task::Subcategory,
                given: "Shirts".into(),
                truth: "Tshirts".into(),
            },
        ];
        write_answers(&path, &answers).unwrap();
        assert_eq!(read_answers(&path).unwrap(), answers);

        write_answers(&path, &[]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "product_id,task,given,truth\n"
        );
        assert!(read_answers(&path).unwrap().is_empty());
    }

    #[test]
    fn a_bad_task_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("answers.csv");
        std::fs::write(
            &path,
            "product_id,task,given,truth\np1,colour,Red,Blue\np2,size,M,L\n",
        )
        .unwrap();
        let error = read_answers(&path).unwrap_err();
        assert!(
            matches!(error, DemoError::BadAnswer { line: 3, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("answers.csv:3"), "{error}");
        assert!(matches!(
            read_answers(&dir.path().join("missing.csv")),
            Err(DemoError::Csv { .. })
        ));
    }
}
