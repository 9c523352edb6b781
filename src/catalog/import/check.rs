//! Decoding every image of a catalogue to find corrupt or truncated files.

use super::Warning;
use crate::catalog::Catalog;
use crate::catalog::text::excerpt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Decodes every image of `catalog` on `threads` named threads and returns a warning for each
/// one that cannot be decoded (corrupt, truncated, not an image, unreadable, not a regular file,
/// over the limits of [`crate::imaging`]) or that training would refuse (too elongated).
pub fn check_images(catalog: &Catalog, threads: usize) -> Vec<Warning> {
    let images: Vec<_> = catalog
        .products()
        .iter()
        .flat_map(|p| p.images.iter().map(move |i| (p, i)))
        .collect();
    let next = AtomicUsize::new(0);
    let mut warnings: Vec<(usize, Warning)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .filter_map(|n| {
                std::thread::Builder::new()
                    .name(format!("image-check-{n}"))
                    .spawn_scoped(scope, || {
                        let mut found = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((product, image)) = images.get(i) else {
                                break;
                            };
                            let path = catalog.image_path(image);
                            if let Err(reason) = crate::imaging::check_file(&path) {
                                found.push((
                                    i,
                                    Warning {
                                        file: path,
                                        line: None,
                                        message: format!(
                                            "image of product '{}' cannot be used: {reason}",
                                            excerpt(&product.id)
                                        ),
                                    },
                                ));
                            }
                        }
                        found
                    })
                    .ok()
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    warnings.sort_by_key(|(i, _)| *i);
    warnings.into_iter().map(|(_, w)| w).collect()
}
