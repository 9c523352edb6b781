//! A third witness: duplicates that disagree. Products that are one product (they share a
//! photo) or look like one (their representations are near duplicates) should carry the same
//! labels; where the other members of a product's cluster carry another class, one of the
//! labels is wrong, and the cluster says which class the others give.
//!
//! # The rule
//!
//! For a labelled product in a cluster, the witness is the class most of the cluster's other
//! labelled members carry. It speaks against the product's label when that class differs
//! from it and more of the others carry it than carry the product's own label: in a pair
//! (Red, White) each member's witness names the other's label; in (Red, Red, White) only the
//! White member is doubted (its two others say Red), the Red members are not (their others
//! split one to one). Ties between other classes go to the lower class number.
//!
//! Pure: no egui, no burn, no search; the clusters come from the caller
//! ([`crate::similarity::duplicates`] finds them).

/// A cluster of products that are, or look like, one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGroup {
    /// Catalogue positions.
    pub members: Vec<u32>,
    /// Some of them share a photo (not only a near-duplicate representation).
    pub copy: bool,
}

/// What a product's duplicates say against its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateWitness {
    /// The class most of the cluster's other labelled members carry.
    pub class: usize,
    /// How many of them carry it.
    pub agreeing: usize,
    /// How many other labelled members the cluster has.
    pub others: usize,
    /// The cluster shares a photo (rather than only looks alike).
    pub copy: bool,
}

/// The witness of each of `labels`' rows (`labels[row]`: the row's given class) from
/// `groups`, each member named by its row (`None`: not among the rows); a row in several
/// groups hears the first that speaks.
pub fn witnesses(
    groups: &[(Vec<Option<usize>>, bool)],
    labels: &[Option<usize>],
) -> Vec<Option<DuplicateWitness>> {
    let mut out: Vec<Option<DuplicateWitness>> = vec![None; labels.len()];
    for (members, copy) in groups {
        let rows: Vec<usize> = members
            .iter()
            .flatten()
            .copied()
            .filter(|&r| r < labels.len())
            .collect();
        for &row in &rows {
            let (Some(own), None) = (labels[row], &out[row]) else {
                continue;
            };
            let mut counts: std::collections::BTreeMap<usize, usize> = Default::default();
            for &other in rows.iter().filter(|&&o| o != row) {
                if let Some(class) = labels[other] {
                    *counts.entry(class).or_default() += 1;
                }
            }
            let others: usize = counts.values().sum();
            let same = counts.get(&own).copied().unwrap_or(0);
            let best = counts.iter().filter(|&(&class, _)| class != own).fold(
                None,
                |best: Option<(usize, usize)>, (&class, &n)| match best {
                    Some((_, m)) if m >= n => best,
                    _ => Some((class, n)),
                },
            );
            if let Some((class, agreeing)) = best.filter(|&(_, n)| n > same) {
                out[row] = Some(DuplicateWitness {
                    class,
                    agreeing,
                    others,
                    copy: *copy,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_others_of_a_cluster_speak_against_a_label_they_outnumber() {
        // Rows 0-1: a pair Red (0) / White (1); rows 2-4: Red, Red, White; row 5 unlabelled
        // in a pair with row 6 (Blue, 2); row 7 alone.
        let labels = [
            Some(0),
            Some(1),
            Some(0),
            Some(0),
            Some(1),
            None,
            Some(2),
            Some(0),
        ];
        let groups = vec![
            (vec![Some(0), Some(1)], true),
            (vec![Some(2), Some(3), Some(4), None], false),
            (vec![Some(5), Some(6)], false),
        ];
        let w = witnesses(&groups, &labels);
        let said = |row: usize| {
            w[row]
                .as_ref()
                .map(|w| (w.class, w.agreeing, w.others, w.copy))
        };
        assert_eq!(said(0), Some((1, 1, 1, true)));
        assert_eq!(said(1), Some((0, 1, 1, true)));
        assert_eq!(said(2), None, "one other says Red, one White");
        assert_eq!(said(3), None);
        assert_eq!(said(4), Some((0, 2, 2, false)));
        assert_eq!(said(5), None, "no label to doubt");
        assert_eq!(said(6), None, "its other has no label");
        assert_eq!(said(7), None);
    }
}
