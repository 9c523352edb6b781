//! Reviews in the store (see [`crate::labels::review`]): journalled like edits and never
//! deleted; a withdrawal fills in who withdrew it and when. Each write runs in an `IMMEDIATE`
//! transaction and is durable when the call returns.

use super::SqliteStore;
use crate::catalog::{Task, normalise_label};
use crate::labels::review::{Keep, Review, Standing, Withdrawal, Withdrawn};
use crate::labels::store::{LabelBase, StoreError, now_ms};
use rusqlite::{Connection, TransactionBehavior, params};
use std::path::Path;

const REVIEW_COLUMNS: &str =
    "id, product, task, label, photos, author, time_ms, withdrawn_by, withdrawn_ms";

impl SqliteStore {
    /// Journals that `author` checked the label `keep.label` of `keep.product` (a product of
    /// `base`) for `keep.task` and kept it, with the product's photos then. Returns the review.
    pub fn keep(
        &mut self,
        base: &impl LabelBase,
        keep: &Keep,
        author: &str,
    ) -> Result<Review, StoreError> {
        if base.position(&keep.product).is_none() {
            return Err(StoreError::UnknownProduct(keep.product.clone()));
        }
        let Some(label) = normalise_label(&keep.label) else {
            return Err(StoreError::NothingToKeep {
                path: self.path.clone(),
                product: keep.product.clone(),
                task: keep.task,
            });
        };
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let time_ms = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let changed = next_change(&tx).map_err(sql)?;
        tx.execute(
            "INSERT INTO reviews(product, task, label, photos, author, time_ms, changed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                keep.product,
                keep.task.name(),
                label,
                keep.photos.to_string(),
                author,
                time_ms,
                changed
            ],
        )
        .map_err(sql)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(sql)?;
        self.saw_review_change(changed);
        Ok(Review {
            id,
            product: keep.product.clone(),
            task: keep.task,
            label: label.to_string(),
            photos: keep.photos,
            author: author.to_string(),
            time_ms,
            withdrawn: None,
        })
    }

    /// Withdraws review `id` as `author` (the row stays, marked withdrawn). Returns it with
    /// what stands for its product and task since.
    pub fn withdraw_review(&mut self, id: i64, author: &str) -> Result<Withdrawn, StoreError> {
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let Some(mut review) = select_reviews(&tx, &path, "WHERE id = ?1", [id])?.pop() else {
            return Err(StoreError::UnknownReview { path, id });
        };
        if let Some(withdrawal) = review.withdrawn {
            return Err(StoreError::AlreadyWithdrawn {
                path,
                id,
                by: withdrawal.author,
            });
        }
        let changed = next_change(&tx).map_err(sql)?;
        let time_ms = now_ms();
        tx.execute(
            "UPDATE reviews SET withdrawn_by = ?1, withdrawn_ms = ?2, changed = ?3 WHERE id = ?4",
            params![author, time_ms, changed, id],
        )
        .map_err(sql)?;
        let standing = standing(&tx, &path, &review.product, review.task)?;
        tx.commit().map_err(sql)?;
        self.saw_review_change(changed);
        review.withdrawn = Some(Withdrawal {
            author: author.to_string(),
            time_ms,
        });
        Ok(Withdrawn { review, standing })
    }

    /// The standing reviews: per product and task, the latest one not withdrawn; oldest first.
    pub fn reviews(&mut self) -> Result<Vec<Review>, StoreError> {
        if !self.has_reviews {
            return Ok(Vec::new());
        }
        select_reviews(
            &self.conn,
            &self.path,
            "WHERE id IN (SELECT MAX(id) FROM reviews WHERE withdrawn_ms IS NULL \
             GROUP BY product, task) ORDER BY id",
            [],
        )
    }

    /// What stands now for each product and task whose reviews changed since this store last
    /// looked (kept or withdrawn by another process, or by this one while another wrote),
    /// oldest change first.
    pub fn new_reviews(&mut self) -> Result<Vec<Standing>, StoreError> {
        if !self.has_reviews {
            return Ok(Vec::new());
        }
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        // One read transaction: the changes and what stands come from the same moment.
        let tx = self.conn.transaction().map_err(sql)?;
        let latest: i64 = tx
            .query_row("SELECT COALESCE(MAX(changed), 0) FROM reviews", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        if latest <= self.reviews_seen {
            return Ok(Vec::new());
        }
        let keys: Vec<(String, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT product, task FROM reviews WHERE changed > ?1 \
                     GROUP BY product, task ORDER BY MIN(changed)",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map([self.reviews_seen], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        let mut changes = Vec::with_capacity(keys.len());
        for (product, task) in keys {
            // A task this build does not know is left out, as when the store is opened.
            let Ok(task) = task.parse::<Task>() else {
                continue;
            };
            let review = standing(&tx, &path, &product, task)?;
            changes.push(Standing {
                product,
                task,
                review,
            });
        }
        tx.commit().map_err(sql)?;
        self.reviews_seen = latest;
        Ok(changes)
    }

    /// Notes this store's own review change `changed` as reported, unless another process
    /// changed reviews since this store last looked: those are still to be picked up (with
    /// this one again, which does no harm: a [`Standing`] is what stands, not a difference).
    fn saw_review_change(&mut self, changed: i64) {
        if changed == self.reviews_seen + 1 {
            self.reviews_seen = changed;
        }
    }
}

/// The next value of the reviews' `changed` column (inside the write's transaction, so no
/// other writer takes it too).
fn next_change(tx: &rusqlite::Transaction<'_>) -> Result<i64, rusqlite::Error> {
    tx.query_row(
        "SELECT COALESCE(MAX(changed), 0) + 1 FROM reviews",
        [],
        |r| r.get(0),
    )
}

/// The latest review of `product` and `task` not withdrawn.
fn standing(
    conn: &Connection,
    path: &Path,
    product: &str,
    task: Task,
) -> Result<Option<Review>, StoreError> {
    Ok(select_reviews(
        conn,
        path,
        "WHERE product = ?1 AND task = ?2 AND withdrawn_ms IS NULL ORDER BY id DESC LIMIT 1",
        params![product, task.name()],
    )?
    .pop())
}

fn select_reviews(
    conn: &Connection,
    path: &Path,
    clause: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Review>, StoreError> {
    let sql = |reason| StoreError::Sqlite {
        path: path.to_path_buf(),
        reason,
    };
    let mut stmt = conn
        .prepare(&format!("SELECT {REVIEW_COLUMNS} FROM reviews {clause}"))
        .map_err(sql)?;
    let mut rows = stmt.query(params).map_err(sql)?;
    let mut reviews = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let corrupt = |detail: String| StoreError::CorruptReview {
            path: path.to_path_buf(),
            id,
            detail,
        };
        let task: String = row.get(2).map_err(sql)?;
        let photos: String = row.get(4).map_err(sql)?;
        let withdrawn_by: Option<String> = row.get(7).map_err(sql)?;
        let withdrawn_ms: Option<i64> = row.get(8).map_err(sql)?;
        reviews.push(Review {
            id,
            product: row.get(1).map_err(sql)?,
            task: task
                .parse()
                .map_err(|e: crate::catalog::UnknownTask| corrupt(e.to_string()))?,
            label: row.get(3).map_err(sql)?,
            photos: photos.parse().map_err(corrupt)?,
            author: row.get(5).map_err(sql)?,
            time_ms: row.get(6).map_err(sql)?,
            // Either column set marks it withdrawn, as the queries read it.
            withdrawn: withdrawn_ms.map(|time_ms| Withdrawal {
                author: withdrawn_by.unwrap_or_default(),
                time_ms,
            }),
        });
    }
    Ok(reviews)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, ProductDraft, ProductImage};
    use crate::labels::LabelStore;
    use crate::labels::review::holds;

    /// A catalogue of p1 (Red Apparel, one photo) and p2 (Blue Apparel, no photo).
    fn two_products() -> Catalog {
        let mut catalog = Catalog::new("/images");
        for (id, colour, photos) in [("p1", "Red", &["p1/a.jpg"][..]), ("p2", "Blue", &[])] {
            let mut draft = ProductDraft {
                id: id.into(),
                images: photos
                    .iter()
                    .map(|p| ProductImage {
                        path: (*p).into(),
                        view: None,
                    })
                    .collect(),
                ..Default::default()
            };
            draft.labels[Task::Colour.index()] = Some(colour.into());
            draft.labels[Task::Type.index()] = Some("Apparel".into());
            catalog.push(draft).unwrap();
        }
        catalog
    }

    fn open(path: &Path) -> (LabelStore, Catalog) {
        let mut catalog = two_products();
        let (store, _) = LabelStore::open(path, "catalogue.csv", &mut catalog).unwrap();
        (store, catalog)
    }

    fn keep_of(catalog: &Catalog, product: &str, task: Task) -> Keep {
        let p = catalog.product(product).unwrap();
        Keep {
            product: product.into(),
            task,
            label: catalog.label_name(p, task).unwrap_or_default().into(),
            photos: p.photo_signature(),
        }
    }

    fn ids(reviews: &[Review]) -> Vec<i64> {
        reviews.iter().map(|r| r.id).collect()
    }

    #[test]
    fn a_keep_is_journalled_and_stands_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut store, catalog) = open(&path);
        assert!(store.reviews().unwrap().is_empty());
        let keep = keep_of(&catalog, "p1", Task::Colour);
        let review = store.keep(&catalog, &keep, "ada").unwrap();
        assert_eq!(
            (review.label.as_str(), review.author.as_str(), review.photos),
            (
                "Red",
                "ada",
                catalog.product("p1").unwrap().photo_signature()
            )
        );
        assert!(review.time_ms > 0);
        drop(store);
        let (mut store, catalog) = open(&path);
        let standing = store.reviews().unwrap();
        assert_eq!(standing, vec![review]);
        let p1 = catalog.product("p1").unwrap();
        assert!(holds(
            &standing[0],
            catalog.label_name(p1, Task::Colour),
            p1.photo_signature()
        ));
    }

    #[test]
    fn a_withdrawn_review_stays_in_the_journal_and_stands_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut store, catalog) = open(&path);
        let first = store
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Colour), "ada")
            .unwrap();
        let second = store
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Colour), "bob")
            .unwrap();
        let other = store
            .keep(&catalog, &keep_of(&catalog, "p2", Task::Colour), "ada")
            .unwrap();
        assert_eq!(ids(&store.reviews().unwrap()), [second.id, other.id]);
        // The latest withdrawn: the earlier check of the same product and task stands again.
        let withdrawn = store.withdraw_review(second.id, "bob").unwrap();
        assert_eq!(withdrawn.standing.as_ref(), Some(&first));
        assert_eq!(withdrawn.review.id, second.id);
        let withdrawal = withdrawn.review.withdrawn.as_ref().unwrap();
        assert_eq!(withdrawal.author, "bob");
        assert!(!holds(&withdrawn.review, Some("Red"), second.photos));
        assert_eq!(ids(&store.reviews().unwrap()), [first.id, other.id]);
        let last = store.withdraw_review(first.id, "ada").unwrap();
        assert_eq!(last.standing, None);
        drop(store);
        let (mut store, _) = open(&path);
        assert_eq!(ids(&store.reviews().unwrap()), [other.id]);
        // Journalled, not deleted: the row and who withdrew it are read back.
        let LabelStore::File(file) = &store else {
            panic!("a file store")
        };
        let rows = select_reviews(&file.conn, &path, "ORDER BY id", []).unwrap();
        assert_eq!(ids(&rows), [first.id, second.id, other.id]);
        assert_eq!(rows[1].withdrawn.as_ref().unwrap().author, "bob");
        // Twice, or a review that never was: refused, naming the file.
        let again = store.withdraw_review(first.id, "bob").unwrap_err();
        assert!(matches!(&again, StoreError::AlreadyWithdrawn { by, .. } if by == "ada"));
        assert_eq!(
            again.to_string(),
            format!(
                "label store {}: review #{} was already withdrawn by ada; nothing was changed",
                path.display(),
                first.id
            )
        );
        let unknown = store.withdraw_review(99, "bob").unwrap_err();
        assert_eq!(
            unknown.to_string(),
            format!(
                "label store {}: no review #99; nothing was changed",
                path.display()
            )
        );
    }

    #[test]
    fn a_keep_of_no_label_or_of_an_unknown_product_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut store, catalog) = open(&path);
        let mut keep = keep_of(&catalog, "p1", Task::Colour);
        keep.label = " NA ".into();
        let error = store.keep(&catalog, &keep, "ada").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "label store {}: cannot keep the colour label of 'p1': it has none; nothing was written",
                path.display()
            )
        );
        keep.label = "Red".into();
        keep.product = "p9".into();
        assert!(matches!(
            store.keep(&catalog, &keep, "ada"),
            Err(StoreError::UnknownProduct(id)) if id == "p9"
        ));
        assert!(store.reviews().unwrap().is_empty());
    }

    #[test]
    fn another_connection_sees_keeps_and_withdrawals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut mine, catalog) = open(&path);
        let (mut theirs, _) = open(&path);
        assert!(mine.new_reviews().unwrap().is_empty());
        let kept = theirs
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Colour), "bob")
            .unwrap();
        assert!(theirs.new_reviews().unwrap().is_empty(), "its own");
        let seen = mine.new_reviews().unwrap();
        assert_eq!(
            seen,
            vec![Standing {
                product: "p1".into(),
                task: Task::Colour,
                review: Some(kept.clone()),
            }]
        );
        assert!(mine.new_reviews().unwrap().is_empty(), "each change once");
        // Another's keep before one's own: one's own does not hide it.
        let before = theirs
            .keep(&catalog, &keep_of(&catalog, "p2", Task::Colour), "bob")
            .unwrap();
        let own = mine
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Type), "ada")
            .unwrap();
        let seen = mine.new_reviews().unwrap();
        let reviews: Vec<Option<i64>> = seen
            .iter()
            .map(|s| s.review.as_ref().map(|r| r.id))
            .collect();
        assert_eq!(reviews, [Some(before.id), Some(own.id)]);
        theirs.withdraw_review(kept.id, "bob").unwrap();
        let seen = mine.new_reviews().unwrap();
        assert_eq!(
            seen,
            vec![Standing {
                product: "p1".into(),
                task: Task::Colour,
                review: None,
            }]
        );
        assert_eq!(ids(&mine.reviews().unwrap()), [before.id, own.id]);
    }

    /// Makes the store at `path` as a build before reviews wrote it: no reviews table.
    fn without_reviews(path: &Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("DROP TABLE reviews").unwrap();
    }

    #[test]
    fn a_store_of_an_older_build_opens_for_reading_and_gets_the_table_on_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut store, mut catalog) = open(&path);
        store
            .set(
                &mut catalog,
                crate::labels::Change {
                    product: "p1".into(),
                    task: Task::Colour,
                    value: Some("Navy".into()),
                },
                &crate::labels::Attribution {
                    author: "ada".into(),
                    source: crate::labels::EditSource::Human,
                    reason: None,
                },
            )
            .unwrap();
        drop(store);
        without_reviews(&path);
        let mut read = two_products();
        let (mut reading, report) =
            LabelStore::open_read_only(&path, "catalogue.csv", &mut read).unwrap();
        assert_eq!(report.overrides, 1, "its edits are read");
        assert!(reading.reviews().unwrap().is_empty());
        assert!(reading.new_reviews().unwrap().is_empty());
        drop(reading);
        let (mut store, catalog) = open(&path);
        let review = store
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Colour), "ada")
            .unwrap();
        assert_eq!(review.label, "Navy");
        drop(store);
        let mut read = two_products();
        let (mut reading, _) =
            LabelStore::open_read_only(&path, "catalogue.csv", &mut read).unwrap();
        assert_eq!(reading.reviews().unwrap(), vec![review]);
    }

    #[test]
    fn an_unreadable_review_is_reported_naming_the_file_and_the_review() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let (mut store, catalog) = open(&path);
        let review = store
            .keep(&catalog, &keep_of(&catalog, "p1", Task::Colour), "ada")
            .unwrap();
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE reviews SET photos = 'blurry'", [])
            .unwrap();
        let error = store.reviews().unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "label store {}: review #{} is unreadable: photo signature 'blurry' is not 16 hexadecimal digits",
                path.display(),
                review.id
            )
        );
    }
}
