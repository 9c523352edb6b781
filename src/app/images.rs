//! Which image at which size: the keys the grid and the product view ask for, the texture
//! cache holds and the thumbnail pool decodes (plain data, shared by all three).

use std::path::Path;
use std::sync::Arc;

/// The longest sides thumbnails come in, in pixels. A card asks for the smallest tier that
/// covers its image box on screen (card size times the display's pixels per point), so a new
/// card size or a HiDPI screen re-decodes a photo at most once per tier. The default card on a
/// standard screen gets the first: a 1274x1580 Luma photo is then decoded at 1/8 of its size,
/// from its DC coefficients alone.
pub const THUMB_TIERS: [u32; 3] = [200, 400, 800];
/// Longest side of a product-view image, in pixels.
pub const LARGE_SIDE: u32 = 1600;

/// Which rendition of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSize {
    /// For the grid and the product view's strip, at one of [`THUMB_TIERS`] (cached on disk).
    Thumb(u32),
    /// For the product view.
    Large,
}

impl ImageSize {
    /// The thumbnail tier for a box whose longer side is `pixels` physical pixels: the
    /// smallest that covers it, the largest for bigger boxes.
    pub fn thumb_for(pixels: f32) -> ImageSize {
        let tier = THUMB_TIERS
            .into_iter()
            .find(|&tier| tier as f32 >= pixels)
            .unwrap_or(THUMB_TIERS[THUMB_TIERS.len() - 1]);
        ImageSize::Thumb(tier)
    }

    /// Longest side in pixels.
    pub fn max_side(self) -> u32 {
        match self {
            ImageSize::Thumb(side) => side,
            ImageSize::Large => LARGE_SIDE,
        }
    }
}

/// One image at one size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageKey {
    /// Absolute path.
    pub path: Arc<Path>,
    /// Rendition.
    pub size: ImageSize,
}

/// A wanted image.
pub type ImageRequest = ImageKey;
