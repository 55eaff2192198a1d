//! Shards: a deterministic subset of an experiment's units, run on one machine of a cluster
//! (a Slurm array task, a Kubernetes Indexed Job pod), written as a shard folder; `merge`
//! joins the shard folders into exactly the folder one machine would have written.
//!
//! A shard folder holds `shard.toml` (the experiment as [`Info`], which shard of how many,
//! and per unit the length of its part of every file) and one `FILE.part` per output file with
//! its units' parts back to back, in unit order.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Info, RunOptions, RunOutcome};
use crate::output::OutputDir;
use crate::output::assemble::{METRICS_PART, PartSource};
use crate::output::folder::SHARD_MANIFEST;
use crate::{Error, Result};

/// `shard.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardManifest {
    tool: String,
    version: String,
    shard: u32,
    shards: u32,
    /// The files every unit has a part of, in order.
    files: Vec<String>,
    unit: Vec<UnitEntry>,
    experiment: Info,
}

/// One unit of a shard: its number and the byte length of its part of each file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitEntry {
    unit: usize,
    bytes: Vec<u64>,
}

/// The files a unit has a part of: the streamed files, corridors, rails, its metrics.
fn part_files(write_payments: bool) -> Vec<String> {
    crate::output::streamed_files(write_payments)
        .into_iter()
        .map(|(f, _)| f.to_string())
        .chain(
            crate::output::aggregate_files()
                .into_iter()
                .map(|(f, _)| f.to_string()),
        )
        .chain([METRICS_PART.to_string()])
        .collect()
}

/// Packs the parts of `units` into the shard folder `dir`.
pub fn write_shard(
    e: &super::Experiment,
    dir: &mut OutputDir,
    parts: &dyn PartSource,
    units: &[usize],
    (k, n): (u32, u32),
    opts: &RunOptions,
) -> Result<()> {
    let info = e.info(opts);
    let files = part_files(opts.write_payments);
    let mut entries: Vec<UnitEntry> = units
        .iter()
        .map(|&u| UnitEntry {
            unit: u,
            bytes: Vec::new(),
        })
        .collect();
    for file in &files {
        let name = format!("{file}.part");
        let f = dir.create_file(&name)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        for entry in &mut entries {
            let mut counted = Counted {
                inner: &mut w,
                bytes: 0,
            };
            parts.copy(entry.unit, file, &mut counted)?;
            entry.bytes.push(counted.bytes);
        }
        w.flush().map_err(|err| dir.fault_at(&name, err))?;
    }
    let m = ShardManifest {
        tool: "kervan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        shard: k,
        shards: n,
        files,
        unit: entries,
        experiment: info,
    };
    let text =
        toml::to_string_pretty(&m).map_err(|err| Error::Invariant(format!("shard: {err}")))?;
    let mut f = dir.create_file(SHARD_MANIFEST)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|err| dir.fault_at(SHARD_MANIFEST, err))
}

/// Counts the bytes written through it.
struct Counted<'a> {
    inner: &'a mut dyn std::io::Write,
    bytes: u64,
}

impl std::io::Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A unit's shard folder and the (offset, length) of its part in each `.part` file.
type UnitRanges = (PathBuf, Vec<(u64, u64)>);

/// Where each unit's parts are in the shard folders.
struct ShardParts {
    files: Vec<String>,
    units: Vec<UnitRanges>,
}

impl ShardParts {
    fn range(&self, unit: usize, file: &str) -> Result<(PathBuf, u64, u64)> {
        let i =
            self.files.iter().position(|f| f == file).ok_or_else(|| {
                Error::Invariant(format!("merge: no part of {file} in the shards"))
            })?;
        let (dir, ranges) = &self.units[unit];
        let (offset, len) = ranges[i];
        Ok((dir.join(format!("{file}.part")), offset, len))
    }
}

impl PartSource for ShardParts {
    fn copy(&self, unit: usize, file: &str, out: &mut dyn std::io::Write) -> Result<()> {
        let (path, offset, len) = self.range(unit, file)?;
        let mut f = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&path, e))?;
        let copied = std::io::copy(&mut f.take(len), out).map_err(|e| Error::io(&path, e))?;
        if copied != len {
            return Err(Error::Usage(format!(
                "{}: shorter than its shard.toml says ({copied} of {len} bytes at {offset}); \
                 the shard is incomplete, run it again",
                path.display()
            )));
        }
        Ok(())
    }
    fn text(&self, unit: usize, file: &str) -> Result<String> {
        let mut buf = Vec::new();
        self.copy(unit, file, &mut buf)?;
        let (path, ..) = self.range(unit, file)?;
        String::from_utf8(buf)
            .map_err(|_| Error::Usage(format!("{}: not the text kervan wrote", path.display())))
    }
}

/// Reads a shard folder's manifest.
fn read_manifest(dir: &Path) -> Result<ShardManifest> {
    let path = dir.join(SHARD_MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Usage(format!(
                "{}: not a shard folder (no {SHARD_MANIFEST}); give the folders written by \
                 `--shard K/N`",
                dir.display()
            )));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let m: ShardManifest = toml::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}: not a kervan shard manifest: {e}",
            path.display()
        ))
    })?;
    if m.tool != "kervan" || m.version != env!("CARGO_PKG_VERSION") {
        return Err(Error::Usage(format!(
            "{}: written by {} {}; merge shards with the version that wrote them ({})",
            path.display(),
            m.tool,
            m.version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(m)
}

/// Joins shard folders into `out`: every shard of the same experiment exactly once.
pub fn merge(shards: &[PathBuf], out: &Path, force: bool) -> Result<RunOutcome> {
    if shards.is_empty() {
        return Err(Error::Usage("merge: name the shard folders to join".into()));
    }
    let manifests: Vec<ShardManifest> = shards
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<_>>()?;
    let first = &manifests[0];
    let n = first.shards;
    let mut by_shard: BTreeMap<u32, &Path> = BTreeMap::new();
    for (m, dir) in manifests.iter().zip(shards) {
        if m.experiment != first.experiment || m.shards != n || m.files != first.files {
            return Err(Error::Usage(format!(
                "{} is a shard of another experiment than {} (scenario, seed, replications, \
                 options or shard count differ)",
                dir.display(),
                shards[0].display()
            )));
        }
        if let Some(other) = by_shard.insert(m.shard, dir) {
            return Err(Error::Usage(format!(
                "shard {}/{n} is given twice: {} and {}",
                m.shard,
                other.display(),
                dir.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !by_shard.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "shard{} {} missing: run `--shard K/{n}` for {} and merge again",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            if missing.len() > 1 { "each" } else { "it" },
        )));
    }
    let info = &first.experiment;
    let mut units: Vec<Option<UnitRanges>> = vec![None; info.units()];
    for (m, dir) in manifests.iter().zip(shards) {
        let mut offsets = vec![0u64; m.files.len()];
        for entry in &m.unit {
            if entry.bytes.len() != m.files.len() || entry.unit >= units.len() {
                return Err(Error::Usage(format!(
                    "{}: a unit entry does not match the experiment",
                    dir.join(SHARD_MANIFEST).display()
                )));
            }
            let ranges: Vec<(u64, u64)> = offsets
                .iter_mut()
                .zip(&entry.bytes)
                .map(|(o, &len)| {
                    let r = (*o, len);
                    *o += len;
                    r
                })
                .collect();
            if units[entry.unit].replace((dir.clone(), ranges)).is_some() {
                return Err(Error::Usage(format!(
                    "unit {} appears in two shards (one of them is {})",
                    entry.unit,
                    dir.display()
                )));
            }
        }
    }
    let units: Vec<UnitRanges> = units
        .into_iter()
        .enumerate()
        .map(|(u, x)| {
            x.ok_or_else(|| {
                Error::Usage(format!(
                    "unit {u} is in no shard: the shards do not cover the experiment"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let parts = ShardParts {
        files: first.files.clone(),
        units,
    };
    let mut dir = OutputDir::create(out, force)?;
    let created = dir.created();
    super::assemble_folder(info, &mut dir, &parts)
        .and_then(|mut outcome| {
            outcome.dir = dir.commit()?;
            Ok(outcome)
        })
        .map_err(|err| match err {
            err @ Error::NotWritten { .. } => err,
            err => Error::NotWritten {
                out: out.to_path_buf(),
                created,
                source: Box::new(err),
            },
        })
}
