//! The thumbnail pool: named decoding threads fed from a bounded, replace-every-frame queue.
//!
//! The UI hands over the images it wants now, visible ones first; the new list replaces the
//! old, so images scrolled away before a thread picked them up are dropped, and the queue
//! never holds more than [`QUEUE_CAPACITY`] requests.

use super::{EventSender, spawn};
use crate::app::event::Event;
use crate::app::images::{ImageKey, ImageRequest, ImageSize, LARGE_SIDE};
use crate::imaging::{self as decode, DecodeError};
use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Most requests waiting at once.
pub const QUEUE_CAPACITY: usize = 256;
#[derive(Default)]
struct Board {
    queue: VecDeque<ImageKey>,
    in_flight: HashSet<ImageKey>,
    stopped: bool,
}

type Shared = Arc<(Mutex<Board>, Condvar)>;

/// What turns a wanted image into pixels (the decoders, or the on-disk cache).
pub type LoadFn = dyn Fn(&ImageKey) -> Result<image::RgbaImage, DecodeError> + Send + Sync;

fn lock(shared: &Shared) -> MutexGuard<'_, Board> {
    // A decoding thread that panicked leaves consistent data (plain pushes and pops).
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// The pool's handle; dropping it stops the threads.
pub struct ThumbnailPool {
    shared: Shared,
    /// Number of decoding threads.
    pub threads: usize,
}

impl ThumbnailPool {
    /// Starts one decoding thread per core (at least two), caching thumbnails in `cache_dir`.
    pub fn start(events: EventSender, cache_dir: Option<PathBuf>) -> Result<ThumbnailPool, String> {
        ThumbnailPool::start_with(
            events,
            Arc::new(move |key: &ImageKey| load(key, cache_dir.as_deref())),
        )
    }

    /// Starts the pool with its own `loader`. A loader that panics fails that image (its
    /// placeholder says why) and the thread goes on with the next.
    pub fn start_with(events: EventSender, loader: Arc<LoadFn>) -> Result<ThumbnailPool, String> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8);
        let shared: Shared = Arc::default();
        for i in 0..threads {
            let shared = shared.clone();
            let worker_events = events.clone();
            let loader = loader.clone();
            spawn(
                &format!("vitrine-thumb-{i}"),
                &events,
                Event::WorkerFailed,
                move || work(&shared, &worker_events, &*loader),
            )?;
        }
        Ok(ThumbnailPool { shared, threads })
    }

    /// Replaces the waiting requests with `wanted` (most important first), leaving out those
    /// being decoded.
    pub fn want(&self, wanted: Vec<ImageRequest>) {
        let mut board = lock(&self.shared);
        let Board {
            queue, in_flight, ..
        } = &mut *board;
        queue.clear();
        queue.extend(
            wanted
                .into_iter()
                .filter(|k| !in_flight.contains(k))
                .take(QUEUE_CAPACITY),
        );
        if !queue.is_empty() {
            self.shared.1.notify_all();
        }
    }

    /// Requests waiting and being decoded.
    pub fn pending(&self) -> usize {
        let board = lock(&self.shared);
        board.queue.len() + board.in_flight.len()
    }
}

impl Drop for ThumbnailPool {
    fn drop(&mut self) {
        lock(&self.shared).stopped = true;
        self.shared.1.notify_all();
    }
}

fn work(shared: &Shared, events: &EventSender, loader: &LoadFn) {
    loop {
        let key = {
            let mut board = lock(shared);
            loop {
                if board.stopped {
                    return;
                }
                if let Some(key) = board.queue.pop_front() {
                    board.in_flight.insert(key.clone());
                    break key;
                }
                board = shared.1.wait(board).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A decoder that panics on some file must not take the thread with it, nor leave
        // the image in flight (asked for by no one, shown by nothing) for the session.
        let result = crate::threads::catch(|| loader(&key))
            .unwrap_or_else(|panic| Err(format!("the decoder failed: {panic}")));
        let event = match result {
            Ok(image) => Event::ThumbnailDecoded {
                key: key.clone(),
                image: egui::ColorImage::from_rgba_unmultiplied(
                    [image.width() as usize, image.height() as usize],
                    image.as_raw(),
                ),
            },
            Err(reason) => Event::ThumbnailFailed {
                key: key.clone(),
                reason,
            },
        };
        // Report before leaving in_flight, so the UI never asks for it a second time.
        events.send(event);
        lock(shared).in_flight.remove(&key);
    }
}

fn load(key: &ImageKey, cache_dir: Option<&Path>) -> Result<image::RgbaImage, DecodeError> {
    match key.size {
        ImageSize::Thumb(side) => decode::thumbnail(&key.path, side, cache_dir),
        ImageSize::Large => decode::decode_reduced(&key.path, LARGE_SIDE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_decoder_that_panics_fails_its_image_and_the_pool_goes_on() {
        let (tx, rx) = crossbeam_channel::bounded(16);
        let events = EventSender {
            tx,
            wake: Arc::new(|| {}),
        };
        let loader: Arc<LoadFn> = Arc::new(|key: &ImageKey| {
            if key.path.ends_with("bad.jpg") {
                panic!("index out of bounds");
            }
            Ok(image::RgbaImage::new(2, 2))
        });
        let pool = ThumbnailPool::start_with(events, loader).unwrap();
        let key = |name: &str| ImageKey {
            path: Path::new(name).into(),
            size: ImageSize::Thumb(200),
        };
        pool.want(vec![key("bad.jpg")]);
        let failed = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        match failed {
            Event::ThumbnailFailed { key: k, reason } => {
                assert_eq!(k, key("bad.jpg"));
                assert!(
                    reason.contains("the decoder failed: index out of bounds"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        // Every thread is still there and nothing is left in flight.
        let wanted: Vec<ImageKey> = (0..pool.threads * 2)
            .map(|i| key(&format!("good-{i}.jpg")))
            .collect();
        pool.want(wanted.clone());
        for _ in &wanted {
            let event = rx.recv_timeout(Duration::from_secs(10)).unwrap();
            assert!(matches!(event, Event::ThumbnailDecoded { .. }), "{event:?}");
        }
        let start = Instant::now();
        while pool.pending() > 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "left in flight");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
