//! Which photo decided: `vitrine decided` on a multi-image run leaves each photo out of the
//! max-pool in turn, and what it reports is what the model predicts for the product without
//! that photo (checked against `vitrine predict` on a catalogue where the product lacks it).

mod common;

use std::path::{Path, PathBuf};

/// 16 products of 3 photos each (a red or blue body, and two plainer views), colour Red or
/// Blue; `without` leaves photo `without.1` out of product `without.0`.
fn catalogue(dir: &Path, name: &str, without: Option<(usize, usize)>) -> PathBuf {
    let img = dir.join("img");
    std::fs::create_dir_all(&img).unwrap();
    let mut text = String::from("product_id,name,images,gender,colour,type,category,subcategory\n");
    for i in 0..16usize {
        let colour = if i % 2 == 0 { "Red" } else { "Blue" };
        let mut files = Vec::new();
        for view in 0..3usize {
            let file = format!("img/{i}-{view}.png");
            let base = if i % 2 == 0 {
                [200u8, 30, 30]
            } else {
                [30u8, 30, 200]
            };
            let shade = |c: u8| c.saturating_sub((view * 40 + i * 3) as u8);
            let pixel = image::Rgb([shade(base[0]), shade(base[1]), shade(base[2])]);
            image::RgbImage::from_fn(40, 40, |x, y| {
                if (x + y) % 7 == view as u32 {
                    image::Rgb([240, 240, 240])
                } else {
                    pixel
                }
            })
            .save(dir.join(&file))
            .unwrap();
            if without != Some((i, view)) {
                files.push(file);
            }
        }
        text.push_str(&format!(
            "p{i},Product {i},{},Women,{colour},Apparel,Topwear,Tshirts\n",
            files.join("|")
        ));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let mut command = common::vitrine();
    command.args(args);
    serde_json::from_slice(&common::stdout_of(command)).unwrap()
}

/// The catalogue and a 1-epoch run trained on it in `dir`.
fn trained(dir: &Path) -> (PathBuf, PathBuf) {
    let manifest = catalogue(dir, "manifest.csv", None);
    let run = dir.join("run");
    let mut train = common::vitrine();
    train
        .arg("train")
        .arg(&manifest)
        .arg("--out")
        .arg(&run)
        .args(["--backbone", "small", "--epochs", "1", "--image-size", "32"])
        .args(["--batch", "8", "--devices", "cpu"]);
    common::stdout_of(train);
    (manifest, run)
}

#[test]
fn each_photo_left_out_is_what_the_model_predicts_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, run) = trained(dir.path());

    let decided = json(&[
        "decided".as_ref(),
        run.as_os_str(),
        "p0".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(decided["photos"].as_array().unwrap().len(), 3);
    let colour = &decided["tasks"]["colour"];
    let class = colour["class"].as_str().unwrap().to_string();
    let probability = colour["probability"].as_f64().unwrap();
    let without: Vec<f64> = colour["without"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(without.len(), 3);
    for (w, d) in without.iter().zip(colour["drop"].as_array().unwrap()) {
        assert!((probability - w - d.as_f64().unwrap()).abs() < 1e-6);
    }

    // The run's predictions say the same (computed with the whole batch, version 2): each
    // photo's part in every task, and the shares of the pooled features.
    let text = std::fs::read_to_string(run.join("predictions.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    let written = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["product_id"] == "p0")
        .unwrap();
    let photos = &written["photos"];
    let from_file: Vec<f64> = photos["tasks"]["colour"]["without"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(from_file.len(), 3);
    for (a, b) in from_file.iter().zip(&without) {
        assert!((a - b).abs() < 1e-4, "predictions {a}, decided {b}");
    }
    assert_eq!(
        photos["tasks"]["colour"]["decided_by"], colour["decided_by"],
        "the same photo decided"
    );
    let won: f64 = photos["won"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!(
        (won - 1.0).abs() < 1e-4,
        "the shares of the pooled features add up: {won}"
    );

    // The same run on the catalogue where p0 lacks its second photo: its probability of the
    // class predicted with all photos is what `decided` reported without that photo.
    let fewer = catalogue(dir.path(), "fewer.csv", Some((0, 1)));
    let out = dir.path().join("fewer-predictions");
    let mut predict = common::vitrine();
    predict
        .arg("predict")
        .arg(&run)
        .arg(&fewer)
        .arg("--out")
        .arg(&out);
    common::stdout_of(predict);
    let text = std::fs::read_to_string(out.join("probabilities.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let classes = header["classes"]["colour"].as_array().unwrap();
    let at = classes.iter().position(|c| c == class.as_str()).unwrap();
    let line = text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["product_id"] == "p0")
        .unwrap();
    let p = line["tasks"]["colour"][at].as_f64().unwrap();
    assert!(
        (p - without[1]).abs() < 1e-4,
        "predict without photo 2: {p}, decided: {}",
        without[1]
    );

    // Bad input: an unknown product is named.
    let mut command = common::vitrine();
    command.arg("decided").arg(&run).arg("nope");
    let err = common::stderr_of_failure(command);
    assert!(err.contains("product nope is not in"), "{err}");
}

#[test]
fn the_product_view_shows_which_photo_decided_as_the_command_line_does() {
    use egui_kittest::kittest::Queryable;
    use vitrine::app::command::Command;
    use vitrine::app::opening::OpenRequest;
    let dir = tempfile::tempdir().unwrap();
    let (manifest, run) = trained(dir.path());
    let decided = json(&[
        "decided".as_ref(),
        run.as_os_str(),
        "p1".as_ref(),
        "--json".as_ref(),
    ]);
    let mut h = common::window::harness(
        vitrine::app::Start::Open(OpenRequest::path(&manifest)),
        &dir.path().join("data"),
    );
    let wait = |h: &mut egui_kittest::Harness<'_, vitrine::app::WorkspaceApp>,
                what: &str,
                done: &dyn Fn(&vitrine::app::WorkspaceApp) -> bool| {
        common::window::wait(h, what, std::time::Duration::from_secs(60), done)
    };
    wait(&mut h, "the catalogue", &|a| a.state.session.is_some());
    h.state_mut()
        .apply(Command::LoadPredictions(run.join("predictions.jsonl")));
    wait(&mut h, "the predictions", &|a| {
        a.state
            .session
            .as_ref()
            .is_some_and(|s| s.predictions.is_some())
    });
    h.state_mut().apply(Command::FocusProduct(1));
    h.run_steps(2);
    // Beside each task, from the run's predictions, before anything is computed.
    let said_colour = |decided_by: &serde_json::Value| match decided_by.as_u64() {
        Some(j) => format!("decided by photo {}", j + 1),
        None => "no photo holds it up alone".to_string(),
    };
    let said = said_colour(&decided["tasks"]["colour"]["decided_by"]);
    if decided["tasks"]["colour"]["decided_by"].is_u64() {
        assert!(h.query_all_by_label(&said).count() >= 1, "{said}");
    }
    // The button sits below the large photo, out of the harness's view: its command instead.
    assert!(h.query_by_label("Find out").is_some());
    h.state_mut().apply(Command::Decide(1));
    wait(&mut h, "which photo decided", &|a| {
        a.state.decided.of(1).is_some()
    });
    let answer = h.state().state.decided.of(1).unwrap().clone().unwrap();
    let colour = &answer.tasks[&vitrine::catalog::Task::Colour];
    let expected: Vec<f64> = decided["tasks"]["colour"]["without"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (a, b) in colour.without.iter().zip(&expected) {
        assert!((*a as f64 - b).abs() < 1e-5);
    }
    h.run_steps(2);
    let said = match colour.decided_by {
        Some(j) => format!("decided by photo {}", j + 1),
        None => "no photo holds it up alone".to_string(),
    };
    assert!(h.query_all_by_label(&said).count() >= 1, "{said}");
}
