//! Reading data files: CMUdict and parallel text, plain and gzip, and the errors of bad files.

use std::io::Write;
use std::path::Path;

use trainer::TrainerError;
use trainer::tasks::cmudict::Dictionary;
use trainer::tasks::parallel::Parallel;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn cmudict_groups_variants_and_strips_stress() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "d.train",
        b";;; a comment\nREAD\tR IY1 D\nREAD(2)  R EH1 D\nABLE EY1 B AH0 L\r\n\nREAD R IY D\n",
    );
    let dict = Dictionary::read(&path).unwrap().without_stress();
    let s = |x: &str| x.split(' ').map(String::from).collect::<Vec<_>>();
    assert_eq!(
        dict.entries,
        vec![
            ("read".to_string(), vec![s("R IY D"), s("R EH D")]),
            ("able".to_string(), vec![s("EY B AH L")]),
        ]
    );
    assert_eq!(dict.items()[0].references.len(), 2);
    assert_eq!(dict.pairs().len(), 3);
}

#[test]
fn bad_dictionaries_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let no_pron = write(dir.path(), "a.train", b"ABLE EY B AH L\nLONELY\n");
    let err = Dictionary::read(&no_pron).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "a.train:2: the word \"LONELY\" has no pronunciation (expected WORD<tab>PH PH …)"
        ),
        "{err}"
    );

    let latin1 = write(
        dir.path(),
        "b.train",
        b"ABLE EY B AH L\nCAF\xc9 K AE F EY\n",
    );
    let err = Dictionary::read(&latin1).unwrap_err().to_string();
    assert!(err.contains("b.train:2: not valid UTF-8"), "{err}");

    let empty = write(dir.path(), "c.train", b";;; only a comment\n\n");
    assert!(matches!(
        Dictionary::read(&empty),
        Err(TrainerError::Empty { .. })
    ));

    let missing = dir.path().join("missing.train");
    let err = Dictionary::read(&missing).unwrap_err().to_string();
    assert!(
        err.contains("missing.train") && err.contains("No such file"),
        "{err}"
    );
}

#[test]
fn parallel_text_reads_gzip_and_refuses_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    let de = write(
        dir.path(),
        "train.de.gz",
        &gzip(b"ein Hund .\nzwei Katzen\n"),
    );
    let en = write(dir.path(), "train.en", b"a dog .\ntwo cats\n");
    let corpus = Parallel::read(&de, &en).unwrap();
    assert_eq!(
        corpus.lines[1],
        ("zwei Katzen".to_string(), "two cats".to_string())
    );

    let short = write(dir.path(), "short.en", b"a dog .\n");
    let err = Parallel::read(&de, &short).unwrap_err().to_string();
    assert!(
        err.contains("train.de.gz has 2 lines but") && err.contains("short.en has 1"),
        "{err}"
    );

    let full = gzip(b"ein Hund .\nzwei Katzen\n");
    let truncated = write(dir.path(), "cut.de.gz", &full[..full.len() - 6]);
    let err = Parallel::read(&truncated, &en).unwrap_err().to_string();
    assert!(
        err.contains("cut.de.gz") && err.contains("gzip data is truncated or corrupt"),
        "{err}"
    );
}
