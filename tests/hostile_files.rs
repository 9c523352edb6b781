//! Hostile files: runaway quotes, links and special files among the images, an image root
//! outside the catalogue, decompression bombs, huge cells, UTF-16 text. Each gets a warning or
//! error naming the file (and line); none hangs, panics or allocates without bound.

mod common;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::catalog::import::{ImportOptions, Warning, check_images, import};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

fn os(s: impl AsRef<OsStr>) -> OsString {
    s.as_ref().to_os_string()
}

/// Runs the CLI in `cwd`, killing it after `seconds` (a hang fails the test); asserts it did
/// not panic and returns (code, stdout, stderr).
fn cli_in(cwd: &Path, args: &[OsString], seconds: u64) -> (i32, String, String) {
    let logs = tempfile::tempdir().unwrap();
    let (out, err) = (logs.path().join("out"), logs.path().join("err"));
    let mut child = common::vitrine()
        .args(args)
        .current_dir(cwd)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{args:?} still running after {seconds} s (a hang)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = std::fs::read_to_string(&err).unwrap();
    let code = status.code().unwrap_or(-1);
    assert_ne!(code, 101, "panicked: {stderr}");
    (code, std::fs::read_to_string(&out).unwrap(), stderr)
}

fn cli(args: &[OsString]) -> (i32, String, String) {
    cli_in(&std::env::temp_dir(), args, 60)
}

fn warned(warnings: &[Warning], file: &Path, line: u64, text: &str) -> bool {
    warnings
        .iter()
        .any(|w| w.file == file && w.line == Some(line) && w.message.contains(text))
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    bytes
}

/// Runs `f` on a thread and fails the test if it takes longer than `seconds` (a hang).
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(f()));
    receive
        .recv_timeout(Duration::from_secs(seconds))
        .expect("still running: a hang")
}

// ---- 1. Unbalanced quotes ----

#[test]
fn an_unbalanced_quote_is_warned_with_its_line_and_the_rows_after_it_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("product_id,name,images,colour\n");
    text.push_str("p0,\"A name, with a comma\",,Red\n");
    // A legitimate two-line name is not a runaway quote.
    text.push_str("p1,\"Two\nlines\",,Blue\n");
    text.push_str("p2,\"Broken name,,Green\n");
    for i in 3..9 {
        text.push_str(&format!("p{i},Product {i},,Black\n"));
    }
    let manifest = write(dir.path(), "manifest.csv", &text);
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    for i in 0..9 {
        assert!(
            imported.catalog.product(&format!("p{i}")).is_some(),
            "p{i} kept: {:#?}",
            r.warnings
        );
    }
    assert_eq!(&*imported.catalog.product("p1").unwrap().name, "Two\nlines");
    let quote: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.message.contains("quote"))
        .collect();
    assert_eq!(quote.len(), 1, "{:#?}", r.warnings);
    assert!(
        warned(&r.warnings, &manifest, 5, "unbalanced quote"),
        "{quote:#?}"
    );
    assert!(quote[0].message.contains("7 lines"), "{quote:#?}");
    let p2 = imported.catalog.product("p2").unwrap();
    assert_eq!(&*p2.name, "Broken name");

    // Kaggle: the quote opens in the last column (the display name), so the record still
    // has the right number of fields; the rows it holds are what gives it away.
    let kaggle = tempfile::tempdir().unwrap();
    let mut styles = String::from(
        "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n",
    );
    styles.push_str("1,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,\"Broken Shirt\n");
    for id in 2..6 {
        styles.push_str(&format!(
            "{id},Women,Apparel,Topwear,Tops,Red,Fall,2011,Casual,Top {id}\n"
        ));
    }
    let styles_csv = write(kaggle.path(), "styles.csv", &styles);
    let imported = import(kaggle.path(), &ImportOptions::default()).unwrap();
    assert_eq!(imported.catalog.len(), 5, "{:#?}", imported.report.warnings);
    assert!(
        warned(
            &imported.report.warnings,
            &styles_csv,
            2,
            "unbalanced quote"
        ),
        "{:#?}",
        imported.report.warnings
    );
}

// ---- 2. Links and special files ----

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn links_out_of_the_folder_and_special_files_are_refused_before_reading() {
    let outer = tempfile::tempdir().unwrap();
    let outside = write(outer.path(), "outside/secret.jpg", jpeg(16, 16));
    let dir = outer.path().join("catalogue");
    write(&dir, "images/ok.jpg", jpeg(16, 16));
    write(&dir, "images/real.jpg", jpeg(16, 16));
    std::os::unix::fs::symlink("real.jpg", dir.join("images/inside-link.jpg")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("images/out-link.jpg")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("images/zero.jpg")).unwrap();
    mkfifo(&dir.join("images/fifo.jpg"));
    std::fs::create_dir_all(dir.join("images/folder.jpg")).unwrap();
    std::os::unix::fs::symlink(outer.path().join("outside"), dir.join("images/sub")).unwrap();
    let manifest = write(
        &dir,
        "manifest.csv",
        "product_id,images\n\
         p1,images/ok.jpg|images/inside-link.jpg\n\
         p2,images/out-link.jpg\n\
         p3,images/zero.jpg\n\
         p4,images/fifo.jpg\n\
         p5,images/folder.jpg\n\
         p6,images/sub/secret.jpg\n",
    );
    let imported = within(30, {
        let manifest = manifest.clone();
        move || import(&manifest, &ImportOptions::default()).unwrap()
    });
    let r = &imported.report;
    assert_eq!(imported.catalog.product("p1").unwrap().images.len(), 2);
    for (line, product, text) in [
        (3, "p2", "outside the image folder"),
        (4, "p3", "not a regular file"),
        (5, "p4", "not a regular file"),
        (6, "p5", "a folder"),
        (7, "p6", "outside the image folder"),
    ] {
        assert!(
            warned(&r.warnings, &manifest, line, text),
            "line {line} ({text}): {:#?}",
            r.warnings
        );
        assert!(imported.catalog.product(product).unwrap().images.is_empty());
    }
    // The whole command, image check included, ends.
    let (code, stdout, stderr) = cli_in(
        &dir,
        &[os("import"), os("manifest.csv"), os("--check-images")],
        60,
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 images decoded, 0 could not be"),
        "{stdout}"
    );
}

#[test]
fn a_catalogue_file_that_is_a_folder_or_a_fifo_is_refused_without_opening() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("styles.csv")).unwrap();
    let (code, _, stderr) = cli(&[os("import"), os(dir.path())]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("styles.csv: not a regular file"),
        "{stderr}"
    );
    let fifo = dir.path().join("fifo.csv");
    mkfifo(&fifo);
    let (code, _, stderr) = cli_in(dir.path(), &[os("import"), os(&fifo)], 20);
    assert_eq!(code, 1);
    assert!(stderr.contains("fifo.csv: not a regular file"), "{stderr}");
    let fifo = dir.path().join("fifo.jsonl");
    mkfifo(&fifo);
    let (code, _, stderr) = cli_in(dir.path(), &[os("import"), os(&fifo)], 20);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("fifo.jsonl: not a regular file"),
        "{stderr}"
    );
}

#[test]
fn every_image_read_refuses_special_files_and_huge_files() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.jpg");
    mkfifo(&fifo);
    let zero = dir.path().join("zero.jpg");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let folder = dir.path().join("folder.jpg");
    std::fs::create_dir(&folder).unwrap();
    // Sparse: 300 MiB on paper, nothing on disk.
    let huge = dir.path().join("huge.png");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    for path in [fifo, zero, folder, huge] {
        let (reduced, short, thumb) = within(20, move || {
            (
                vitrine::imaging::decode_reduced(&path, 64),
                vitrine::imaging::decode_short_side(&path, 64).map(|_| ()),
                vitrine::imaging::thumbnail(&path, 64, None).map(|_| ()),
            )
        });
        for error in [
            reduced.map(|_| ()).unwrap_err(),
            short.unwrap_err(),
            thumb.unwrap_err(),
        ] {
            assert!(
                error.contains("not a regular file") || error.contains("larger than"),
                "{error}"
            );
        }
    }
}

#[test]
fn containment_does_not_depend_on_how_the_catalogue_path_is_written() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("catalogue");
    let photo = write(&dir, "images/a.jpg", jpeg(16, 16));
    write(
        &dir,
        "manifest.csv",
        format!("product_id,images\np1,{}\n", photo.display()),
    );
    for catalogue in [
        dir.join("manifest.csv"),
        PathBuf::from("catalogue/manifest.csv"),
    ] {
        let (code, stdout, stderr) = cli_in(
            outer.path(),
            &[os("import"), os(&catalogue), os("--json")],
            30,
        );
        assert_eq!(code, 0, "{stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["images"], 1, "{}: {stdout}", catalogue.display());
    }
}

// ---- 3. The sidecar's image root ----

#[test]
fn a_sidecar_image_root_outside_the_catalogue_is_refused_unless_given_on_the_command_line() {
    let outer = tempfile::tempdir().unwrap();
    write(outer.path(), "photos/a.jpg", jpeg(16, 16));
    let dir = outer.path().join("catalogue");
    let manifest = write(&dir, "manifest.csv", "product_id,images\np1,a.jpg\n");
    let sidecar = write(
        &dir,
        "manifest.vitrine.toml",
        "# where the photos are\nimage_root = \"../photos\"\n",
    );
    let err = import(&manifest, &ImportOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("manifest.vitrine.toml:2") && message.contains("outside the catalogue"),
        "{message}"
    );
    assert!(message.contains("--images"), "{message}");
    std::fs::write(&sidecar, "image_root = \"/\"\n").unwrap();
    assert!(import(&manifest, &ImportOptions::default()).is_err());
    // Asked for on the command line, the folder is used.
    let options = ImportOptions {
        image_root: Some(outer.path().join("photos")),
        ..Default::default()
    };
    let imported = import(&manifest, &options).unwrap();
    assert_eq!(imported.report.images, 1);
    let (code, _, stderr) = cli(&[
        os("import"),
        os(&manifest),
        os("--images"),
        os(outer.path().join("photos")),
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Inside the folder is fine.
    write(&dir, "pictures/a.jpg", jpeg(16, 16));
    std::fs::write(&sidecar, "image_root = \"pictures\"\n").unwrap();
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    assert_eq!(imported.report.images, 1);
}

// ---- 4. Decompression bombs ----

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Deflate bits, least significant first.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u64,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= (value as u64) << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.count -= 8;
        }
    }

    /// A Huffman code goes most significant bit first.
    fn code(&mut self, code: u32, length: u32) {
        self.put(code.reverse_bits() >> (32 - length), length);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.count > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A valid black greyscale PNG of `width` x `height`, small on disk: one fixed-Huffman block
/// of (length 258, distance 1) matches.
fn black_png(width: u32, height: u32) -> Vec<u8> {
    let total = height as u64 * (width as u64 + 1);
    let mut bits = Bits::default();
    bits.put(1, 1); // the final block
    bits.put(1, 2); // fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    let mut left = total - 1;
    while left >= 258 {
        bits.code(0xC5, 8); // length 258
        bits.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.code(0x30, 8);
    }
    bits.code(0, 7); // end of block
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(bits.finish());
    let adler = (((total % 65521) as u32) << 16) | 1;
    zlib.extend(adler.to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        png.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&body);
        png.extend(crc32(&body).to_be_bytes());
    };
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]); // 8-bit grey, deflate, no filter, no interlace
    chunk(b"IHDR", &header);
    chunk(b"IDAT", &zlib);
    chunk(b"IEND", &[]);
    png
}

#[test]
fn the_png_writer_of_these_tests_is_valid() {
    let image = image::load_from_memory(&black_png(3, 700)).unwrap();
    assert_eq!((image.width(), image.height()), (3, 700));
    assert!(image.to_luma8().pixels().all(|p| p[0] == 0));
}

#[test]
fn a_decompression_bomb_is_refused_by_the_check_and_by_every_decode() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write(dir.path(), "bomb.png", black_png(1, 50_000_000));
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    write(dir.path(), "ok.jpg", jpeg(32, 32));
    let manifest = write(
        dir.path(),
        "manifest.csv",
        "product_id,images\np1,ok.jpg\np2,bomb.png\n",
    );
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let bad = check_images(&imported.catalog, 2);
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(bad[0].file.file_name().unwrap(), "bomb.png");
    assert!(bad[0].message.contains("1x50000000"), "{}", bad[0].message);
    assert!(bad[0].message.contains("limit"), "{}", bad[0].message);
    for error in [
        vitrine::imaging::decode_short_side(&bomb, 64)
            .map(|_| ())
            .unwrap_err(),
        vitrine::imaging::decode_reduced(&bomb, 200)
            .map(|_| ())
            .unwrap_err(),
    ] {
        assert!(error.contains("1x50000000"), "{error}");
    }
}

#[test]
fn training_on_a_catalogue_with_a_bomb_skips_it_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let (code, _, stderr) = cli(&[
        os("demo"),
        os("--out"),
        os(&demo),
        os("--products"),
        os("12"),
        os("--image-size"),
        os("48"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    write(&demo, "bomb.png", black_png(1, 50_000_000));
    let manifest = demo.join("manifest.csv");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let mut row: Vec<String> = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    row[0] = "bomb".into();
    row[header.iter().position(|h| *h == "images").unwrap()] = "bomb.png".into();
    row[header.iter().position(|h| *h == "views").unwrap()] = String::new();
    std::fs::write(&manifest, format!("{text}{}\n", row.join(","))).unwrap();
    let run = dir.path().join("run");
    let (code, _, stderr) = cli(&[
        os("train"),
        os(&demo),
        os("--out"),
        os(&run),
        os("--backbone"),
        os("small"),
        os("--epochs"),
        os("1"),
        os("--image-size"),
        os("32"),
        os("--batch"),
        os("8"),
        os("--devices"),
        os("cpu"),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert!(
        metrics.contains("bomb.png") && metrics.contains("1x50000000"),
        "{metrics}"
    );
    assert!(metrics.contains("\"finished\""), "{metrics}");
}

#[test]
fn an_elongated_image_is_not_scaled_to_a_huge_one() {
    let dir = tempfile::tempdir().unwrap();
    // Within the limits on decoded size; scaled to a 64 px shorter side it would be
    // 64 x 1,048,576.
    let strip = write(dir.path(), "strip.png", black_png(1, 16_384));
    let error = vitrine::imaging::decode_short_side(&strip, 64).unwrap_err();
    assert!(error.contains("elongated"), "{error}");
    // The thumbnail only shrinks it.
    let thumb = vitrine::imaging::decode_reduced(&strip, 200).unwrap();
    assert_eq!(thumb.height(), 200);
}

#[test]
fn a_jpeg_header_announcing_a_huge_image_is_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = jpeg(16, 16);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame");
    // Marker, length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    let path = write(dir.path(), "huge.jpg", &bytes);
    for side in [64, 200, 1600] {
        let error = vitrine::imaging::decode_reduced(&path, side).unwrap_err();
        assert!(error.contains("60000x60000"), "{error}");
    }
    let error = vitrine::imaging::decode_short_side(&path, 64).unwrap_err();
    assert!(error.contains("60000x60000"), "{error}");
}

#[test]
fn image_sizes_on_the_command_line_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 4);
    for size in ["0", "100000"] {
        let (code, _, stderr) = cli(&[
            os("train"),
            os(&catalogue),
            os("--out"),
            os(dir.path().join("run")),
            os("--image-size"),
            os(size),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("--image-size"), "{stderr}");
        assert!(stderr.contains("32..=1024"), "{stderr}");
        let (code, _, stderr) = cli(&[
            os("demo"),
            os("--out"),
            os(dir.path().join("demo")),
            os("--products"),
            os("1"),
            os("--image-size"),
            os(size),
        ]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("32..=4096"), "{stderr}");
    }
    // The parser's bounds are the generator's own (16 passed the parser, then failed).
    for (option, value, bounds) in [
        ("--image-size", "16", "32..=4096"),
        ("--products", "99999999999", "1..=1000000"),
        ("--products", "0", "1..=1000000"),
    ] {
        let (code, _, stderr) = cli(&[
            os("demo"),
            os("--out"),
            os(dir.path().join("demo")),
            os(option),
            os(value),
        ]);
        assert_eq!(code, 2, "{option} {value}: {stderr}");
        assert!(stderr.contains(bounds), "{stderr}");
    }
    assert!(!dir.path().join("run").exists() && !dir.path().join("demo").exists());
}

// ---- 5. Huge cells ----

#[test]
fn huge_cells_are_shortened_in_warnings_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(100_000);
    let manifest = write(
        dir.path(),
        "manifest.csv",
        format!("product_id,images\n{huge},\n{huge},\np1,{huge}.jpg\np2,../{huge}.jpg\n"),
    );
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let warnings = &imported.report.warnings;
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    for w in warnings {
        assert!(w.message.len() < 400, "{} bytes", w.message.len());
        assert!(
            w.message.contains("… (100000 bytes)")
                || w.message.contains("… (100004 bytes)")
                || w.message.contains("… (100007 bytes)"),
            "{}",
            w.message
        );
    }
    // A column mapping naming a huge column.
    let (code, _, stderr) = cli(&[
        os("import"),
        os(&manifest),
        os("--map"),
        os(format!("colour={huge}")),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.len() < 1000, "{} bytes", stderr.len());
    assert!(stderr.contains("manifest.csv"), "{stderr}");
    // A header of huge column names, none of them an id.
    let header = write(dir.path(), "header.csv", format!("{huge},{huge}2\na,b\n"));
    let message = import(&header, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.len() < 400, "{} bytes", message.len());
    assert!(message.contains("… (100001 bytes)"), "{message}");
}

// ---- 6. Each cause once ----

#[test]
fn error_messages_give_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 3);
    let folder = dir.path().join("styles.csv");
    std::fs::create_dir(&folder).unwrap();
    // A folder where a file is read or written.
    for (args, cause) in [
        (
            vec![
                os("labels"),
                os("apply"),
                os(&catalogue),
                os("--edits"),
                os(&folder),
            ],
            "not a regular file",
        ),
        (
            vec![
                os("labels"),
                os("export"),
                os(&catalogue),
                os("--out"),
                os(&folder),
            ],
            "os error 21",
        ),
        (
            vec![
                os("train"),
                os(&catalogue),
                os("--out"),
                os(dir.path().join("run")),
                os("--config"),
                os(&folder),
            ],
            "os error 21",
        ),
        // A missing file.
        (
            vec![os("import"), os(dir.path().join("gone.csv"))],
            "no such file",
        ),
        (
            vec![
                os("labels"),
                os("apply"),
                os(&catalogue),
                os("--edits"),
                os(dir.path().join("gone.csv")),
            ],
            "no such file",
        ),
        // A store that cannot be opened.
        (
            vec![
                os("labels"),
                os("log"),
                os(&catalogue),
                os("--store"),
                os(&folder),
            ],
            "not a regular file",
        ),
    ] {
        let (code, _, stderr) = cli(&args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_eq!(stderr.matches(cause).count(), 1, "{args:?}: {stderr}");
    }
}

// ---- 7. Encodings ----

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    if bom {
        units.push(0xFEFF);
    }
    units.extend(text.encode_utf16());
    units
        .into_iter()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

#[test]
fn utf16_files_are_named_as_such_and_a_utf8_bom_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let text = "product_id,name,images,colour\np1,Shirt,,Red\np2,Dress,,Blue\n";
    for (name, big_endian, bom) in [
        ("le-bom.csv", false, true),
        ("be-bom.csv", true, true),
        ("le.csv", false, false),
        ("be.csv", true, false),
        ("le-bom.jsonl", false, true),
        ("be.jsonl", true, false),
    ] {
        let content = if name.ends_with(".jsonl") {
            "{\"product_id\": \"p1\"}\n".to_string()
        } else {
            text.to_string()
        };
        let path = write(dir.path(), name, utf16(&content, big_endian, bom));
        let message = import(&path, &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(name) && message.contains("is UTF-16 encoded; save it as UTF-8"),
            "{name}: {message}"
        );
    }
    let csv = write(dir.path(), "bom.csv", format!("\u{feff}{text}"));
    let imported = import(&csv, &ImportOptions::default()).unwrap();
    assert_eq!(imported.catalog.len(), 2);
    assert!(
        imported.report.warnings.is_empty(),
        "{:#?}",
        imported.report.warnings
    );
    let jsonl = write(
        dir.path(),
        "bom.jsonl",
        "\u{feff}{\"product_id\": \"p1\"}\n{\"product_id\": \"p2\"}\n",
    );
    let imported = import(&jsonl, &ImportOptions::default()).unwrap();
    assert_eq!(imported.catalog.len(), 2, "{:#?}", imported.report.warnings);
    assert!(imported.report.warnings.is_empty());
}

// ---- Line numbers, duplicate columns, image limits, the warning cap ----

/// `text` (written with `\n`) with its line ends replaced by `end`.
fn with_line_ends(text: &str, end: &str) -> String {
    text.replace('\n', end)
}

#[test]
fn warnings_name_the_right_line_whatever_the_line_ends() {
    let mut text = String::from("product_id,name,images,colour\n");
    text.push_str("p1,One,,Red\n");
    text.push_str("p1,Again,,Red\n");
    text.push_str(",No id,,Red\n");
    text.push_str("p2,\"Broken name,,Green\n");
    for i in 3..7 {
        text.push_str(&format!("p{i},Product {i},,Black\n"));
    }
    text.push_str("p3,Late duplicate,,Black\n");
    for (kind, end) in [("LF", "\n"), ("CRLF", "\r\n"), ("CR", "\r")] {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write(dir.path(), "manifest.csv", with_line_ends(&text, end));
        let imported = import(&manifest, &ImportOptions::default()).unwrap();
        let w = &imported.report.warnings;
        for (line, what) in [
            (3, "duplicate product id 'p1' (first seen at line 2)"),
            (4, "empty product id"),
            (5, "unbalanced quote"),
            (10, "duplicate product id 'p3' (first seen at line 6)"),
        ] {
            assert!(
                warned(w, &manifest, line, what),
                "{kind}: {line} {what}: {w:#?}"
            );
        }
        assert_eq!(w.len(), 4, "{kind}: {w:#?}");
        for i in 1..7 {
            assert!(
                imported.catalog.product(&format!("p{i}")).is_some(),
                "{kind}: p{i}"
            );
        }
        assert_eq!(
            &*imported.catalog.product("p2").unwrap().name,
            "Broken name"
        );
    }
}

#[test]
fn a_repeated_column_name_is_warned_with_both_positions_and_the_first_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "manifest.csv",
        "product_id,images,colour,colour,pattern,pattern\np1,,Blue,Red,a,b\n",
    );
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let w = &imported.report.warnings;
    for (name, first, second) in [("colour", 3, 4), ("pattern", 5, 6)] {
        assert!(
            w.iter().any(|w| w.file == manifest
                && w.line == Some(1)
                && w.message.contains(&format!("'{name}'"))
                && w.message.contains(&format!("columns {first} and {second}"))),
            "{name}: {w:#?}"
        );
    }
    let catalog = &imported.catalog;
    let p1 = catalog.product("p1").unwrap();
    assert_eq!(
        catalog.label_name(p1, vitrine::catalog::Task::Colour),
        Some("Blue")
    );
    assert_eq!(catalog.attribute(p1, "pattern"), Some("a"));
    // The repeat is not kept under the same name as a second value, nor as its own attribute.
    assert_eq!(p1.attributes.len(), 1, "{:?}", p1.attributes);

    // Kaggle reads every column it does not map as an attribute: same rule.
    let kaggle = tempfile::tempdir().unwrap();
    let styles = write(
        kaggle.path(),
        "styles.csv",
        "id,gender,masterCategory,subCategory,articleType,baseColour,season,season,productDisplayName\n\
         1,Men,Apparel,Topwear,Shirts,Blue,Fall,Winter,Shirt\n",
    );
    let imported = import(kaggle.path(), &ImportOptions::default()).unwrap();
    let w = &imported.report.warnings;
    assert!(
        w.iter().any(|w| w.file == styles
            && w.line == Some(1)
            && w.message.contains("'season'")
            && w.message.contains("columns 7 and 8")),
        "{w:#?}"
    );
    let catalog = &imported.catalog;
    let p = catalog.product("1").unwrap();
    assert_eq!(catalog.attribute(p, "season"), Some("Fall"));
    assert_eq!(p.attributes.len(), 1, "{:?}", p.attributes);
}

#[test]
fn an_unbalanced_quote_is_listed_even_after_the_warning_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("product_id,name,images\n");
    for i in 0..1500 {
        text.push_str(&format!("p{i},Product {i},missing{i}.jpg\n"));
    }
    text.push_str("q1,\"Broken name,\n");
    for i in 2..5 {
        text.push_str(&format!("q{i},Product {i},\n"));
    }
    let manifest = write(dir.path(), "manifest.csv", &text);
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    assert_eq!(
        r.warnings_total,
        1501,
        "{:#?}",
        &r.warnings[r.warnings.len() - 3..]
    );
    assert!(
        warned(&r.warnings, &manifest, 1502, "unbalanced quote"),
        "{:#?}",
        &r.warnings[r.warnings.len() - 3..]
    );
    let last = r.warnings.last().unwrap();
    assert!(
        last.message.contains("500 more warnings not listed"),
        "{last:?}"
    );
    assert!(imported.catalog.product("q4").is_some());
}

#[test]
fn the_image_check_refuses_exactly_what_training_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("ok.jpg", jpeg(32, 32)),
        ("line.png", black_png(16_384, 1)),
        ("banner.png", black_png(150, 10)),
        ("wide.png", black_png(140, 10)),
        ("tall.png", black_png(10, 200)),
        ("bomb.png", black_png(1, 50_000_000)),
    ];
    let mut text = String::from("product_id,images\n");
    for (i, (name, bytes)) in files.iter().enumerate() {
        write(dir.path(), name, bytes);
        text.push_str(&format!("p{i},{name}\n"));
    }
    let manifest = write(dir.path(), "manifest.csv", &text);
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let checked: Vec<String> = check_images(&imported.catalog, 2)
        .iter()
        .map(|w| w.file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for size in [vitrine::runs::config::MIN_IMAGE_SIZE, 64] {
        let short_side = (size as f32 * 8.0 / 7.0).round() as u32;
        let refused: Vec<String> = files
            .iter()
            .filter(|(name, _)| {
                vitrine::imaging::decode_short_side(&dir.path().join(name), short_side).is_err()
            })
            .map(|(name, _)| name.to_string())
            .collect();
        assert_eq!(checked, refused, "image size {size}");
    }
    assert!(checked.contains(&"line.png".to_string()), "{checked:?}");
}

#[test]
fn an_image_folder_that_is_a_file_or_missing_is_one_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("product_id,images\n");
    for i in 0..5 {
        write(&dir.path().join("photos"), &format!("p{i}.jpg"), jpeg(8, 8));
        text.push_str(&format!("p{i},p{i}.jpg\n"));
    }
    let manifest = write(dir.path(), "manifest.csv", &text);
    let file = write(dir.path(), "afile", "x");
    let missing = dir.path().join("nowhere");
    for (folder, problem) in [(&file, "not a folder"), (&missing, "no such folder")] {
        let options = ImportOptions {
            image_root: Some(folder.clone()),
            ..ImportOptions::default()
        };
        let error = import(&manifest, &options).unwrap_err().to_string();
        assert!(
            error.contains(&folder.display().to_string()) && error.contains(problem),
            "{error}"
        );
        let (code, stdout, stderr) =
            cli(&[os("import"), os(&manifest), os("--images"), os(folder)]);
        assert_ne!(code, 0, "{stdout}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&folder.display().to_string()), "{stderr}");
    }
    let options = ImportOptions {
        image_root: Some(dir.path().join("photos")),
        ..ImportOptions::default()
    };
    assert_eq!(import(&manifest, &options).unwrap().report.images, 5);
}
