//! The type-to-search class picker: which classes it offers for a query. Pure.

use crate::catalog::{Catalog, ClassId, Product, Task, Taxonomy};

/// An open picker: the task, what was typed, and the products it will relabel.
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    /// The task being set.
    pub task: Task,
    /// Text typed so far.
    pub query: String,
    /// Offer every class, not only those the taxonomy puts under the product's parent.
    pub ignore_taxonomy: bool,
    /// Index of the highlighted choice.
    pub highlighted: usize,
    /// Catalogue positions to relabel (more than one: a bulk relabel, confirmed first).
    pub targets: Vec<u32>,
    /// The pick answers the review queue's card (its one target) rather than the workspace.
    pub audit: bool,
}

/// One class the picker offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The class name.
    pub name: String,
    /// Products labelled with it.
    pub count: u64,
    /// Not a class yet: picking it adds it.
    pub new: bool,
}

/// The parent label that restricts `task`'s classes on `product`: the type for a category,
/// the category for a subcategory.
pub fn parent_of(product: &Product, task: Task) -> Option<(Task, ClassId)> {
    let parent = match task {
        Task::Category => Task::Type,
        Task::Subcategory => Task::Category,
        _ => return None,
    };
    product.label(parent).map(|id| (parent, id))
}

/// The classes to offer: matching `query` (prefix matches first, then by frequency), restricted
/// by the taxonomy under `parent` unless `ignore_taxonomy`, plus the typed text as a new class
/// when it names none.
pub fn choices(
    catalog: &Catalog,
    taxonomy: &Taxonomy,
    task: Task,
    parent: Option<(Task, ClassId)>,
    query: &str,
    ignore_taxonomy: bool,
) -> Vec<Choice> {
    let vocabulary = catalog.vocabulary(task);
    let allowed: Option<Vec<ClassId>> = match parent {
        Some((Task::Type, ty)) if !ignore_taxonomy => {
            Some(taxonomy.categories_of(ty).map(|(c, _)| c).collect())
        }
        Some((Task::Category, category)) if !ignore_taxonomy => Some(
            taxonomy
                .subcategories_of(category)
                .map(|(c, _)| c)
                .collect(),
        ),
        _ => None,
    };
    let needle = query.trim().to_lowercase();
    let mut scored: Vec<(u8, Choice)> = vocabulary
        .by_frequency()
        .into_iter()
        .filter(|(id, _, _)| allowed.as_ref().is_none_or(|a| a.contains(id)))
        .filter_map(|(_, name, count)| {
            let lower = name.to_lowercase();
            let rank = if needle.is_empty() || lower.starts_with(&needle) {
                0
            } else if lower.contains(&needle) {
                1
            } else {
                return None;
            };
            Some((
                rank,
                Choice {
                    name: name.to_string(),
                    count,
                    new: false,
                },
            ))
        })
        .collect();
    // by_frequency already orders by count then name; a stable sort keeps that inside a rank.
    scored.sort_by_key(|(rank, _)| *rank);
    let mut out: Vec<Choice> = scored.into_iter().map(|(_, c)| c).collect();
    let typed = query.trim();
    if !typed.is_empty()
        && vocabulary
            .by_frequency()
            .iter()
            .all(|(_, name, _)| !name.eq_ignore_ascii_case(typed))
    {
        out.push(Choice {
            name: typed.to_string(),
            count: 0,
            new: true,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;

    fn catalog() -> Catalog {
        let mut c = Catalog::new("/tmp");
        let rows = [
            ("1", "Apparel", "Topwear", "Tshirts"),
            ("2", "Apparel", "Topwear", "Shirts"),
            ("3", "Apparel", "Topwear", "Shirts"),
            ("4", "Footwear", "Shoes", "Sneakers"),
            ("5", "Footwear", "Shoes", "Sandals"),
        ];
        for (id, ty, cat, sub) in rows {
            let mut d = ProductDraft {
                id: id.into(),
                ..Default::default()
            };
            d.labels[Task::Type.index()] = Some(ty.into());
            d.labels[Task::Category.index()] = Some(cat.into());
            d.labels[Task::Subcategory.index()] = Some(sub.into());
            c.push(d).unwrap();
        }
        c
    }

    fn names(choices: &[Choice]) -> Vec<&str> {
        choices.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn subcategories_follow_the_category_unless_overridden() {
        let c = catalog();
        let t = c.taxonomy();
        let shirt = c.product("2").unwrap();
        let parent = parent_of(shirt, Task::Subcategory);
        let offered = choices(&c, &t, Task::Subcategory, parent, "", false);
        assert_eq!(names(&offered), vec!["Shirts", "Tshirts"]);
        let all = choices(&c, &t, Task::Subcategory, parent, "", true);
        assert_eq!(all.len(), 4);
        let s = choices(&c, &t, Task::Subcategory, parent, "s", true);
        assert_eq!(
            names(&s),
            vec!["Shirts", "Sandals", "Sneakers", "Tshirts", "s"],
            "prefix matches first, then substring, then the typed text as a new class"
        );
        assert!(s[4].new);
        assert!(parent_of(shirt, Task::Colour).is_none());
    }

    #[test]
    fn typed_text_becomes_a_new_class() {
        let c = catalog();
        let t = c.taxonomy();
        let offered = choices(&c, &t, Task::Colour, None, "Teal", false);
        assert_eq!(
            offered,
            vec![Choice {
                name: "Teal".into(),
                count: 0,
                new: true
            }]
        );
        let existing = choices(&c, &t, Task::Type, None, "apparel", false);
        assert_eq!(names(&existing), vec!["Apparel"]);
        assert!(!existing[0].new);
    }
}
