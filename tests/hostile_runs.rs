//! Runs under hostile or careless use: predictions never overwritten by another catalogue's,
//! unusable prediction lines reported, resumed configurations validated and extended, failures
//! at thread boundaries reported, impossible heads and splits refused or said, damaged or
//! mismatched checkpoints named, and progress printed where no terminal shows a bar.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoOptions, generate};
use vitrine::ml::TrainRequest;
use vitrine::runs::{MetricsRecord, RunConfig, RunFolder};

/// A small demo catalogue (48 px photos) in `dir`; returns its manifest.
fn demo(dir: &Path, products: usize, seed: u64) -> PathBuf {
    let options = DemoOptions {
        products,
        seed,
        image_size: 48,
        ..DemoOptions::default()
    };
    generate(dir, &options, &|_, _| {}).unwrap().manifest
}

/// A configuration that trains in seconds on the CPU.
fn quick(catalogue: PathBuf) -> RunConfig {
    RunConfig {
        catalogue,
        image_size: 32,
        batch: 16,
        learning_rate: 0.02,
        dropout: 0.1,
        min_class_examples: 3,
        tasks: vec![Task::Colour, Task::Type],
        representation: 64,
        ..RunConfig::default()
    }
    .with_epochs(1)
}

/// Trains `config` into `run` to its final record; returns every record it sent.
fn train(run: &Path, config: RunConfig, store: &Path) -> Vec<MetricsRecord> {
    let handle = vitrine::ml::start(TrainRequest {
        run_dir: run.to_path_buf(),
        config,
        resume: false,
        changes: Default::default(),
        store: Some(store.to_path_buf()),
    })
    .unwrap();
    let out = common::records(&handle);
    handle.join();
    out
}

/// A demo catalogue and a finished one-epoch run on it, trained once for the whole file.
struct Trained {
    _dir: tempfile::TempDir,
    manifest: PathBuf,
    run: PathBuf,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let manifest = demo(&dir.path().join("demo"), 40, 7);
        let run = dir.path().join("run");
        let records = train(
            &run,
            quick(manifest.clone()),
            &dir.path().join("labels.sqlite"),
        );
        assert!(
            matches!(records.last(), Some(MetricsRecord::Finished { .. })),
            "{records:?}"
        );
        Trained {
            _dir: dir,
            manifest,
            run,
        }
    })
}

/// A copy of the shared trained run in `dir` (so a test may damage or extend it).
fn copy_of_run(dir: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let run = dir.join("run");
    copy(&trained().run, &run);
    run
}

/// Runs the CLI; asserts it did not panic (exit code 101) and returns (code, stdout, stderr).
fn cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = common::vitrine().args(args).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(code, 101, "panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "a thread panicked: {stderr}");
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

#[test]
fn predicting_another_catalogue_without_out_is_refused_and_keeps_the_runs_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = copy_of_run(dir.path());
    let other = demo(&dir.path().join("other"), 12, 3);
    let predictions = std::fs::read(run.join("predictions.jsonl")).unwrap();
    let embeddings = std::fs::read(run.join("embeddings.f32")).unwrap();
    let (code, _, stderr) = cli(&[os("predict"), run.as_os_str(), other.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    assert!(stderr.contains(&*other.to_string_lossy()), "{stderr}");
    assert_eq!(
        std::fs::read(run.join("predictions.jsonl")).unwrap(),
        predictions
    );
    assert_eq!(
        std::fs::read(run.join("embeddings.f32")).unwrap(),
        embeddings
    );
    // With --out the other catalogue's predictions go there.
    let out = dir.path().join("other-predictions");
    let (code, _, stderr) = cli(&[
        os("predict"),
        run.as_os_str(),
        other.as_os_str(),
        os("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let written = vitrine::runs::predictions::Predictions::read(&out.join("predictions.jsonl"));
    assert_eq!(written.unwrap().len(), 12);
    // The run's own catalogue, named explicitly, still predicts into the run: as its
    // manifest or as the folder holding it.
    for own in [&trained().manifest, trained().manifest.parent().unwrap()] {
        let (code, _, stderr) = cli(&[os("predict"), run.as_os_str(), own.as_os_str()]);
        assert_eq!(code, 0, "{}: {stderr}", own.display());
    }
}

/// A run folder whose config names `catalogue` and whose predictions file is `lines`.
fn fake_run(dir: &Path, name: &str, catalogue: &Path, lines: &[String]) -> PathBuf {
    let run = dir.join(name);
    RunFolder::create(
        &run,
        &RunConfig {
            catalogue: catalogue.to_path_buf(),
            ..RunConfig::default()
        },
    )
    .unwrap();
    std::fs::write(run.join("predictions.jsonl"), lines.join("\n") + "\n").unwrap();
    run
}

#[test]
fn compare_warns_of_unusable_prediction_lines_and_shows_their_tasks_as_missing() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 8);
    let header = r#"{"format":"vitrine-predictions","version":1,"run":"x","classes":{"colour":["Red","Blue","Green","Black"],"type":["Apparel"]}}"#;
    let line = |i: usize, colour: &str| {
        format!(
            r#"{{"product_id":"p{i}","split":"validation","tasks":{{"colour":{{"label":null,"top":[["{colour}",0.9]]}},"type":{{"label":null,"top":[["Apparel",0.9]]}}}}}}"#
        )
    };
    let colours = ["Red", "Blue", "Green", "Black"];
    let good: Vec<String> = std::iter::once(header.to_string())
        .chain((0..8).map(|i| line(i, colours[i % 4])))
        .collect();
    // Run B's product lines name a class its header does not have: none is usable.
    let bad: Vec<String> = std::iter::once(header.to_string())
        .chain((0..8).map(|i| line(i, "Mauve")))
        .collect();
    let a = fake_run(dir.path(), "a", &catalogue, &good);
    let b = fake_run(dir.path(), "b", &catalogue, &bad);
    let (code, stdout, stderr) = cli(&[
        os("compare"),
        a.as_os_str(),
        b.as_os_str(),
        os("--format"),
        os("csv"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let file = b.join("predictions.jsonl");
    assert!(
        stderr.contains(&format!("{}:2:", file.display())) && stderr.contains("Mauve"),
        "{stderr}"
    );
    assert!(
        stderr.contains("8 lines"),
        "the count of skipped lines: {stderr}"
    );
    assert!(
        stdout.contains("colour,1.000,,,0,0\n"),
        "B's colour is missing, not 0.000: {stdout}"
    );
    assert!(stdout.contains("mean,1.000,,"), "{stdout}");
    // A damaged header is named as such; only a missing file is an unfinished run.
    let damaged = fake_run(dir.path(), "c", &catalogue, &["{not json".to_string()]);
    let (code, _, stderr) = cli(&[os("compare"), a.as_os_str(), damaged.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("not a vitrine predictions header") && !stderr.contains("not finished"),
        "{stderr}"
    );
    std::fs::remove_file(damaged.join("predictions.jsonl")).unwrap();
    let (code, _, stderr) = cli(&[os("compare"), a.as_os_str(), damaged.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("has not finished"), "{stderr}");
}

#[test]
fn a_resumed_configuration_is_validated_like_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(&dir.path().join("demo"), 12, 7);
    let run = dir.path().join("run");
    RunFolder::create(
        &run,
        &RunConfig {
            batch: 0,
            ..quick(catalogue.clone())
        },
    )
    .unwrap();
    let (code, _, stderr) = cli(&[
        os("train"),
        catalogue.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--resume"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&*run.join("config.json").to_string_lossy())
            && stderr.contains("batch must be at least 1"),
        "{stderr}"
    );
    // The failure is in the run's log too.
    let (records, _) = vitrine::runs::metrics::read_all(&run.join("metrics.jsonl")).unwrap();
    assert!(
        matches!(records.last(), Some(MetricsRecord::Failed { message, .. }) if message.contains("batch")),
        "{records:?}"
    );
}

#[test]
fn resume_extends_the_epochs_and_refuses_options_that_change_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let run = copy_of_run(dir.path());
    let catalogue = trained().manifest.clone();
    let resume = |extra: &[&str]| {
        let mut args = vec![
            os("train"),
            catalogue.as_os_str(),
            os("--out"),
            run.as_os_str(),
            os("--resume"),
        ];
        args.extend(extra.iter().map(os));
        cli(&args)
    };
    // Options that would change the model, or its split, are refused by name.
    let (code, _, stderr) = resume(&["--backbone", "zfnet", "--tasks", "colour"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("--backbone") && stderr.contains("--tasks"),
        "{stderr}"
    );
    // Another catalogue, or another mapping of it, is refused rather than ignored.
    let other = demo(&dir.path().join("other"), 12, 3);
    let (code, _, stderr) = cli(&[
        os("train"),
        other.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--resume"),
        os("--epochs"),
        os("2"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is not the catalogue of the run"),
        "{stderr}"
    );
    let (code, _, stderr) = resume(&["--map", "colour=pattern", "--epochs", "2"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--map"), "{stderr}");
    // A finished run resumed without more epochs says how to train more.
    let (code, _, stderr) = resume(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--epochs"), "{stderr}");
    // GPU settings that are not one are refused by name, before anything runs.
    let (code, _, stderr) = resume(&["--epochs", "2", "--autotune", "fast"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("minimal, balanced"), "{stderr}");
    let (code, _, stderr) = resume(&["--epochs", "2", "--fusion", "maybe"]);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("use on or off"), "{stderr}");
    // --epochs 2 trains the second epoch, with the schedule of a 2-epoch run; the GPU
    // settings (which change no weight) may change too, and are saved.
    let (code, _, stderr) = resume(&["--epochs", "2", "--autotune", "minimal", "--fusion", "off"]);
    assert_eq!(code, 0, "{stderr}");
    let folder = RunFolder::at(&run);
    let config = folder.config().unwrap();
    assert_eq!(config.epochs, 2);
    assert_eq!(config.lr_drops, vec![1]);
    assert_eq!(
        config.gpu,
        vitrine::runs::gpu_settings::GpuSettings {
            autotune: vitrine::runs::gpu_settings::Autotune::Minimal,
            fusion: false
        }
    );
    let (records, _) = vitrine::runs::metrics::read_all(&folder.metrics_path()).unwrap();
    let epochs: Vec<usize> = records
        .iter()
        .filter_map(|r| match r {
            MetricsRecord::Epoch { epoch, .. } => Some(*epoch),
            _ => None,
        })
        .collect();
    assert_eq!(epochs, vec![0, 1], "{records:?}");
    assert!(matches!(
        records.last(),
        Some(MetricsRecord::Finished { .. })
    ));
    // Fewer epochs than trained already is refused.
    let (code, _, stderr) = resume(&["--epochs", "1"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("already trained 2 epochs"), "{stderr}");
}

#[test]
fn a_missing_group_attribute_is_refused_with_the_attributes_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(&dir.path().join("demo"), 12, 7);
    let run = dir.path().join("run");
    let (code, _, stderr) = cli(&[
        os("train"),
        catalogue.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--group-by"),
        os("style_skuu"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("style_skuu") && stderr.contains("attributes"),
        "{stderr}"
    );
}

#[test]
fn heads_of_fewer_than_two_classes_are_not_trained() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(&dir.path().join("demo"), 12, 7);
    let run = dir.path().join("run");
    let (code, _, stderr) = cli(&[
        os("train"),
        catalogue.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--min-class-examples"),
        os("1000"),
        os("--tasks"),
        os("colour,type"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("colour") && stderr.contains("type") && stderr.contains("2 classes"),
        "{stderr}"
    );
}

#[test]
fn training_without_a_validation_split_says_so_instead_of_zero_accuracies() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(&dir.path().join("demo"), 24, 7);
    let run = dir.path().join("run");
    let (code, _, stderr) = cli(&[
        os("train"),
        catalogue.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--validation-fraction"),
        os("0"),
        os("--epochs"),
        os("1"),
        os("--image-size"),
        os("32"),
        os("--tasks"),
        os("colour"),
        os("--min-class-examples"),
        os("2"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no validation split"), "{stderr}");
    let log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let epoch: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["kind"] == "epoch")
        .unwrap();
    assert!(epoch["mean_accuracy"].is_null(), "{epoch}");
    assert!(epoch["validation_loss"].is_null(), "{epoch}");
    assert_eq!(epoch["accuracy"], serde_json::json!({}), "{epoch}");
}

#[test]
fn a_model_json_that_does_not_match_its_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let evaluate = |run: &Path| cli(&[os("evaluate"), run.as_os_str()]);
    // A class added to a head: the checkpoint's head has fewer outputs.
    let run = copy_of_run(&dir.path().join("added"));
    let mut spec = RunFolder::at(&run).spec().unwrap();
    spec.classes
        .get_mut(&Task::Colour)
        .unwrap()
        .push("Mauve".into());
    RunFolder::at(&run).write_spec(&spec).unwrap();
    let (code, _, stderr) = evaluate(&run);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("model.json") && stderr.contains("colour"),
        "{stderr}"
    );
    // Two classes swapped: same shapes, wrong answers.
    let run = copy_of_run(&dir.path().join("swapped"));
    let mut spec = RunFolder::at(&run).spec().unwrap();
    spec.classes.get_mut(&Task::Colour).unwrap().swap(0, 1);
    RunFolder::at(&run).write_spec(&spec).unwrap();
    let (code, _, stderr) = evaluate(&run);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("model.json"), "{stderr}");
    // The untouched run evaluates.
    let run = copy_of_run(&dir.path().join("kept"));
    let (code, _, stderr) = evaluate(&run);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_truncated_checkpoint_is_named_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let run = copy_of_run(dir.path());
    let index = RunFolder::at(&run).latest_checkpoint().unwrap().unwrap();
    let model = run.join(&index.model);
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    let (code, _, stderr) = cli(&[os("evaluate"), run.as_os_str()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "checkpoint {} is truncated or damaged",
            model.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("0.14.0"), "{stderr}");
}

#[test]
fn train_prints_a_line_per_epoch_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(&dir.path().join("demo"), 16, 7);
    let run = dir.path().join("run");
    // `output()` pipes stderr: no terminal, so no progress bar.
    let (code, _, stderr) = cli(&[
        os("train"),
        catalogue.as_os_str(),
        os("--out"),
        run.as_os_str(),
        os("--epochs"),
        os("2"),
        os("--image-size"),
        os("32"),
        os("--tasks"),
        os("colour"),
        os("--min-class-examples"),
        os("2"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    for n in 1..=2 {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("epoch {n}/2:")))
            .unwrap_or_else(|| panic!("no line for epoch {n}: {stderr}"));
        assert!(
            line.contains("train loss") && line.contains("img/s") && line.contains("accuracy"),
            "{line}"
        );
    }
    assert!(stderr.contains("training on cpu"), "{stderr}");
    assert!(stderr.contains("finished"), "{stderr}");
}

#[test]
fn a_failing_replica_fails_the_step_naming_its_device() {
    use vitrine::ml::backend::CpuTraining;
    use vitrine::ml::data::Batch;
    use vitrine::ml::model::ModelConfig;
    let device = vitrine::ml::backend::cpu_device();
    let model = ModelConfig {
        backbone: vitrine::runs::Backbone::Small,
        batch_norm: false,
        feature_grid: 1,
        dropout: 0.0,
        representation: 16,
        heads: vec![(Task::Colour, 3)],
    }
    .init::<CpuTraining>(&device);
    let crop = 32;
    // The fourth product has no image: the second replica's part cannot be pooled.
    let batch = Batch {
        pixels: vec![0.1; 3 * 3 * crop * crop],
        crop,
        ranges: vec![0..1, 1..2, 2..3, 3..3],
        targets: vec![vec![Some(0), Some(1), Some(2), Some(0)]],
        samples: (0..4).collect(),
        shape: None,
    };
    let result = vitrine::ml::training::gradients(&model, &batch, &[device, device], 0.0);
    let Err(error) = result else {
        panic!("a step without the second replica's part was taken")
    };
    let message = error.to_string();
    assert!(
        message.starts_with("data-parallel replica 1 (device "),
        "{message}"
    );
    // The first replica's part alone is fine.
    let first = batch.split(2).remove(0);
    assert!(vitrine::ml::training::gradients(&model, &first, &[device, device], 0.0).is_ok());
}
