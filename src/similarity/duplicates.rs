//! Duplicate and near-duplicate clusters: pairs of products whose representations are far
//! closer than products usually are to their nearest neighbour (cleanlab Datalab's rule), and
//! exact copies ([`super::copies`]), joined into clusters; the clusters whose members carry
//! different labels for a task come first, since one of those labels is wrong.

use super::Searcher;
use super::copies::{Copy, Photo, find_copies};
use crate::catalog::{Catalog, Task};
use petgraph::unionfind::UnionFind;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// Datalab's default fraction: a pair is a near duplicate when its cosine distance is under
/// 0.13 x the median distance of products to their nearest neighbour. Relative, so it holds
/// for any model (a well-trained model packs its representations tighter than a fresh one);
/// small, so only products the model cannot tell apart are joined.
pub const DEFAULT_FRACTION: f32 = 0.13;
/// Neighbours looked at per product (Datalab's k).
pub const NEIGHBOURS: usize = 10;

/// Pairs of near duplicates, with the distances that decided them.
#[derive(Debug, Clone, PartialEq)]
pub struct NearPairs {
    /// The median cosine distance of a product to its nearest neighbour.
    pub median_distance: f32,
    /// The radius under which a pair is a near duplicate (fraction x median).
    pub radius: f32,
    /// Row pairs (lower row first) and their cosine distance, closest first.
    pub pairs: Vec<(usize, usize, f32)>,
}

/// The near duplicates among `searcher`'s representations, with `fraction` of the median
/// nearest-neighbour distance as the radius (the searcher's neighbours: exact up to
/// [`super::EXACT_UP_TO`] rows, the index's above).
pub fn near_pairs(searcher: &Searcher, fraction: f32) -> NearPairs {
    let neighbours = searcher.neighbours_of_rows(0..searcher.vectors().len(), NEIGHBOURS);
    let mut nearest: Vec<f32> = neighbours
        .iter()
        .filter_map(|n| n.first().map(|n| 1.0 - n.similarity))
        .collect();
    let median_distance = if nearest.is_empty() {
        0.0
    } else {
        let middle = nearest.len() / 2;
        *nearest.select_nth_unstable_by(middle, f32::total_cmp).1
    };
    let radius = fraction * median_distance;
    let mut seen = HashSet::new();
    let mut pairs = Vec::new();
    for (row, found) in neighbours.iter().enumerate() {
        for n in found {
            let distance = (1.0 - n.similarity).max(0.0);
            let pair = (row.min(n.row), row.max(n.row));
            if distance < radius && seen.insert(pair) {
                pairs.push((pair.0, pair.1, distance));
            }
        }
    }
    pairs.sort_by(|a, b| a.2.total_cmp(&b.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    NearPairs {
        median_distance,
        radius,
        pairs,
    }
}

/// Why two products are in one cluster, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// They share a photo (same bytes or same pixels).
    Copy(Copy),
    /// Their representations are this close (cosine distance).
    Near(f32),
}

/// A link between two products (catalogue positions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// One product.
    pub a: u32,
    /// The other.
    pub b: u32,
    /// Why.
    pub evidence: Evidence,
}

/// A cluster of products that are, or look like, one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Catalogue positions, in catalogue order.
    pub members: Vec<u32>,
    /// The links that joined them.
    pub links: Vec<Link>,
    /// The tasks whose labels differ between members (labelled members only).
    pub conflicts: Vec<Task>,
}

impl Cluster {
    /// Whether some of its products share a photo (an identical photo also makes their
    /// representations identical, so such a cluster usually has near-duplicate links too).
    pub fn shares_photo(&self) -> bool {
        self.links
            .iter()
            .any(|l| matches!(l.evidence, Evidence::Copy(_)))
    }

    /// The cluster as the label audit's third witness hears it.
    pub fn group(&self) -> crate::audit::duplicate::DuplicateGroup {
        crate::audit::duplicate::DuplicateGroup {
            members: self.members.clone(),
            copy: self.shares_photo(),
        }
    }
}

/// Joins `links` into clusters, leaving out pairs marked "not duplicates" (`apart`, each pair
/// lower position first); `label` gives a member's label of a task. Clusters with conflicting
/// labels come first, then larger before smaller, then by their first member.
pub fn clusters<'a>(
    links: &[Link],
    apart: &HashSet<(u32, u32)>,
    label: impl Fn(u32, Task) -> Option<&'a str>,
) -> Vec<Cluster> {
    let kept: Vec<&Link> = links
        .iter()
        .filter(|l| l.a != l.b && !apart.contains(&(l.a.min(l.b), l.a.max(l.b))))
        .collect();
    let mut ids: Vec<u32> = kept.iter().flat_map(|l| [l.a, l.b]).collect();
    ids.sort_unstable();
    ids.dedup();
    let slot = |p: u32| ids.binary_search(&p).unwrap_or(0);
    let mut sets = UnionFind::<usize>::new(ids.len());
    for l in &kept {
        sets.union(slot(l.a), slot(l.b));
    }
    let mut groups: BTreeMap<usize, Cluster> = BTreeMap::new();
    for (i, &p) in ids.iter().enumerate() {
        groups
            .entry(sets.find(i))
            .or_insert_with(|| Cluster {
                members: Vec::new(),
                links: Vec::new(),
                conflicts: Vec::new(),
            })
            .members
            .push(p);
    }
    for l in kept {
        if let Some(cluster) = groups.get_mut(&sets.find(slot(l.a))) {
            cluster.links.push(*l);
        }
    }
    let mut clusters: Vec<Cluster> = groups.into_values().collect();
    for cluster in &mut clusters {
        cluster.conflicts = Task::ALL
            .into_iter()
            .filter(|&task| {
                let labels: HashSet<&str> = cluster
                    .members
                    .iter()
                    .filter_map(|&p| label(p, task))
                    .collect();
                labels.len() > 1
            })
            .collect();
    }
    clusters.sort_by(|a, b| {
        a.conflicts
            .is_empty()
            .cmp(&b.conflicts.is_empty())
            .then(b.members.len().cmp(&a.members.len()))
            .then(a.members.cmp(&b.members))
    });
    clusters
}

/// What the duplicate search found in a catalogue.
#[derive(Debug, Clone)]
pub struct DuplicateReport {
    /// The clusters, conflicting labels first, then largest first.
    pub clusters: Vec<Cluster>,
    /// Photos compared for exact copies.
    pub photos: usize,
    /// Pairs of products sharing a photo.
    pub copy_pairs: usize,
    /// The near duplicates' radius and pairs, when a representation was searched.
    pub near: Option<NearPairs>,
    /// Photos that could not be read or decoded, and why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Pairs left out because they were marked not duplicates.
    pub marked_apart: usize,
}

/// Finds the duplicate clusters of `catalog`: exact copies among its photos always, near
/// duplicates too when `searcher` holds a run's representations (rows of products the
/// catalogue no longer has are skipped), with `fraction` of the median nearest-neighbour
/// distance as the radius. Pairs of product ids in `apart` (marked not duplicates) are left
/// out. `progress` hears the photos compared so far and their total; setting `cancel` stops
/// the search (`None`).
pub fn find_duplicates(
    catalog: &Catalog,
    searcher: Option<&Searcher>,
    fraction: f32,
    apart: &[(String, String)],
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &std::sync::atomic::AtomicBool,
) -> Option<DuplicateReport> {
    let photos: Vec<Photo> = catalog
        .products()
        .iter()
        .enumerate()
        .flat_map(|(position, product)| {
            product.images.iter().map(move |image| Photo {
                product: position as u32,
                path: catalog.image_path(image),
            })
        })
        .collect();
    let copies = find_copies(&photos, progress, cancel)?;
    let mut links: Vec<Link> = copies
        .pairs
        .iter()
        .map(|pair| Link {
            a: pair.a,
            b: pair.b,
            evidence: Evidence::Copy(pair.how),
        })
        .collect();
    let near = searcher.map(|searcher| {
        let near = near_pairs(searcher, fraction);
        let position = |row: usize| catalog.position(searcher.vectors().id(row));
        for &(a, b, distance) in &near.pairs {
            if let (Some(a), Some(b)) = (position(a), position(b)) {
                links.push(Link {
                    a: a as u32,
                    b: b as u32,
                    evidence: Evidence::Near(distance),
                });
            }
        }
        near
    });
    let apart: HashSet<(u32, u32)> = apart
        .iter()
        .filter_map(|(a, b)| {
            let (a, b) = (catalog.position(a)? as u32, catalog.position(b)? as u32);
            Some((a.min(b), a.max(b)))
        })
        .collect();
    let marked_apart = links
        .iter()
        .filter(|l| apart.contains(&(l.a.min(l.b), l.a.max(l.b))))
        .count();
    let products = catalog.products();
    let clusters = clusters(&links, &apart, |p, task| {
        catalog.label_name(&products[p as usize], task)
    });
    Some(DuplicateReport {
        clusters,
        photos: photos.len(),
        copy_pairs: copies.pairs.len(),
        near,
        unreadable: copies.unreadable,
        marked_apart,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similarity::Vectors;

    fn link(a: u32, b: u32) -> Link {
        Link {
            a,
            b,
            evidence: Evidence::Near(0.01),
        }
    }

    #[test]
    fn clusters_join_links_leave_out_pairs_marked_apart_and_put_conflicts_first() {
        let colours = ["Red", "Red", "Red", "Blue", "Red", "Red", "Red"];
        let label = |p: u32, task: Task| (task == Task::Colour).then(|| colours[p as usize]);
        // 0-1-2 one cluster; 3-4 conflicting; 5-6 marked apart.
        let links = [link(0, 1), link(1, 2), link(4, 3), link(5, 6)];
        let apart: HashSet<(u32, u32)> = [(5, 6)].into();
        let found = clusters(&links, &apart, label);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].members, vec![3, 4]);
        assert_eq!(found[0].conflicts, vec![Task::Colour]);
        assert_eq!(found[1].members, vec![0, 1, 2]);
        assert!(found[1].conflicts.is_empty());
        assert_eq!(found[1].links.len(), 2);
    }

    #[test]
    fn near_pairs_are_far_closer_than_the_median_neighbour() {
        // Six spread-out products, and p6 an almost exact copy of p0.
        let mut values = Vec::new();
        for i in 0..6 {
            let mut row = vec![0.1f32; 6];
            row[i] = 1.0;
            values.extend(row);
        }
        let mut copy = vec![0.1f32; 6];
        copy[0] = 1.0;
        copy[1] = 0.1001;
        values.extend(copy);
        let v = Vectors::from_values((0..7).map(|i| format!("p{i}")).collect(), 6, values).unwrap();
        let searcher = Searcher::new(v, None, std::path::PathBuf::from("(test)"));
        let near = near_pairs(&searcher, DEFAULT_FRACTION);
        assert_eq!(near.pairs.len(), 1);
        assert_eq!((near.pairs[0].0, near.pairs[0].1), (0, 6));
        assert!(near.radius > 0.0 && near.pairs[0].2 < near.radius);
    }
}
