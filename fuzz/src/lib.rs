//! The input format of the `load_scenario` fuzz target, shared with the seed-corpus writer.
//!
//! An input is a scenario file (any bytes, not necessarily UTF-8), optionally followed by a line
//! that is exactly [`SEPARATOR`]; each non-empty line after it is one command-line override:
//! `KEY=VALUE` (as given to `--set`, with or without a leading `--set `), or `--seed N`,
//! `--days N`, `--replications N`. The separator is a TOML comment, so a seed written this way
//! is still a valid scenario file on its own.
//!
//! [`write_seeds`] writes the seed corpus; the fuzz target calls it when started with
//! `KERVAN_FUZZ_WRITE_SEEDS=DIR` (so the seeds need no second, uninstrumented build of kervan).

use std::path::Path;

use kervan::scenario::{self, BUNDLED, BUNDLED_PREFIX, Overrides};

/// The line that ends the scenario file and starts the overrides.
pub const SEPARATOR: &[u8] = b"#--set";

/// Splits a fuzz input into the scenario file's bytes and the overrides.
pub fn split(data: &[u8]) -> (&[u8], Overrides) {
    let mut overrides = Overrides::default();
    let Some(at) = find_separator(data) else {
        return (data, overrides);
    };
    let file = &data[..at];
    let rest = &data[at + SEPARATOR.len()..];
    for line in rest.split(|&b| b == b'\n').skip(1) {
        let line = String::from_utf8_lossy(line);
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.trim().is_empty() {
            continue;
        }
        let (flag, value) = line.split_once(' ').unwrap_or((line, ""));
        match flag {
            "--seed" if value.trim().parse::<u64>().is_ok() => {
                overrides.seed = value.trim().parse().ok();
            }
            "--days" if value.trim().parse::<u32>().is_ok() => {
                overrides.days = value.trim().parse().ok();
            }
            "--replications" if value.trim().parse::<u32>().is_ok() => {
                overrides.replications = value.trim().parse().ok();
            }
            "--set" => overrides.set.push(value.to_string()),
            _ => overrides.set.push(line.to_string()),
        }
    }
    (file, overrides)
}

/// Byte offset of the first line that is exactly [`SEPARATOR`] (ended by `\n`, `\r\n` or the
/// end of the input).
fn find_separator(data: &[u8]) -> Option<usize> {
    let mut start = 0;
    while start <= data.len() {
        let end = data[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |p| start + p);
        let line = &data[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line == SEPARATOR {
            return Some(start);
        }
        start = end + 1;
    }
    None
}

/// A fuzz input made of a scenario file and `--set` assignments (the inverse of [`split`]).
pub fn join(file: &[u8], sets: &[&str]) -> Vec<u8> {
    let mut out = file.to_vec();
    if !sets.is_empty() {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.extend_from_slice(SEPARATOR);
        out.push(b'\n');
        for s in sets {
            out.extend_from_slice(s.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Overrides added to the seeds: the flags, and the README's `--set` examples.
const SEED_SETS: &[&str] = &[
    "--seed 7",
    "--days 3",
    "--replications 2",
    "rail.swift-usd.hold_probability=0.1",
    "fx.cross_multiplier=1.2",
    "route.*.rails=[{ rail = \"swift-usd\", share = 1 }]",
    "trade.size.sigma=0",
    "member.TR.rtgs_cutoff=\"17:00\"",
];

/// Writes seed inputs into `dir`: every bundled scenario as written, with its references to
/// other bundled files (`extends`, `trade.matrix`) spelled `bundled:NAME` as a user's file must
/// spell them (a seed is loaded from a temporary directory, where a bare name finds nothing), the same without its comment lines (so that mutations
/// land on keys and values), the same with `extends` resolved (the merged document as one
/// self-contained file), and each of those followed by `--set` lines. Returns how many.
pub fn write_seeds(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut written = 0;
    let mut write = |name: String, bytes: Vec<u8>| {
        written += 1;
        std::fs::write(dir.join(name), bytes)
    };
    for (file, text) in BUNDLED {
        let Some(stem) = file.strip_suffix(".toml") else {
            continue;
        };
        let text = &name_bundled(text);
        write(format!("bundled-{stem}.toml"), text.as_bytes().to_vec())?;
        write(
            format!("bundled-{stem}-set.toml"),
            join(text.as_bytes(), SEED_SETS),
        )?;
        write(format!("bare-{stem}.toml"), bare(text).into_bytes())?;
        match scenario::load(stem) {
            Ok(s) => {
                let resolved = name_bundled(&s.resolved);
                write(format!("resolved-{stem}.toml"), resolved.as_bytes().to_vec())?;
                write(
                    format!("resolved-{stem}-set.toml"),
                    join(resolved.as_bytes(), &SEED_SETS[..3]),
                )?;
            }
            Err(e) => eprintln!("warning: bundled scenario {stem} does not load: {e}"),
        }
    }
    Ok(written)
}

/// `text` with every quoted bundled file name (`"ots-baseline.toml"`) spelled
/// `"bundled:ots-baseline.toml"`.
fn name_bundled(text: &str) -> String {
    let mut out = text.to_string();
    for (file, _) in BUNDLED {
        out = out.replace(&format!("\"{file}\""), &format!("\"{BUNDLED_PREFIX}{file}\""));
    }
    out
}

/// A TOML file without its comment lines and blank lines. (Comments after a value stay: telling
/// them from a `#` inside a string needs a parser, and the seed need not be perfect.)
fn bare(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .flat_map(|l| [l, "\n"])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_without_separator_is_all_file() {
        let (file, o) = split(b"a = 1\n#--setx\n");
        assert_eq!(file, b"a = 1\n#--setx\n");
        assert!(o.set.is_empty() && o.seed.is_none());
    }

    #[test]
    fn lines_after_the_separator_are_overrides() {
        let data = join(
            b"a = 1",
            &["--set x.y=2", "z=\"q\"", "--seed 7", "--days x"],
        );
        let (file, o) = split(&data);
        assert_eq!(file, b"a = 1\n");
        assert_eq!(o.set, ["x.y=2", "z=\"q\"", "--days x"]);
        assert_eq!(o.seed, Some(7));
        assert_eq!(o.days, None);
        let (file, o) = split(b"#--set\r\nk=v\r\n");
        assert_eq!(file, b"");
        assert_eq!(o.set, ["k=v"]);
    }
}
