//! The review queue of an audit, as plain data: per task the suspects ranked, the card shown,
//! the noise-matrix cell the list is narrowed to, what was done with each card, and an undo
//! stack of the queue's own actions with the store's answers to them. [`super::update`]
//! applies the commands and the answers; the `ui` draws it. Pure: no egui, no I/O.
//!
//! A card acted on (its label changed, or kept) is reviewed: it stays in the list, marked, and
//! the next card not yet reviewed shows. A skipped card is not reviewed: the queue comes back
//! to it after the others. Reviews survive a restart in the label store, not here: accepting
//! a class also keeps it ("checked, it is right"), so an audit rebuilt from the current labels
//! and standing reviews leaves accepted and kept products out alike.

use super::event::RequestId;
use crate::audit::combine::Suspect;
use crate::audit::report::{AuditReport, TaskReport};
use crate::catalog::Task;
use crate::runs::classes::OTHER;
use crate::runs::probabilities::Probabilities;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Most classes of the model a card offers (keys 1 to 5).
pub const TOP_CLASSES: usize = 5;

/// An audit read and its report built against the current labels and reviews: what the audit
/// worker sends.
#[derive(Debug)]
pub struct LoadedAudit {
    /// The audit (or run) folder.
    pub folder: PathBuf,
    /// Its name, as the reasons of the label changes name it.
    pub name: String,
    /// The report.
    pub report: AuditReport,
    /// The probabilities it was built from (the cards' top classes).
    pub probabilities: Arc<Probabilities>,
}

/// What was done with a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its label was changed (and the new one kept).
    Changed,
    /// Its label was kept.
    Kept,
}

/// A store request of an action, and its answer once it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<T> {
    /// Sent, not answered yet.
    Waiting(RequestId),
    /// Done, with what undoing it needs.
    Saved(T),
    /// Refused or failed: nothing to undo.
    Failed,
}

/// One action of the queue, as its undo needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The task (index into the report's tasks).
    pub task: usize,
    /// The cards (indices into the task's queue).
    pub cards: Vec<u32>,
    /// What was done; `None`: skipped.
    pub outcome: Option<Outcome>,
    /// The label change, if any, and whether it wrote journal entries.
    pub change: Option<Answer<bool>>,
    /// The reviews journalled, with their numbers once saved.
    pub reviews: Vec<Answer<i64>>,
}

/// What undoing the latest action asks of the label store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    /// Undo the author's latest batch (the action's label change).
    pub store_undo: bool,
    /// Reviews to withdraw.
    pub withdraw: Vec<i64>,
}

/// One task's queue: which cards the list shows, the current one, and what was done.
#[derive(Debug, Clone)]
pub struct TaskQueue {
    /// Indices into the task's queue that the list shows, in queue order.
    pub shown: Vec<u32>,
    /// Index into `shown` of the current card.
    pub cursor: usize,
    /// The noise-matrix cell (given class, suggested class) the list is narrowed to.
    pub cell: Option<(usize, usize)>,
    done: Vec<Option<Outcome>>,
    reviewed: usize,
    fixed: i64,
}

impl TaskQueue {
    fn new(len: usize) -> Self {
        TaskQueue {
            shown: (0..len as u32).collect(),
            cursor: 0,
            cell: None,
            done: vec![None; len],
            reviewed: 0,
            fixed: 0,
        }
    }

    /// What was done with card `index`, if anything.
    pub fn done(&self, index: u32) -> Option<Outcome> {
        self.done.get(index as usize).copied().flatten()
    }

    /// Cards reviewed (changed or kept).
    pub fn reviewed(&self) -> usize {
        self.reviewed
    }

    /// Cards in the task's queue.
    pub fn total(&self) -> usize {
        self.done.len()
    }

    /// Labels changed through the queue, net of undos.
    pub fn fixed(&self) -> i64 {
        self.fixed
    }

    /// The current card, if the list shows any.
    pub fn current(&self) -> Option<u32> {
        self.shown.get(self.cursor).copied()
    }

    /// Moves to the first card of the list not reviewed after the current one (wrapping
    /// round), staying put when every card shown is reviewed.
    fn next_open(&mut self) {
        let n = self.shown.len();
        if let Some(at) = (1..=n)
            .map(|k| (self.cursor + k) % n)
            .find(|&i| self.done(self.shown[i]).is_none())
        {
            self.cursor = at;
        }
    }

    fn mark(&mut self, card: u32, outcome: Option<Outcome>) {
        let Some(slot) = self.done.get_mut(card as usize) else {
            return;
        };
        let change = |o: Option<Outcome>| i64::from(o == Some(Outcome::Changed));
        self.fixed += change(outcome) - change(*slot);
        match (slot.is_some(), outcome.is_some()) {
            (false, true) => self.reviewed += 1,
            (true, false) => self.reviewed -= 1,
            _ => {}
        }
        *slot = outcome;
    }

    /// Shows `card` as the current one, if the list shows it.
    fn show(&mut self, card: u32) {
        if let Some(at) = self.shown.iter().position(|&c| c == card) {
            self.cursor = at;
        }
    }
}

/// An open audit's review queue.
#[derive(Debug)]
pub struct AuditQueue {
    /// The audit (or run) folder.
    pub folder: PathBuf,
    /// Its name.
    pub name: String,
    /// The report, built when the audit was opened.
    pub report: AuditReport,
    /// The probabilities behind it.
    pub probabilities: Arc<Probabilities>,
    queues: Vec<TaskQueue>,
    current: usize,
    undo: Vec<Action>,
}

/// The card shown: its place in the task's queue, the suspect and the product.
#[derive(Debug, Clone, Copy)]
pub struct Card<'a> {
    /// The task.
    pub task: Task,
    /// Index into the task's queue.
    pub index: u32,
    /// What the witnesses say.
    pub suspect: &'a Suspect,
    /// Catalogue position of the product.
    pub position: u32,
    /// What was done with it already.
    pub done: Option<Outcome>,
}

impl AuditQueue {
    /// The queue of a loaded audit, on its first task with suspects.
    pub fn new(loaded: LoadedAudit) -> Self {
        let queues: Vec<TaskQueue> = loaded
            .report
            .tasks
            .iter()
            .map(|t| TaskQueue::new(t.queue.len()))
            .collect();
        let current = loaded
            .report
            .tasks
            .iter()
            .position(|t| !t.queue.is_empty())
            .unwrap_or(0);
        AuditQueue {
            folder: loaded.folder,
            name: loaded.name,
            report: loaded.report,
            probabilities: loaded.probabilities,
            queues,
            current,
            undo: Vec::new(),
        }
    }

    /// Each task's report with its queue state.
    pub fn tasks(&self) -> impl Iterator<Item = (&TaskReport, &TaskQueue)> {
        self.report.tasks.iter().zip(&self.queues)
    }

    /// The task shown, with its queue state.
    pub fn current(&self) -> Option<(&TaskReport, &TaskQueue)> {
        Some((
            self.report.tasks.get(self.current)?,
            self.queues.get(self.current)?,
        ))
    }

    /// Shows `task`'s queue, if the audit has the task.
    pub fn select_task(&mut self, task: Task) {
        if let Some(i) = self.report.tasks.iter().position(|t| t.task == task) {
            self.current = i;
        }
    }

    /// The current card.
    pub fn card(&self) -> Option<Card<'_>> {
        let (report, queue) = self.current()?;
        let index = queue.current()?;
        let suspect = report.queue.get(index as usize)?;
        Some(Card {
            task: report.task,
            index,
            suspect,
            position: *report.positions.get(suspect.row)? as u32,
            done: queue.done(index),
        })
    }

    /// The card of the list's row `row` becomes the current one.
    pub fn select(&mut self, row: usize) {
        if let Some(queue) = self.queues.get_mut(self.current)
            && row < queue.shown.len()
        {
            queue.cursor = row;
        }
    }

    /// Moves the current card `delta` rows along the list (browsing).
    pub fn step(&mut self, delta: i64) {
        if let Some(queue) = self.queues.get_mut(self.current)
            && !queue.shown.is_empty()
        {
            let last = queue.shown.len() as i64 - 1;
            queue.cursor = (queue.cursor as i64 + delta).clamp(0, last) as usize;
        }
    }

    /// Moves on to the next card not reviewed (S skips the current one this way).
    pub fn next_open(&mut self) {
        if let Some(queue) = self.queues.get_mut(self.current) {
            queue.next_open();
        }
    }

    /// Narrows the current task's list to the products of one noise-matrix cell (`None`: the
    /// whole queue again), on its first card not reviewed.
    pub fn set_cell(&mut self, cell: Option<(usize, usize)>) {
        let Some(report) = self.report.tasks.get(self.current) else {
            return;
        };
        let Some(queue) = self.queues.get_mut(self.current) else {
            return;
        };
        queue.cell = cell;
        queue.shown = match cell {
            None => (0..report.queue.len() as u32).collect(),
            Some((given, suggested)) => report
                .queue
                .iter()
                .enumerate()
                .filter(|(_, s)| s.given == given && s.image.suggested == suggested)
                .map(|(i, _)| i as u32)
                .collect(),
        };
        queue.cursor = queue
            .shown
            .iter()
            .position(|&c| queue.done(c).is_none())
            .unwrap_or(0);
    }

    /// The cards of the current list not reviewed yet.
    pub fn open_cards(&self) -> Vec<u32> {
        self.queues.get(self.current).map_or_else(Vec::new, |q| {
            q.shown
                .iter()
                .copied()
                .filter(|&c| q.done(c).is_none())
                .collect()
        })
    }

    /// Catalogue position of card `card` of the current task.
    pub fn position(&self, card: u32) -> Option<u32> {
        let report = self.report.tasks.get(self.current)?;
        let suspect = report.queue.get(card as usize)?;
        Some(*report.positions.get(suspect.row)? as u32)
    }

    /// Records an action on `cards` of the current task (marking them), then shows the next
    /// card not reviewed.
    pub fn record(
        &mut self,
        cards: Vec<u32>,
        outcome: Option<Outcome>,
        change: Option<RequestId>,
        reviews: Vec<RequestId>,
    ) {
        let Some(queue) = self.queues.get_mut(self.current) else {
            return;
        };
        for &card in &cards {
            queue.mark(card, outcome);
        }
        queue.next_open();
        self.undo.push(Action {
            task: self.current,
            cards,
            outcome,
            change: change.map(Answer::Waiting),
            reviews: reviews.into_iter().map(Answer::Waiting).collect(),
        });
    }

    /// The label change `request` was saved; `wrote`: it wrote journal entries (a batch the
    /// store's undo would revert).
    pub fn change_saved(&mut self, request: RequestId, wrote: bool) {
        for action in &mut self.undo {
            if action.change == Some(Answer::Waiting(request)) {
                action.change = Some(Answer::Saved(wrote));
            }
        }
    }

    /// The review `request` asked for was saved as review number `review`.
    pub fn review_saved(&mut self, request: RequestId, review: i64) {
        for action in &mut self.undo {
            for answer in &mut action.reviews {
                if *answer == Answer::Waiting(request) {
                    *answer = Answer::Saved(review);
                }
            }
        }
    }

    /// The store refused `request`. An action whose label change (or, for a keep, whose
    /// review) failed did not happen: its cards are open again and it leaves the undo stack.
    pub fn failed(&mut self, request: RequestId) {
        let (change, review) = (Answer::Waiting(request), Answer::Waiting(request));
        let Some(at) = self
            .undo
            .iter()
            .position(|a| a.change == Some(change) || a.reviews.contains(&review))
        else {
            return;
        };
        let action = &mut self.undo[at];
        for answer in &mut action.reviews {
            if *answer == review {
                *answer = Answer::Failed;
            }
        }
        let undone = match action.change {
            Some(answer) => answer == change,
            None => action.outcome == Some(Outcome::Kept),
        };
        if undone {
            let action = self.undo.remove(at);
            if let Some(queue) = self.queues.get_mut(action.task) {
                for &card in &action.cards {
                    queue.mark(card, None);
                }
            }
        }
    }

    /// Whether the queue has an action to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Undoes the latest action: its cards are open again and the first is shown; returns
    /// what the store must undo. Refused while the store has not answered the action yet (its
    /// undo would not know the batch or the reviews to revert).
    pub fn undo(&mut self) -> Result<Option<Undo>, &'static str> {
        let Some(action) = self.undo.last() else {
            return Ok(None);
        };
        let change_waiting = matches!(action.change, Some(Answer::Waiting(_)));
        let review_waiting = action
            .reviews
            .iter()
            .any(|a| matches!(a, Answer::Waiting(_)));
        if change_waiting || review_waiting {
            return Err("the last action is still being saved: undo it in a moment");
        }
        let Some(action) = self.undo.pop() else {
            return Ok(None);
        };
        self.current = action.task;
        if let Some(queue) = self.queues.get_mut(action.task) {
            for &card in &action.cards {
                queue.mark(card, None);
            }
            if let Some(&first) = action.cards.first() {
                queue.show(first);
            }
        }
        Ok(Some(Undo {
            store_undo: action.change == Some(Answer::Saved(true)),
            withdraw: action
                .reviews
                .iter()
                .filter_map(|a| match a {
                    Answer::Saved(id) => Some(*id),
                    _ => None,
                })
                .collect(),
        }))
    }

    /// The wrong labels the noise matrix of task `task` (index into the report's tasks)
    /// estimates, less those fixed through the queue since.
    pub fn estimated_left(&self, task: usize) -> i64 {
        let (Some(report), Some(queue)) = (self.report.tasks.get(task), self.queues.get(task))
        else {
            return 0;
        };
        (report.estimated_errors() - queue.fixed).max(0)
    }

    /// The model's best classes for a card of the current task, most probable first, without
    /// the head's `other` (no class one can set): (class index, name, probability).
    pub fn top_classes(&self, suspect: &Suspect) -> Vec<(usize, &str, f32)> {
        let Some(report) = self.report.tasks.get(self.current) else {
            return Vec::new();
        };
        let Some(values) = report
            .lines
            .get(suspect.row)
            .and_then(|&line| self.probabilities.probabilities_at(line, report.task))
        else {
            return Vec::new();
        };
        let mut ranked: Vec<(usize, &str, f32)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| {
                let name = report.classes.get(i)?;
                (name != OTHER).then_some((i, name.as_str(), p))
            })
            .collect();
        ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        ranked.truncate(TOP_CLASSES);
        ranked
    }
}

/// Accepting a whole noise-matrix cell, waiting for confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct CellBatch {
    /// The task.
    pub task: Task,
    /// The given class's name.
    pub given: String,
    /// The class every product is set to.
    pub suggested: String,
    /// The cards (indices into the task's queue) not reviewed yet.
    pub cards: Vec<u32>,
}

/// The Audit view's state.
#[derive(Debug, Default)]
pub struct AuditState {
    /// The open audit's queue.
    pub queue: Option<AuditQueue>,
    /// An audit being read and built.
    pub loading: Option<PathBuf>,
    /// Number of the latest audit job; older answers are ignored.
    pub generation: u64,
    /// A cell's batch waiting for confirmation.
    pub confirm: Option<CellBatch>,
    /// Review requests sent with a label change (a keep of the new label, or its withdrawal
    /// with the change's undo): their answers post no notice of their own.
    pub quiet: HashSet<RequestId>,
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::audit::confident::RankBy;
    use crate::audit::report::build;
    use crate::catalog::{Catalog, ProductDraft};
    use crate::runs::predictions::Split;
    use crate::runs::probabilities::{ProbabilitiesHeader, ProductProbabilities};
    use std::collections::BTreeMap;

    /// A catalogue of 20 colour-labelled products (`p0`.. `p19`, Red and Blue by turns) and
    /// out-of-fold probabilities sure of each label, except `p3`, `p5` and `p7` (labelled
    /// Blue) that look Red, and `p2` (labelled Red) that looks Blue.
    pub fn example() -> (Catalog, Probabilities) {
        let mut catalog = Catalog::new("/tmp");
        for i in 0..20 {
            let mut draft = ProductDraft {
                id: format!("p{i}"),
                name: format!("Product {i}"),
                ..Default::default()
            };
            draft.labels[Task::Colour.index()] = Some(["Red", "Blue"][i % 2].into());
            catalog.push(draft).unwrap();
        }
        let classes = BTreeMap::from([(Task::Colour, vec!["Red".to_string(), "Blue".into()])]);
        let mut header = ProbabilitiesHeader::new("audit", classes);
        header.kind = Some(crate::runs::provenance::FileKind::OutOfFold);
        let mut probabilities = Probabilities::new(header);
        for i in 0..20 {
            let red = match i {
                3 | 5 => 0.95,
                7 => 0.9,
                2 => 0.08,
                _ if i % 2 == 0 => 0.9,
                _ => 0.1,
            };
            probabilities
                .insert(ProductProbabilities {
                    product_id: format!("p{i}"),
                    split: Some(Split::Validation),
                    fold: Some(1 + i % 2),
                    tasks: BTreeMap::from([(Task::Colour, vec![red, 1.0 - red])]),
                })
                .unwrap();
        }
        (catalog, probabilities)
    }

    /// The queue of [`example`].
    fn queue() -> AuditQueue {
        let (catalog, probabilities) = example();
        let report = build(
            &probabilities,
            &catalog,
            RankBy::NormalizedMargin,
            &|_, _| false,
            &[],
        )
        .unwrap();
        AuditQueue::new(LoadedAudit {
            folder: "/tmp/audit".into(),
            name: "audit".into(),
            report,
            probabilities: Arc::new(probabilities),
        })
    }

    fn product(q: &AuditQueue) -> u32 {
        q.card().unwrap().position
    }

    #[test]
    fn the_queue_ranks_the_suspects_and_offers_the_model_s_classes() {
        let q = queue();
        let (report, state) = q.current().unwrap();
        assert_eq!(report.task, Task::Colour);
        let positions: Vec<usize> = report
            .queue
            .iter()
            .map(|s| report.positions[s.row])
            .collect();
        assert_eq!(positions, vec![3, 5, 2, 7], "surest first");
        assert_eq!((state.reviewed(), state.total()), (0, 4));
        let card = q.card().unwrap();
        assert_eq!(card.position, 3);
        assert_eq!(card.suspect.suggestion(), 0, "Red");
        let top = q.top_classes(card.suspect);
        assert_eq!(top[0].1, "Red");
        assert_eq!(top[1].1, "Blue");
        assert!((top[0].2 - 0.95).abs() < 1e-6);
        assert_eq!(q.estimated_left(0), report.estimated_errors());
    }

    #[test]
    fn acting_marks_the_card_and_shows_the_next_open_one() {
        let mut q = queue();
        q.record(vec![0], Some(Outcome::Changed), Some(RequestId(1)), vec![]);
        assert_eq!(product(&q), 5);
        let before = q.report.tasks[0].estimated_errors();
        assert_eq!(q.estimated_left(0), (before - 1).max(0));
        // Skipping goes on without marking; the skipped card comes round again at the end.
        q.record(vec![1], None, None, vec![]);
        assert_eq!(product(&q), 2);
        q.record(vec![2], Some(Outcome::Kept), None, vec![RequestId(2)]);
        assert_eq!(product(&q), 7);
        q.next_open();
        assert_eq!(product(&q), 5, "the skipped one, after wrapping round");
        let state = q.current().unwrap().1;
        assert_eq!(state.reviewed(), 2);
        assert_eq!(state.fixed(), 1);
        assert_eq!(state.done(0), Some(Outcome::Changed));
        assert_eq!(state.done(1), None);
    }

    #[test]
    fn undo_waits_for_the_store_then_reverts_the_latest_action() {
        let mut q = queue();
        q.record(
            vec![0],
            Some(Outcome::Changed),
            Some(RequestId(1)),
            vec![RequestId(2)],
        );
        q.record(vec![1], Some(Outcome::Kept), None, vec![RequestId(3)]);
        assert!(q.undo().is_err(), "the keep is not saved yet");
        q.review_saved(RequestId(3), 40);
        assert_eq!(
            q.undo(),
            Ok(Some(Undo {
                store_undo: false,
                withdraw: vec![40]
            }))
        );
        assert_eq!(product(&q), 5, "back on the card undone");
        assert_eq!(q.current().unwrap().1.reviewed(), 1);
        q.change_saved(RequestId(1), true);
        q.review_saved(RequestId(2), 41);
        assert_eq!(
            q.undo(),
            Ok(Some(Undo {
                store_undo: true,
                withdraw: vec![41]
            }))
        );
        assert_eq!(product(&q), 3);
        assert_eq!(q.current().unwrap().1.fixed(), 0);
        assert_eq!(q.undo(), Ok(None));
        // A change that wrote nothing asks no undo of the store (it would revert another
        // batch).
        q.record(vec![0], Some(Outcome::Changed), Some(RequestId(4)), vec![]);
        q.change_saved(RequestId(4), false);
        assert_eq!(
            q.undo(),
            Ok(Some(Undo {
                store_undo: false,
                withdraw: vec![]
            }))
        );
    }

    #[test]
    fn a_refused_action_did_not_happen() {
        let mut q = queue();
        q.record(
            vec![0],
            Some(Outcome::Changed),
            Some(RequestId(1)),
            vec![RequestId(2)],
        );
        q.record(vec![1], Some(Outcome::Kept), None, vec![RequestId(3)]);
        q.failed(RequestId(1));
        q.failed(RequestId(3));
        let state = q.current().unwrap().1;
        assert_eq!((state.reviewed(), state.fixed()), (0, 0));
        assert!(!q.can_undo());
        // A review refused after a saved change leaves the change to undo.
        q.record(
            vec![0],
            Some(Outcome::Changed),
            Some(RequestId(4)),
            vec![RequestId(5)],
        );
        q.change_saved(RequestId(4), true);
        q.failed(RequestId(5));
        assert_eq!(
            q.undo(),
            Ok(Some(Undo {
                store_undo: true,
                withdraw: vec![]
            }))
        );
    }

    #[test]
    fn a_noise_cell_narrows_the_list_until_it_is_cleared() {
        let mut q = queue();
        // Given Blue (1), the model finds Red (0): p3, p5 and p7.
        q.set_cell(Some((1, 0)));
        let (report, state) = q.current().unwrap();
        let shown: Vec<usize> = state
            .shown
            .iter()
            .map(|&c| report.positions[report.queue[c as usize].row])
            .collect();
        assert_eq!(shown, vec![3, 5, 7]);
        q.record(vec![0], Some(Outcome::Kept), None, vec![RequestId(1)]);
        assert_eq!(q.open_cards().len(), 2);
        assert_eq!(product(&q), 5);
        q.set_cell(None);
        assert_eq!(q.current().unwrap().1.shown.len(), 4);
        assert_eq!(product(&q), 5, "the first open card of the whole queue");
        q.step(10);
        assert_eq!(product(&q), 7);
        q.select(0);
        assert_eq!(product(&q), 3);
        assert_eq!(q.card().unwrap().done, Some(Outcome::Kept));
    }
}
