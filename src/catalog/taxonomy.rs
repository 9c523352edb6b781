//! The type > category > subcategory tree, built from the labels, with its inconsistencies.

use super::Catalog;
use super::task::Task;
use super::vocabulary::ClassId;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A class that sits under more than one parent (a category under two types, or a subcategory
/// under two categories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaxonomyIssue {
    /// The level of the class: `category` or `subcategory`.
    pub task: Task,
    /// The class name.
    pub class: String,
    /// Its parents with how many products put it under each, most frequent first.
    pub parents: Vec<(String, u64)>,
}

/// Parent -> child edges with product counts, for the two taxonomy levels.
#[derive(Debug, Clone, Default)]
pub struct Taxonomy {
    /// type -> category -> count
    type_to_category: HashMap<ClassId, BTreeMap<ClassId, u64>>,
    /// category -> subcategory -> count
    category_to_subcategory: HashMap<ClassId, BTreeMap<ClassId, u64>>,
    /// category -> type -> count
    category_to_type: HashMap<ClassId, BTreeMap<ClassId, u64>>,
    /// subcategory -> category -> count
    subcategory_to_category: HashMap<ClassId, BTreeMap<ClassId, u64>>,
    issues: Vec<TaxonomyIssue>,
}

impl Taxonomy {
    /// Builds the tree from every product that has both ends of an edge labelled.
    pub fn build(catalog: &Catalog) -> Self {
        // Edges counted first, one look-up per edge and product; the four maps are then built
        // from the few distinct edges.
        let mut upper: hashbrown::HashMap<(ClassId, ClassId), u64> = Default::default();
        let mut lower: hashbrown::HashMap<(ClassId, ClassId), u64> = Default::default();
        for p in catalog.products() {
            let (ty, cat, sub) = (
                p.label(Task::Type),
                p.label(Task::Category),
                p.label(Task::Subcategory),
            );
            if let (Some(ty), Some(cat)) = (ty, cat) {
                *upper.entry((ty, cat)).or_default() += 1;
            }
            if let (Some(cat), Some(sub)) = (cat, sub) {
                *lower.entry((cat, sub)).or_default() += 1;
            }
        }
        let mut t = Taxonomy::default();
        for ((ty, cat), n) in upper {
            t.type_to_category.entry(ty).or_default().insert(cat, n);
            t.category_to_type.entry(cat).or_default().insert(ty, n);
        }
        for ((cat, sub), n) in lower {
            t.category_to_subcategory
                .entry(cat)
                .or_default()
                .insert(sub, n);
            t.subcategory_to_category
                .entry(sub)
                .or_default()
                .insert(cat, n);
        }
        t.issues = Self::find_issues(catalog, Task::Category, Task::Type, &t.category_to_type);
        t.issues.extend(Self::find_issues(
            catalog,
            Task::Subcategory,
            Task::Category,
            &t.subcategory_to_category,
        ));
        t
    }

    fn find_issues(
        catalog: &Catalog,
        task: Task,
        parent_task: Task,
        child_to_parent: &HashMap<ClassId, BTreeMap<ClassId, u64>>,
    ) -> Vec<TaxonomyIssue> {
        let mut issues: Vec<TaxonomyIssue> = child_to_parent
            .iter()
            .filter(|(_, parents)| parents.len() > 1)
            .map(|(&child, parents)| {
                let mut parents: Vec<(String, u64)> = parents
                    .iter()
                    .map(|(&p, &n)| (catalog.vocabulary(parent_task).name(p).to_string(), n))
                    .collect();
                parents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                TaxonomyIssue {
                    task,
                    class: catalog.vocabulary(task).name(child).to_string(),
                    parents,
                }
            })
            .collect();
        issues.sort_by(|a, b| a.class.cmp(&b.class));
        issues
    }

    /// Classes under more than one parent.
    pub fn issues(&self) -> &[TaxonomyIssue] {
        &self.issues
    }

    /// Categories seen under `ty`, with counts.
    pub fn categories_of(&self, ty: ClassId) -> impl Iterator<Item = (ClassId, u64)> + '_ {
        self.type_to_category
            .get(&ty)
            .into_iter()
            .flat_map(|m| m.iter().map(|(&c, &n)| (c, n)))
    }

    /// Subcategories seen under `category`, with counts.
    pub fn subcategories_of(&self, category: ClassId) -> impl Iterator<Item = (ClassId, u64)> + '_ {
        self.category_to_subcategory
            .get(&category)
            .into_iter()
            .flat_map(|m| m.iter().map(|(&c, &n)| (c, n)))
    }

    /// The most frequent parent type of `category`.
    pub fn type_of(&self, category: ClassId) -> Option<ClassId> {
        Self::main_parent(self.category_to_type.get(&category))
    }

    /// The most frequent parent category of `subcategory`.
    pub fn category_of(&self, subcategory: ClassId) -> Option<ClassId> {
        Self::main_parent(self.subcategory_to_category.get(&subcategory))
    }

    fn main_parent(parents: Option<&BTreeMap<ClassId, u64>>) -> Option<ClassId> {
        parents?
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
            .map(|(&id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;

    fn product(id: &str, ty: &str, cat: &str, sub: &str) -> ProductDraft {
        let mut d = ProductDraft {
            id: id.into(),
            ..Default::default()
        };
        d.labels[Task::Type.index()] = Some(ty.into());
        d.labels[Task::Category.index()] = Some(cat.into());
        d.labels[Task::Subcategory.index()] = Some(sub.into());
        d
    }

    #[test]
    fn tree_and_inconsistencies() {
        let mut c = Catalog::new("/");
        c.push(product("1", "Apparel", "Topwear", "Tshirts"))
            .unwrap();
        c.push(product("2", "Apparel", "Topwear", "Shirts"))
            .unwrap();
        c.push(product("3", "Apparel", "Topwear", "Shirts"))
            .unwrap();
        c.push(product("4", "Footwear", "Shoes", "Sneakers"))
            .unwrap();
        // A subcategory under two categories and a category under two types.
        c.push(product("5", "Apparel", "Shoes", "Shirts")).unwrap();
        let t = c.taxonomy();
        let v = |task, name| c.vocabulary(task).get(name).unwrap();
        let topwear_children: Vec<_> = t.subcategories_of(v(Task::Category, "Topwear")).collect();
        assert_eq!(topwear_children.len(), 2);
        assert_eq!(
            t.category_of(v(Task::Subcategory, "Shirts")),
            Some(v(Task::Category, "Topwear"))
        );
        assert_eq!(t.issues().len(), 2);
        let shoes = t.issues().iter().find(|i| i.class == "Shoes").unwrap();
        assert_eq!(shoes.task, Task::Category);
        assert_eq!(
            shoes.parents,
            vec![("Apparel".into(), 1), ("Footwear".into(), 1)]
        );
        let shirts = t.issues().iter().find(|i| i.class == "Shirts").unwrap();
        assert_eq!(shirts.parents[0], ("Topwear".into(), 2));
    }
}
