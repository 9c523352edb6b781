//! AppState: everything the window shows, as plain data. Only [`super::update`] changes it.

use super::event::RequestId;
use super::filter::Filter;
use super::images::ImageKey;
use super::opening::{LoadedPredictions, OpenRequest, Recent};
use super::picker::Picker;
use super::selection::Selection;
use crate::catalog::import::ImportReport;
use crate::catalog::{Catalog, Product, Task, Taxonomy};
use crate::labels::review::holds;
use crate::labels::{Edit, OpenReport, Review};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Default card width, in points: its image box (164 x 197 points) takes the smallest
/// thumbnail tier on a standard screen.
pub const DEFAULT_CARD_SIZE: f32 = 176.0;
/// Bytes of decoded images kept as textures.
pub const TEXTURE_BUDGET: usize = 384 << 20;

/// An open catalogue.
#[derive(Debug)]
pub struct Session {
    /// What was opened.
    pub request: OpenRequest,
    /// The catalogue with the current labels (shared read-only with the filter worker).
    pub catalog: Arc<Catalog>,
    /// Its type > category > subcategory tree.
    pub taxonomy: Taxonomy,
    /// What the import found.
    pub import: ImportReport,
    /// What opening the label store found.
    pub store_report: OpenReport,
    /// The predictions shown, if any.
    pub predictions: Option<LoadedPredictions>,
    /// Where the predictions came from, or why there are none.
    pub predictions_note: String,
    /// Positions of products with at least one journal entry.
    pub edited: Arc<HashSet<u32>>,
    /// Durable edits not yet applied to `catalog` because a filter job holds it.
    pub unapplied: Vec<Edit>,
    /// The standing reviews (per product and task, the latest not withdrawn) of products in
    /// the catalogue, by position and task; whether one still holds is [`Session::kept`].
    pub reviews: HashMap<(u32, Task), Review>,
    /// The folder the catalogue lives in.
    pub folder: PathBuf,
    /// How long the open took.
    pub open_time: Duration,
    /// A team store's link to its server, as the store worker last said (`None`: a file, or
    /// nothing said yet).
    pub server: Option<crate::labels::ServerState>,
    /// Labels this window set that another changed after, or that the server refused.
    pub overrides: super::overridden::Overrides,
}

impl Session {
    /// The product at a catalogue position.
    pub fn product(&self, position: u32) -> Option<&Product> {
        self.catalog.products().get(position as usize)
    }

    /// The label name of `task` on the product at `position`.
    pub fn label(&self, position: u32, task: Task) -> Option<&str> {
        let product = self.product(position)?;
        self.catalog.label_name(product, task)
    }

    /// Whether the label of `task` at `position` was checked and kept, and neither it nor the
    /// product's photos changed since: a review queue leaves such a product out.
    pub fn kept(&self, position: u32, task: Task) -> bool {
        self.reviews
            .get(&(position, task))
            .is_some_and(|review| review_holds(review, &self.catalog, position, task))
    }

    /// The model's best classes for `task` at `position`.
    pub fn top(&self, position: u32, task: Task) -> Vec<(&str, f32)> {
        self.prediction_row(position)
            .map(|(p, row)| p.top_at(row, task))
            .unwrap_or_default()
    }

    /// Whether the prediction disagrees with the label of `task` at `position` (a label the
    /// head folds into `other` agrees with `other`).
    pub fn disagrees(&self, position: u32, task: Task) -> bool {
        let Some((p, row)) = self.prediction_row(position) else {
            return false;
        };
        self.label(position, task)
            .and_then(|label| p.agrees_at(row, task, label))
            .is_some_and(|agrees| !agrees)
    }

    /// Where the prediction of the product at `position` comes from (in-sample, held-out,
    /// out-of-fold), with its audit fold if any.
    pub fn provenance(
        &self,
        position: u32,
    ) -> Option<(crate::runs::provenance::Provenance, Option<u32>)> {
        let (p, row) = self.prediction_row(position)?;
        Some((p.provenance_at(row)?, p.fold_at(row)))
    }

    /// Which photo decided the prediction of the product at `position`, when its predictions
    /// say (a multi-image run's, version 2).
    pub fn photos(&self, position: u32) -> Option<crate::runs::predictions::PhotoShares> {
        let (p, row) = self.prediction_row(position)?;
        p.photos_at(row)
    }

    /// The photo a card of the product at `position` shows: the one that decided `task`
    /// (when asked and the predictions say), else the first.
    pub fn card_photo(&self, position: u32, task: Option<Task>) -> usize {
        task.and_then(|task| self.photos(position)?.decided_by(task))
            .filter(|&i| self.product(position).is_some_and(|p| i < p.images.len()))
            .unwrap_or(0)
    }

    /// Photo `i` of the product at `position` named for people: "2 (back)", or "2".
    pub fn photo_name(&self, position: u32, i: usize) -> String {
        match self
            .product(position)
            .and_then(|p| p.images.get(i))
            .and_then(|image| image.view.as_deref())
        {
            Some(view) => format!("{} ({view})", i + 1),
            None => format!("{}", i + 1),
        }
    }

    fn prediction_row(
        &self,
        position: u32,
    ) -> Option<(&crate::runs::predictions::Predictions, u32)> {
        let loaded = self.predictions.as_ref()?;
        let row = (*loaded.rows.get(position as usize)?)?;
        Some((&loaded.predictions, row))
    }

    /// The file of the predictions shown, if any (the run or audit they come from holds the
    /// representations and the model).
    pub fn predictions_path(&self) -> Option<PathBuf> {
        self.predictions.as_ref()?.predictions.path.clone()
    }

    /// A short name for the status bar.
    pub fn name(&self) -> String {
        self.request
            .source
            .catalogue
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.request.source.catalogue.display().to_string())
    }
}

/// Whether `review` still holds for the product at `position` of `catalog` ([`holds`] on its
/// current label and photos).
pub fn review_holds(review: &Review, catalog: &Catalog, position: u32, task: Task) -> bool {
    let Some(product) = catalog.products().get(position as usize) else {
        return false;
    };
    holds(
        review,
        catalog.label_name(product, task),
        product.photo_signature(),
    )
}

/// A catalogue being opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    /// What is being opened.
    pub what: String,
    /// Fraction done, when known.
    pub progress: Option<f32>,
    /// The stage of the open running, once the open worker reported one.
    pub stage: Option<super::opening::OpenStage>,
}

/// A relabel of several products, waiting for confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkChange {
    /// The task.
    pub task: Task,
    /// What the products are set to, for the confirmation (`"Black"`, or "the model's
    /// prediction").
    pub description: String,
    /// Catalogue positions.
    pub targets: Vec<u32>,
    /// The new label of each target, in the same order (one class from the picker; each
    /// product's own predicted class when accepting predictions).
    pub values: Vec<String>,
    /// Bulk (one class chosen by hand) or accepted predictions.
    pub source: crate::labels::EditSource,
}

/// A line for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The text.
    pub text: String,
    /// Shown as an error.
    pub error: bool,
}

/// A decoded image ready to draw, or why there is none.
#[derive(Clone)]
pub enum Picture {
    /// The texture.
    Ready(egui::TextureHandle),
    /// Missing or corrupt: the reason.
    Failed(String),
}

struct CacheEntry {
    picture: Picture,
    bytes: usize,
    used: u64,
}

/// Decoded images as textures, least recently used evicted beyond a byte budget.
pub struct TextureCache {
    entries: HashMap<ImageKey, CacheEntry>,
    bytes: usize,
    budget: usize,
    clock: u64,
}

impl TextureCache {
    /// An empty cache holding at most `budget` bytes of pixels.
    pub fn new(budget: usize) -> Self {
        TextureCache {
            entries: HashMap::new(),
            bytes: 0,
            budget,
            clock: 0,
        }
    }

    /// The picture of `key`, if decoded.
    pub fn get(&self, key: &ImageKey) -> Option<&Picture> {
        self.entries.get(key).map(|e| &e.picture)
    }

    /// Marks `key` as just used; false when it is not cached.
    pub fn touch(&mut self, key: &ImageKey) -> bool {
        self.clock += 1;
        match self.entries.get_mut(key) {
            Some(entry) => {
                entry.used = self.clock;
                true
            }
            None => false,
        }
    }

    /// Adds a picture of `bytes` bytes, evicting the least recently used beyond the budget.
    pub fn insert(&mut self, key: ImageKey, picture: Picture, bytes: usize) {
        self.clock += 1;
        if let Some(old) = self.entries.insert(
            key,
            CacheEntry {
                picture,
                bytes,
                used: self.clock,
            },
        ) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        while self.bytes > self.budget && self.entries.len() > 1 {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of pictures held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops everything (another catalogue was opened).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

/// Which optional panels are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Panels {
    /// The edit log.
    pub edit_log: bool,
    /// Import, store and prediction warnings.
    pub warnings: bool,
    /// The key list.
    pub help: bool,
    /// Others' changes waiting for a verdict.
    pub changes: bool,
}

/// A product's journal entries with the reviewers' verdicts on them.
#[derive(Debug, Clone, Default)]
pub struct ProductHistory {
    /// The product id.
    pub product: String,
    /// Its entries, oldest first.
    pub edits: Vec<Edit>,
    /// The verdicts, by entry id.
    pub verdicts: HashMap<i64, crate::labels::change_review::Judgement>,
}

/// The whole state of the window.
pub struct AppState {
    /// The open catalogue.
    pub session: Option<Session>,
    /// A catalogue being opened.
    pub opening: Option<Opening>,
    /// Recently opened catalogues, newest first.
    pub recent: Vec<Recent>,
    /// Who the edits are attributed to.
    pub author: String,
    /// The current filter and sort.
    pub filter: Filter,
    /// Positions matching the filter, in display order.
    pub matches: Vec<u32>,
    /// Number of the latest filter job sent to the worker.
    pub filter_generation: u64,
    /// A filter job is running on the worker.
    pub filtering: bool,
    /// Labels changed since the matches were computed.
    pub matches_stale: bool,
    /// How long the latest filter took.
    pub filter_time: Duration,
    /// Focus and selection.
    pub selection: Selection,
    /// Index of the focused product in `matches`, kept by `update` (a search per frame would
    /// cost a millisecond at 1,000,000 matches).
    pub focus_at: Option<usize>,
    /// The task the keyboard acts on.
    pub focused_task: Task,
    /// The open class picker.
    pub picker: Option<Picker>,
    /// A bulk relabel waiting for confirmation.
    pub bulk: Option<BulkChange>,
    /// Optional panels.
    pub panels: Panels,
    /// The product view replaces the grid.
    pub product_view: bool,
    /// Card width in points.
    pub card_size: f32,
    /// The cards show the photo that decided this task's prediction (`None`: the first).
    pub card_photo: Option<Task>,
    /// Grid columns, as last laid out.
    pub columns: usize,
    /// Grid rows on screen, as last laid out.
    pub visible_rows: usize,
    /// The grid should scroll the focused card into view.
    pub scroll_to_focus: bool,
    /// Image of the focused product shown in the product view.
    pub image_index: usize,
    /// Product view zoom (1 = fit).
    pub zoom: f32,
    /// The focused product's journal entries.
    pub history: Option<ProductHistory>,
    /// The review of others' changes.
    pub changes: super::changes::ChangesState,
    /// Durable edits seen by this window, oldest first (the journal's latest at open, then
    /// this session's).
    pub edit_log: Vec<Edit>,
    /// Journal entries written from this window.
    pub session_edits: usize,
    /// Label changes sent to the store and not yet answered.
    pub store_waiting: BTreeSet<RequestId>,
    /// The last request id handed out.
    pub last_request: u64,
    /// The store worker stopped after a failure: edits are refused until a reopen.
    pub store_stopped: bool,
    /// An export is running.
    pub exporting: Option<PathBuf>,
    /// Predictions are being loaded.
    pub loading_predictions: bool,
    /// Commands to apply once the catalogue being opened is open (given at start).
    pub after_open: Vec<super::command::Command>,
    /// Images waiting for or in decoding.
    pub images_pending: usize,
    /// The latest notice or error.
    pub message: Option<Message>,
    /// The "Connect to team store" dialog, when shown: the address being typed.
    pub connect: Option<String>,
    /// Decoded images.
    pub textures: TextureCache,
    /// Put the keyboard into the search field on the next frame.
    pub focus_search: bool,
    /// The training cockpit.
    pub cockpit: super::cockpit::Cockpit,
    /// The Audit view: the open audit's review queue.
    pub audit: super::audit_queue::AuditState,
    /// The product view's Similar strip.
    pub similar: super::similar::SimilarState,
    /// The Duplicates view.
    pub duplicates: super::duplicates::DuplicatesState,
    /// The Map view.
    pub map: super::map::MapState,
    /// The product view's "which photo decided".
    pub decided: super::decided::DecidedState,
    /// The data folder (demo, runs, thumbnail cache, recent list).
    pub data_dir: PathBuf,
}

impl AppState {
    /// A window with nothing open yet, writing edits as `author`, keeping its data in
    /// `data_dir`.
    pub fn new(author: String, data_dir: PathBuf) -> Self {
        AppState {
            session: None,
            opening: None,
            recent: Vec::new(),
            author,
            connect: None,
            filter: Filter::default(),
            matches: Vec::new(),
            filter_generation: 0,
            filtering: false,
            matches_stale: false,
            filter_time: Duration::ZERO,
            selection: Selection::default(),
            focus_at: None,
            focused_task: Task::Colour,
            picker: None,
            bulk: None,
            panels: Panels::default(),
            product_view: false,
            card_size: DEFAULT_CARD_SIZE,
            card_photo: None,
            columns: 1,
            visible_rows: 1,
            scroll_to_focus: false,
            image_index: 0,
            zoom: 1.0,
            history: None,
            changes: Default::default(),
            edit_log: Vec::new(),
            session_edits: 0,
            store_waiting: BTreeSet::new(),
            last_request: 0,
            store_stopped: false,
            exporting: None,
            loading_predictions: false,
            after_open: Vec::new(),
            images_pending: 0,
            message: None,
            textures: TextureCache::new(TEXTURE_BUDGET),
            focus_search: false,
            cockpit: Default::default(),
            audit: Default::default(),
            similar: Default::default(),
            duplicates: Default::default(),
            map: Default::default(),
            decided: Default::default(),
            data_dir,
        }
    }

    /// Shows `text` in the status bar.
    pub fn notice(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
    }

    /// Shows `text` in the status bar as an error.
    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
    }

    /// A new id for a label change about to be sent, waited on until answered.
    pub fn new_store_request(&mut self) -> RequestId {
        self.last_request += 1;
        let id = RequestId(self.last_request);
        self.store_waiting.insert(id);
        id
    }

    /// Whether every label change asked for is durable and shown: no store request waits, and
    /// no durable edit waits for a worker to let go of the catalogue.
    pub fn labels_settled(&self) -> bool {
        self.store_waiting.is_empty()
            && self.session.as_ref().is_none_or(|s| s.unapplied.is_empty())
    }

    /// Index of the focused product in the matches.
    pub fn focus_index(&self) -> Option<usize> {
        self.focus_at
    }

    /// Finds the focused product in the matches again (after either changed wholesale).
    pub fn locate_focus(&mut self) {
        self.focus_at = self
            .selection
            .focus
            .and_then(|focus| self.matches.iter().position(|&p| p == focus));
    }

    /// The image folder of the open catalogue joined with `relative`.
    pub fn image_path(&self, relative: &str) -> Option<PathBuf> {
        Some(self.session.as_ref()?.catalog.image_root.join(relative))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::images::ImageSize;

    #[test]
    fn texture_cache_evicts_least_recently_used() {
        let ctx = egui::Context::default();
        let texture = |name: &str| {
            Picture::Ready(ctx.load_texture(name, egui::ColorImage::example(), Default::default()))
        };
        let key = |n: &str| ImageKey {
            path: std::path::Path::new(n).into(),
            size: ImageSize::Thumb(200),
        };
        let mut cache = TextureCache::new(250);
        cache.insert(key("a"), texture("a"), 100);
        cache.insert(key("b"), Picture::Failed("file missing".into()), 100);
        assert!(cache.touch(&key("a")));
        cache.insert(key("c"), texture("c"), 100);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&key("b")).is_none(), "b was least recently used");
        assert!(cache.get(&key("a")).is_some());
        assert_eq!(cache.bytes(), 200);
        assert!(!cache.touch(&key("b")));
    }
}
