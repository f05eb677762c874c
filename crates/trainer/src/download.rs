//! `data`: downloading the public data sets, checked against their published SHA-256.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::run::write_atomic;
use crate::text_file::hex;
use crate::{Result, TrainerError};

/// One file of a data set: where it lives upstream and its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteFile {
    /// The file's name (also its name in the output directory).
    pub name: &'static str,
    /// Its path below the data set's base address.
    pub path: &'static str,
    /// Lower-case hex SHA-256 of its bytes.
    pub sha256: &'static str,
}

/// A public data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSet {
    /// `cmudict` or `multi30k`.
    pub name: &'static str,
    /// Base address the paths are relative to (a pinned commit of the upstream repository).
    pub base_url: &'static str,
    /// Its files.
    pub files: &'static [RemoteFile],
}

/// The CMUdict G2P split g014b2b (Bisani & Ney 2008), from jg2p at a pinned commit.
pub const CMUDICT: DataSet = DataSet {
    name: "cmudict",
    base_url: "https://raw.githubusercontent.com/steveash/jg2p/62b3f3578b47c198a6d0b6d5d9ae6c37bf049fbd/jg2p-core/src/test/resources/",
    files: &[
        RemoteFile {
            name: "g014b2b.train",
            path: "g014b2b.train",
            sha256: "5882433c3a14a9a0614b5f724ce74872851092e816852c82d6b74913b2085384",
        },
        RemoteFile {
            name: "g014b2b.test",
            path: "g014b2b.test",
            sha256: "9beeeed7726f4954bee1dbb3c5b41f50a71227557eca70b259fbd63c9cad1bb9",
        },
    ],
};

/// Multi30k task 1, raw German–English (Elliott et al. 2016), at a pinned commit.
pub const MULTI30K: DataSet = DataSet {
    name: "multi30k",
    base_url: "https://raw.githubusercontent.com/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw/",
    files: &[
        RemoteFile {
            name: "train.de.gz",
            path: "train.de.gz",
            sha256: "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6",
        },
        RemoteFile {
            name: "train.en.gz",
            path: "train.en.gz",
            sha256: "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f",
        },
        RemoteFile {
            name: "val.de.gz",
            path: "val.de.gz",
            sha256: "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a",
        },
        RemoteFile {
            name: "val.en.gz",
            path: "val.en.gz",
            sha256: "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28",
        },
        RemoteFile {
            name: "test_2016_flickr.de.gz",
            path: "test_2016_flickr.de.gz",
            sha256: "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
        },
        RemoteFile {
            name: "test_2016_flickr.en.gz",
            path: "test_2016_flickr.en.gz",
            sha256: "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
        },
    ],
};

/// Every data set `cargo xtask data` knows.
pub const DATA_SETS: [DataSet; 2] = [CMUDICT, MULTI30K];

/// The data set called `name`.
///
/// # Errors
///
/// [`InferenceError::UnknownName`](inference::InferenceError::UnknownName).
pub fn data_set(name: &str) -> Result<DataSet> {
    DATA_SETS
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| {
            TrainerError::unknown_name("data set", name, DATA_SETS.map(|d| d.name).join(", "))
        })
}

/// Downloads every file of `set` into `out` (from `base_url`, default the data set's own),
/// checking each SHA-256 before the file is given its name. A file whose checksum differs is
/// an error and is not kept; files already present with the right checksum are not fetched
/// again.
///
/// # Errors
///
/// [`TrainerError::Download`] for network errors, [`TrainerError::Checksum`] for a mismatch,
/// [`TrainerError::Io`] for file errors.
pub fn download(set: &DataSet, out: &Path, base_url: Option<&str>) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| TrainerError::io(out, e))?;
    let base = base_url.unwrap_or(set.base_url);
    let mut written = Vec::new();
    for file in set.files {
        let target = out.join(file.name);
        if let Ok(existing) = std::fs::read(&target)
            && hex(&Sha256::digest(&existing)) == file.sha256
        {
            written.push(target);
            continue;
        }
        let url = format!("{}/{}", base.trim_end_matches('/'), file.path);
        let bytes = fetch_checked(&url, file.name, file.sha256)?;
        write_atomic(&target, &bytes)?;
        written.push(target);
    }
    Ok(written)
}

/// The bytes at `url`, which must hash to `sha256`.
///
/// # Errors
///
/// [`TrainerError::Download`]; [`TrainerError::Checksum`] naming the file as `name`.
pub(crate) fn fetch_checked(url: &str, name: &str, sha256: &str) -> Result<Vec<u8>> {
    let bytes = fetch(url)?;
    check_sha256(name, &bytes, sha256)?;
    Ok(bytes)
}

/// [`TrainerError::Checksum`] naming `name` unless `bytes` hash to `expected`.
pub(crate) fn check_sha256(name: &str, bytes: &[u8], expected: &str) -> Result<()> {
    let actual = hex(&Sha256::digest(bytes));
    if actual == expected {
        Ok(())
    } else {
        Err(TrainerError::Checksum {
            name: name.to_string(),
            actual,
            expected: expected.to_string(),
        })
    }
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    let error = |message: String| TrainerError::Download {
        url: url.to_string(),
        message,
    };
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder().tls_config(tls).build().into();
    let response = agent.get(url).call().map_err(|e| error(e.to_string()))?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .read_to_end(&mut bytes)
        .map_err(|e| error(format!("the transfer broke off: {e}")))?;
    Ok(bytes)
}
