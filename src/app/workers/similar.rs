//! The similar worker: owns the representations of the run or audit shown (and their index)
//! and answers "which products are most similar to this one", always for the newest
//! representations and the newest product asked for.

use super::{EventSender, spawn};
use crate::app::event::{Event, SimilarEvent};
use crate::similarity::{Searcher, locate};
use crossbeam_channel::{Receiver, Sender};
use std::path::PathBuf;

/// What the worker is asked.
#[derive(Debug)]
enum Request {
    /// Read the representations behind a predictions file.
    Open { generation: u64, path: PathBuf },
    /// The neighbours of one product.
    Find {
        generation: u64,
        product: u32,
        id: String,
        k: usize,
    },
}

/// The worker's handle; dropping it stops the thread.
pub struct SimilarWorker {
    requests: Sender<Request>,
}

impl SimilarWorker {
    /// Starts the thread.
    pub fn start(events: EventSender) -> Result<SimilarWorker, String> {
        let (requests, inbox) = crossbeam_channel::unbounded::<Request>();
        let reply = events.clone();
        spawn("vitrine-similar", &events, Event::WorkerFailed, move || {
            serve(&inbox, &reply)
        })?;
        Ok(SimilarWorker { requests })
    }

    /// Reads the representations behind the predictions file `path` as open `generation`.
    pub fn open(&self, generation: u64, path: PathBuf) {
        // The thread lives as long as this handle.
        let _ = self.requests.send(Request::Open { generation, path });
    }

    /// Finds the `k` products most similar to product `id` (at catalogue position `product`).
    pub fn find(&self, generation: u64, product: u32, id: String, k: usize) {
        let _ = self.requests.send(Request::Find {
            generation,
            product,
            id,
            k,
        });
    }
}

fn serve(inbox: &Receiver<Request>, events: &EventSender) {
    let mut searcher: Option<(u64, Searcher)> = None;
    while let Ok(first) = inbox.recv() {
        // Of what waits, only the newest open and the newest search matter.
        let mut open = None;
        let mut find = None;
        for request in std::iter::once(first).chain(inbox.try_iter()) {
            match request {
                Request::Open { .. } => {
                    open = Some(request);
                    find = None;
                }
                Request::Find { .. } => find = Some(request),
            }
        }
        if let Some(Request::Open { generation, path }) = open {
            searcher = None;
            let opened = crate::threads::catch(|| {
                let source = locate(&path)?;
                let mut notes = Vec::new();
                let searcher = Searcher::open(&source, &mut |note| notes.push(note))?;
                Ok::<_, crate::similarity::SimilarityError>((source, searcher, notes))
            });
            match opened {
                Ok(Ok((source, opened, notes))) => {
                    events.send(Event::Similar(SimilarEvent::Opened {
                        generation,
                        note: source.note,
                        method: opened.method(),
                        products: opened.vectors().len(),
                        notes,
                    }));
                    searcher = Some((generation, opened));
                }
                Ok(Err(e)) => events.send(Event::Similar(SimilarEvent::Unavailable {
                    generation,
                    reason: e.to_string(),
                })),
                Err(panic) => events.send(Event::Similar(SimilarEvent::Unavailable {
                    generation,
                    reason: format!("reading the representations failed: {panic}"),
                })),
            }
        }
        if let Some(Request::Find {
            generation,
            product,
            id,
            k,
        }) = find
        {
            let Some((open, searcher)) = &searcher else {
                continue;
            };
            if *open != generation {
                continue;
            }
            let neighbours = searcher
                .row_of(&id)
                .map(|row| {
                    searcher
                        .neighbours(row, k)
                        .into_iter()
                        .map(|n| (searcher.vectors().id(n.row).to_string(), n.similarity))
                        .collect()
                })
                .map_err(|e| e.to_string());
            events.send(Event::Similar(SimilarEvent::Found {
                generation,
                product,
                neighbours,
            }));
        }
    }
}
