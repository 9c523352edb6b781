//! The team store's server stops (as a crash would) in the middle of a burst of edits and
//! starts again: every edit the store acknowledged is in the server's journal exactly once,
//! nothing it refused is, and the store reconnects by itself. Its own cluster: stopping the
//! server must not disturb the other tests.

mod common;

use common::postgres::cluster;
use common::{change, human};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vitrine::catalog::Task;
use vitrine::catalog::import::ImportOptions;
use vitrine::labels::{StoreError, open_workspace};

#[test]
fn acknowledged_edits_survive_a_server_restart_exactly_once() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    cluster.role("olga", "vitrine_moderator", "pw");
    let store = PathBuf::from(cluster.url("olga"));
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), Some(&store)).unwrap();
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut stopped_at = None;
    let mut restarted = false;
    let mut i = 0;
    while acknowledged.len() < 300 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never came back"
        );
        if i == 100 {
            cluster.stop();
            stopped_at = Some(Instant::now());
        }
        if !restarted && stopped_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            cluster.start_again();
            restarted = true;
        }
        let value = format!("Shade {i}");
        match ws.store.set(
            &mut ws.catalog,
            change(&format!("p{}", i % 5), Task::Colour, &value),
            &human("olga"),
        ) {
            Ok(Some(_)) => acknowledged.push(value),
            Ok(None) => panic!("every value is new"),
            Err(StoreError::Unreachable { .. }) => {
                refused.push(value);
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(other) => panic!("{other}"),
        }
        i += 1;
    }
    assert!(!refused.is_empty(), "the outage was seen");
    let journal = ws.store.journal(0).unwrap();
    let written: Vec<&str> = journal.iter().filter_map(|e| e.new.as_deref()).collect();
    for value in &acknowledged {
        let times = written.iter().filter(|w| *w == value).count();
        assert_eq!(
            times, 1,
            "{value} acknowledged, in the journal {times} times"
        );
    }
    for value in &refused {
        assert!(
            !written.contains(&value.as_str()),
            "{value} refused, yet written"
        );
    }
    assert_eq!(journal.len(), acknowledged.len());
}
