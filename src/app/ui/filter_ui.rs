//! The filter panel: text, labels (taxonomy-aware), disagreement, confidence, edited; sort;
//! the match count.

use crate::app::command::Command;
use crate::app::filter::{EditedChoice, Filter, LabelChoice, SortKey, TaskScope};
use crate::app::keys::KeyAction;
use crate::app::state::{AppState, Session};
use crate::catalog::{ClassId, Task};

/// Draws the filter panel.
pub fn filter_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let mut filter = state.filter.clone();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading(format!("{} matches", state.matches.len()));
        if state.filtering {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("filtering…");
            });
        } else {
            ui.weak(format!(
                "of {} products, filtered in {:.1} ms",
                session.catalog.len(),
                state.filter_time.as_secs_f64() * 1000.0
            ));
        }
        if state.matches_stale && ui.button("Refresh (labels changed)").clicked() {
            commands.push(Command::RefreshFilter);
        }
        ui.horizontal(|ui| {
            if ui.button("Select all matches").clicked() {
                commands.push(Command::Key(KeyAction::SelectAll));
            }
            if ui.button("Clear filters").clicked() {
                filter = Filter::default();
            }
        });
        if let Some(set) = &filter.only {
            ui.separator();
            ui.label(egui::RichText::new(&set.title).strong());
            ui.weak(format!("{} products from the cockpit", set.positions.len()));
            if ui.button("Show all products").clicked() {
                filter.only = None;
            }
        }
        ui.separator();
        let search = ui.add(
            egui::TextEdit::singleline(&mut filter.text)
                .hint_text("search id, name, attributes (/)")
                .id_salt("search"),
        );
        if state.focus_search {
            search.request_focus();
            commands.push(Command::SearchFocused);
        }
        if search.lost_focus() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
            search.surrender_focus();
        }
        ui.separator();
        egui::Grid::new("label_filters")
            .num_columns(2)
            .show(ui, |ui| {
                for task in Task::ALL {
                    ui.label(task.name());
                    label_combo(ui, session, &mut filter, task);
                    ui.end_row();
                }
            });
        ui.separator();
        let has_predictions = session.predictions.is_some();
        if let Some(text) = session
            .predictions
            .as_ref()
            .and_then(|p| super::provenance_text(ui, "predictions: ", &p.provenance))
        {
            ui.label(text).on_hover_text(
                "what the disagreement filter and sort rank: in-sample predictions were made \
                 by a model that trained on those labels, and favour the labels it fit",
            );
        }
        ui.add_enabled_ui(has_predictions, |ui| {
            scope_combo(
                ui,
                "disagreement scope",
                "prediction != label",
                &mut filter.disagreement,
            );
            let mut low = filter.confidence_below;
            let mut on = low.is_some();
            ui.checkbox(&mut on, "confidence below");
            if on {
                let (mut scope, mut below) = low.unwrap_or((TaskScope::Any, 0.6));
                let mut option = Some(scope);
                scope_combo(ui, "confidence scope", "on", &mut option);
                scope = option.unwrap_or(TaskScope::Any);
                ui.add(egui::Slider::new(&mut below, 0.0..=1.0));
                low = Some((scope, below));
            } else {
                low = None;
            }
            filter.confidence_below = low;
        });
        if !has_predictions {
            ui.weak("no predictions loaded: prediction filters are off");
        }
        ui.separator();
        ui.horizontal(|ui| {
            ui.label("edited:");
            ui.radio_value(&mut filter.edited, EditedChoice::All, "all");
            ui.radio_value(&mut filter.edited, EditedChoice::Edited, "yes");
            ui.radio_value(&mut filter.edited, EditedChoice::Unedited, "no");
        });
        card_photo_ui(ui, state, session, commands);
        ui.separator();
        ui.horizontal(|ui| {
            let sort = egui::ComboBox::from_id_salt("sort")
                .selected_text(format!("sort: {}", sort_name(filter.sort)))
                .show_ui(ui, |ui| {
                    let mut keys = vec![SortKey::Source, SortKey::Id, SortKey::Name];
                    if filter.only.as_ref().is_some_and(|set| set.order.is_some()) {
                        keys.push(SortKey::Set);
                    }
                    if has_predictions {
                        keys.push(SortKey::Confidence(TaskScope::Any));
                        keys.extend(Task::ALL.map(|t| SortKey::Confidence(TaskScope::Only(t))));
                        keys.push(SortKey::Disagreement);
                    }
                    for key in keys {
                        ui.selectable_value(&mut filter.sort, key, sort_name(key));
                    }
                });
            super::name_widget(&sort.response, "sort");
            ui.checkbox(&mut filter.descending, "reverse");
        });
    });
    if filter != state.filter {
        commands.push(Command::SetFilter(filter));
    }
}

/// Which photo the cards show: the first, or the one that decided a task's prediction (the
/// predictions of a multi-image run say which).
fn card_photo_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let known = session
        .predictions
        .as_ref()
        .is_some_and(|p| p.predictions.has_photos());
    if !known && state.card_photo.is_none() {
        return;
    }
    ui.separator();
    let name = |task: Option<Task>| match task {
        None => "the first photo".to_string(),
        Some(task) => format!("the photo that decided {task}"),
    };
    ui.horizontal(|ui| {
        ui.label("cards show");
        let response = egui::ComboBox::from_id_salt("card_photo")
            .selected_text(name(state.card_photo))
            .show_ui(ui, |ui| {
                for choice in std::iter::once(None).chain(Task::ALL.map(Some)) {
                    if ui
                        .selectable_label(state.card_photo == choice, name(choice))
                        .clicked()
                        && state.card_photo != choice
                    {
                        commands.push(Command::SetCardPhoto(choice));
                    }
                }
            })
            .response;
        super::name_widget(&response, "cards show");
    });
}

fn sort_name(key: SortKey) -> String {
    match key {
        SortKey::Source => "catalogue order".into(),
        SortKey::Id => "id".into(),
        SortKey::Name => "name".into(),
        SortKey::Confidence(TaskScope::Any) => "confidence (lowest, any task)".into(),
        SortKey::Confidence(TaskScope::Only(t)) => format!("confidence ({t})"),
        SortKey::Disagreement => "disagreements".into(),
        SortKey::Set => "most similar first".into(),
    }
}

/// A task-scope choice whose `id` is also its accessible name.
fn scope_combo(ui: &mut egui::Ui, id: &str, label: &str, scope: &mut Option<TaskScope>) {
    let name = |s: &Option<TaskScope>| match s {
        None => "off".to_string(),
        Some(TaskScope::Any) => "any task".to_string(),
        Some(TaskScope::Only(t)) => t.name().to_string(),
    };
    let combo = egui::ComboBox::from_id_salt(id)
        .selected_text(format!("{label}: {}", name(scope)))
        .show_ui(ui, |ui| {
            let mut options = vec![None, Some(TaskScope::Any)];
            options.extend(Task::ALL.map(|t| Some(TaskScope::Only(t))));
            for option in options {
                let text = name(&option);
                ui.selectable_value(scope, option, text);
            }
        });
    super::name_widget(&combo.response, id);
}

/// The classes a label filter offers: under the chosen parent when one is chosen.
fn offered(session: &Session, filter: &Filter, task: Task) -> Vec<(ClassId, u64)> {
    let parent = match task {
        Task::Category => filter.labels[Task::Type.index()],
        Task::Subcategory => filter.labels[Task::Category.index()],
        _ => None,
    };
    let taxonomy = &session.taxonomy;
    match (task, parent) {
        (Task::Category, Some(LabelChoice::Class(ty))) => taxonomy.categories_of(ty).collect(),
        (Task::Subcategory, Some(LabelChoice::Class(cat))) => {
            taxonomy.subcategories_of(cat).collect()
        }
        _ => session
            .catalog
            .vocabulary(task)
            .by_frequency()
            .into_iter()
            .map(|(id, _, n)| (id, n))
            .collect(),
    }
}

fn label_combo(ui: &mut egui::Ui, session: &Session, filter: &mut Filter, task: Task) {
    let vocabulary = session.catalog.vocabulary(task);
    let name = |choice: Option<LabelChoice>| match choice {
        None => "any".to_string(),
        Some(LabelChoice::Missing) => "(no label)".to_string(),
        Some(LabelChoice::Class(id)) => vocabulary.name(id).to_string(),
    };
    let before = filter.labels[task.index()];
    let classes = offered(session, filter, task);
    let mut choice = before;
    let combo = egui::ComboBox::from_id_salt(("label_filter", task.index()))
        .selected_text(name(choice))
        .width(140.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(&mut choice, None, "any");
            ui.selectable_value(&mut choice, Some(LabelChoice::Missing), "(no label)");
            for (id, count) in classes {
                let text = format!("{} ({count})", vocabulary.name(id));
                ui.selectable_value(&mut choice, Some(LabelChoice::Class(id)), text);
            }
        });
    super::name_widget(&combo.response, &format!("{} label", task.name()));
    if choice != before {
        filter.labels[task.index()] = choice;
        // A new parent narrows its children: drop child choices it does not contain.
        let children: &[Task] = match task {
            Task::Type => &[Task::Category, Task::Subcategory],
            Task::Category => &[Task::Subcategory],
            _ => &[],
        };
        for &child in children {
            if let Some(LabelChoice::Class(id)) = filter.labels[child.index()]
                && !offered(session, filter, child)
                    .iter()
                    .any(|(c, _)| *c == id)
            {
                filter.labels[child.index()] = None;
            }
        }
    }
}
