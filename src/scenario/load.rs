//! Reading scenario files: TOML parsing, `extends` chains merged key by key (arrays of tables by
//! their `name`/`code`/`corridor`/`pair`), and mapping a key path back to the file, line and
//! column where it was written, so every error can point at its source.

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::error::{Error, Location};

/// One step of a key path into the merged document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A scenario file's text, as read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown to the user (a real path, or `scenarios/NAME (bundled)`).
    pub display: PathBuf,
    /// Directory that relative names in this file resolve against; None for bundled files.
    pub dir: Option<PathBuf>,
    pub text: String,
}

/// A scenario with its `extends` chain merged.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The files, the one asked for first, then what it extends, and so on.
    pub chain: Vec<SourceFile>,
    pub merged: toml::Table,
    /// Keys set on the command line (`--set`, `--seed`, …), as dotted paths
    /// (`rail.swift-usd.hold_probability`): an error about one of them points at the command
    /// line, not at the file's old value.
    pub overridden: Vec<String>,
}

/// Bundled files, compiled into the binary: (file name, text).
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "ots-baseline.toml",
        include_str!("../../scenarios/ots-baseline.toml"),
    ),
    (
        "ots-local-bilateral.toml",
        include_str!("../../scenarios/ots-local-bilateral.toml"),
    ),
    (
        "ots-swap-tr-kz.toml",
        include_str!("../../scenarios/ots-swap-tr-kz.toml"),
    ),
    (
        "ots-regional-netting.toml",
        include_str!("../../scenarios/ots-regional-netting.toml"),
    ),
    (
        "ots-pvp-bridge.toml",
        include_str!("../../scenarios/ots-pvp-bridge.toml"),
    ),
    (
        "ots-common-unit.toml",
        include_str!("../../scenarios/ots-common-unit.toml"),
    ),
    (
        "ots-union.toml",
        include_str!("../../scenarios/ots-union.toml"),
    ),
    (
        "ots-trade-2024.csv",
        include_str!("../../scenarios/ots-trade-2024.csv"),
    ),
];

/// The bundled file called `name` (with or without `scenarios/` and `.toml`).
pub fn bundled(name: &str) -> Option<(&'static str, &'static str)> {
    let base = name.strip_prefix("scenarios/").unwrap_or(name);
    BUNDLED
        .iter()
        .find(|(n, _)| *n == base || n.strip_suffix(".toml") == Some(base))
        .copied()
}

fn bundled_display(name: &str) -> PathBuf {
    PathBuf::from(format!("scenarios/{name} (bundled)"))
}

/// Reads a scenario file: a path on disk, else a bundled scenario of that name.
pub fn read_source(arg: &str) -> Result<SourceFile, Error> {
    let path = Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| scenario_error(path, None, None, &format!("cannot read: {e}")))?;
        return Ok(SourceFile {
            display: path.to_path_buf(),
            dir: Some(
                path.parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            ),
            text,
        });
    }
    if let Some((name, text)) = bundled(arg).filter(|(n, _)| n.ends_with(".toml")) {
        return Ok(SourceFile {
            display: bundled_display(name),
            dir: None,
            text: text.to_string(),
        });
    }
    let names: Vec<&str> = BUNDLED
        .iter()
        .filter_map(|(n, _)| n.strip_suffix(".toml"))
        .collect();
    Err(scenario_error(
        path,
        None,
        None,
        &format!(
            "no such scenario file (bundled scenarios: {})",
            names.join(", ")
        ),
    ))
}

/// Reads a data file named in a scenario (e.g. the trade matrix): relative to the scenario's
/// directory, else the bundled file of that name.
pub fn read_data(from: &SourceFile, name: &str) -> Option<(PathBuf, String)> {
    if let Some(dir) = &from.dir {
        let p = dir.join(name);
        if let Ok(text) = std::fs::read_to_string(&p) {
            return Some((p, text));
        }
    }
    let base = Path::new(name).file_name()?.to_str()?;
    bundled(base).map(|(n, t)| (bundled_display(n), t.to_string()))
}

pub fn scenario_error(
    file: &Path,
    line_col: Option<(usize, usize)>,
    key: Option<String>,
    message: &str,
) -> Error {
    Error::Scenario {
        location: Location {
            file: file.to_path_buf(),
            line_col,
            key,
        },
        message: message.to_string(),
    }
}

/// Line and column (1-based) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

fn parse_table(file: &SourceFile) -> Result<toml::Table, Error> {
    file.text.parse::<toml::Table>().map_err(|e| {
        let lc = e.span().map(|s| line_col(&file.text, s.start));
        scenario_error(
            &file.display,
            lc,
            None,
            &format!("TOML syntax: {}", e.message()),
        )
    })
}

/// Loads `arg` and everything it extends, merged.
pub fn load(arg: &str) -> Result<Loaded, Error> {
    let first = read_source(arg)?;
    let mut chain = vec![first];
    let mut tables = vec![parse_table(&chain[0])?];
    loop {
        let (child, table) = (
            chain.last().expect("non-empty"),
            tables.last().expect("non-empty"),
        );
        let Some(ext) = table.get("extends") else {
            break;
        };
        let Some(name) = ext.as_str() else {
            return Err(locate_error(
                &chain,
                &tables,
                &[Seg::Key("extends".into())],
                "expected a file name (string)",
            ));
        };
        let next = match &child.dir {
            Some(dir) if dir.join(name).is_file() => {
                let p = dir.join(name);
                let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
                SourceFile {
                    display: p.clone(),
                    dir: p.parent().map(Path::to_path_buf),
                    text,
                }
            }
            _ => match bundled(name).filter(|(n, _)| n.ends_with(".toml")) {
                Some((n, text)) => SourceFile {
                    display: bundled_display(n),
                    dir: None,
                    text: text.to_string(),
                },
                None => {
                    let (file, lc) = key_location(
                        &chain[chain.len() - 1..],
                        &tables[tables.len() - 1..],
                        &[Seg::Key("extends".into())],
                    );
                    return Err(scenario_error(
                        &file,
                        lc,
                        Some("extends".into()),
                        &format!("cannot find `{name}` to extend"),
                    ));
                }
            },
        };
        let canon = |f: &SourceFile| {
            std::fs::canonicalize(&f.display).unwrap_or_else(|_| f.display.clone())
        };
        if chain.iter().any(|f| canon(f) == canon(&next)) {
            let mut names: Vec<String> = chain
                .iter()
                .map(|f| f.display.display().to_string())
                .collect();
            names.push(next.display.display().to_string());
            let (file, lc) = key_location(
                &chain[chain.len() - 1..],
                &tables[tables.len() - 1..],
                &[Seg::Key("extends".into())],
            );
            return Err(scenario_error(
                &file,
                lc,
                Some("extends".into()),
                &format!("`extends` loop: {}", names.join(" → ")),
            ));
        }
        let t = parse_table(&next)?;
        chain.push(next);
        tables.push(t);
        if chain.len() > 32 {
            return Err(scenario_error(
                &chain[0].display,
                None,
                Some("extends".into()),
                "`extends` chain longer than 32 files",
            ));
        }
    }
    // Merge from the base up: each child overrides what it extends.
    let mut merged = tables.pop().expect("at least one table");
    while let Some(child) = tables.pop() {
        merge(&mut merged, child);
    }
    merged.remove("extends");
    Ok(Loaded {
        chain,
        merged,
        overridden: Vec::new(),
    })
}

/// The keys an array-of-tables element is identified by when merging and locating, in order of
/// preference. `code` comes before `name`: a member has both, and is known by its code
/// everywhere else (corridors, pairs), while its name is free text and may be left out.
const IDENTITY_KEYS: [&str; 4] = ["code", "name", "corridor", "pair"];

/// The key an array-of-tables element is identified by when merging and locating.
fn identity(t: &toml::Table) -> Option<String> {
    IDENTITY_KEYS.iter().find_map(|k| {
        t.get(*k)
            .and_then(|v| v.as_str())
            .map(|s| format!("{k}={s}"))
    })
}

fn merge(base: &mut toml::Table, child: toml::Table) {
    for (k, v) in child {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(c)) => merge(b, c),
            (Some(toml::Value::Array(b)), toml::Value::Array(c))
                if b.iter()
                    .chain(c.iter())
                    .all(|x| x.as_table().is_some_and(|t| identity(t).is_some()))
                    && !c.is_empty() =>
            {
                for item in c {
                    let toml::Value::Table(ct) = item else {
                        unreachable!("checked tables")
                    };
                    let id = identity(&ct);
                    match b.iter_mut().find(|x| x.as_table().and_then(identity) == id) {
                        Some(toml::Value::Table(bt)) => merge(bt, ct),
                        _ => b.push(toml::Value::Table(ct)),
                    }
                }
            }
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Loaded {
    /// An error at `path` in the merged document, located in the file that wrote it.
    pub fn error(&self, path: &[Seg], message: &str) -> Error {
        let tables: Vec<Option<toml::Table>> = self
            .chain
            .iter()
            .map(|f| f.text.parse::<toml::Table>().ok())
            .collect();
        let tables: Vec<toml::Table> = tables.into_iter().map(Option::unwrap_or_default).collect();
        let key = display_path(&self.merged, path);
        // `rail[swift-usd].fee` is `rail.swift-usd.fee` on the command line.
        let dotted = key.replace('[', ".").replace(']', "");
        if let Some(set) = self
            .overridden
            .iter()
            .find(|o| dotted == **o || dotted.starts_with(&format!("{o}.")))
        {
            return scenario_error(
                Path::new("command line"),
                None,
                Some(key),
                &format!("{message} (set by `{set}=…`)"),
            );
        }
        let (file, lc) = key_location_merged(&self.chain, &tables, &self.merged, path);
        scenario_error(&file, lc, Some(key), message)
    }
}

fn locate_error(
    chain: &[SourceFile],
    tables: &[toml::Table],
    path: &[Seg],
    message: &str,
) -> Error {
    let (file, lc) = key_location(chain, tables, path);
    scenario_error(
        &file,
        lc,
        Some(display_path(&tables[tables.len() - 1], path)),
        message,
    )
}

fn key_location(
    chain: &[SourceFile],
    tables: &[toml::Table],
    path: &[Seg],
) -> (PathBuf, Option<(usize, usize)>) {
    key_location_merged(chain, tables, &tables[0], path)
}

/// `rail[swift-usd].fee.bps`: array elements by identity where they have one.
pub fn display_path(merged: &toml::Table, path: &[Seg]) -> String {
    let mut out = String::new();
    let mut cur: Option<&toml::Value>;
    let root = toml::Value::Table(merged.clone());
    let mut node = Some(&root);
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
                cur = node.and_then(|n| n.as_table()).and_then(|t| t.get(k));
            }
            Seg::Index(i) => {
                cur = node.and_then(|n| n.as_array()).and_then(|a| a.get(*i));
                match cur.and_then(|c| c.as_table()).and_then(identity) {
                    Some(id) => out.push_str(&format!(
                        "[{}]",
                        id.split_once('=').map_or(id.as_str(), |(_, v)| v)
                    )),
                    None => out.push_str(&format!("[{i}]")),
                }
            }
        }
        node = cur;
    }
    out
}

/// The file, line and column where `path` (into the merged document) was written: the first
/// file of the chain, child first, that resolves the longest part of the path.
fn key_location_merged(
    chain: &[SourceFile],
    tables: &[toml::Table],
    merged: &toml::Table,
    path: &[Seg],
) -> (PathBuf, Option<(usize, usize)>) {
    // Identities of array elements along the path, from the merged document, with how many
    // earlier elements share each one: a duplicate must be found as the second of its name in
    // the file, not the first.
    let mut ids: Vec<Option<(String, usize)>> = Vec::with_capacity(path.len());
    let root = toml::Value::Table(merged.clone());
    let mut node = Some(&root);
    for seg in path {
        let (next, id) = match seg {
            Seg::Key(k) => (node.and_then(|n| n.as_table()).and_then(|t| t.get(k)), None),
            Seg::Index(i) => {
                let items = node.and_then(|n| n.as_array());
                let next = items.and_then(|a| a.get(*i));
                let id = next
                    .and_then(|v| v.as_table())
                    .and_then(identity)
                    .map(|id| {
                        let before = items.map_or(0, |a| {
                            a[..*i]
                                .iter()
                                .filter(|x| x.as_table().and_then(identity).as_ref() == Some(&id))
                                .count()
                        });
                        (id, before)
                    });
                (next, id)
            }
        };
        ids.push(id);
        node = next;
    }
    let mut best: Option<(usize, PathBuf, (usize, usize))> = None;
    for (file, _) in chain.iter().zip(tables) {
        let Ok(doc) = DeTable::parse(&file.text) else {
            continue;
        };
        let mut depth = 0;
        let mut span = None;
        let mut cur_table: Option<&DeTable> = Some(doc.get_ref());
        let mut cur_array: Option<&toml::de::DeArray> = None;
        for (n, seg) in path.iter().enumerate() {
            match seg {
                Seg::Key(k) => {
                    let Some(t) = cur_table else { break };
                    let Some((key, val)) = t
                        .iter()
                        .find(|(key, _)| key.get_ref().as_ref() == k.as_str())
                    else {
                        break;
                    };
                    span = Some(key.span());
                    (cur_table, cur_array) = (val.get_ref().as_table(), val.get_ref().as_array());
                }
                Seg::Index(i) => {
                    let Some(a) = cur_array else { break };
                    let item = match &ids[n] {
                        Some((id, before)) => {
                            let mut same = a
                                .iter()
                                .filter(|v| de_identity(v.get_ref()).as_ref() == Some(id));
                            // A file lower in the chain may hold fewer of them: take its first.
                            let first = a
                                .iter()
                                .find(|v| de_identity(v.get_ref()).as_ref() == Some(id));
                            same.nth(*before).or(first)
                        }
                        None => a.get(*i),
                    };
                    let Some(item) = item else { break };
                    span = Some(item.span());
                    (cur_table, cur_array) = (item.get_ref().as_table(), item.get_ref().as_array());
                }
            }
            depth = n + 1;
        }
        if let Some(s) = span {
            let lc = line_col(&file.text, s.start);
            if best.as_ref().is_none_or(|(d, _, _)| depth > *d) {
                best = Some((depth, file.display.clone(), lc));
            }
            if depth == path.len() {
                break;
            }
        }
    }
    match best {
        Some((_, f, lc)) => (f, Some(lc)),
        None => (chain[0].display.clone(), None),
    }
}

fn de_identity(v: &DeValue) -> Option<String> {
    let t = v.as_table()?;
    IDENTITY_KEYS.iter().find_map(|k| {
        t.iter()
            .find(|(key, _)| key.get_ref().as_ref() == *k)
            .and_then(|(_, v)| v.get_ref().as_str().map(|s| format!("{k}={s}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 4));
    }

    #[test]
    fn merge_overrides_keys_and_merges_arrays_by_name() {
        let mut base: toml::Table = "x = 1\n[s]\na = 1\nb = 2\n[[rail]]\nname = \"r1\"\nfee = 1\n[[rail]]\nname = \"r2\"\nfee = 2\n".parse().unwrap();
        let child: toml::Table = "x = 5\n[s]\nb = 3\n[[rail]]\nname = \"r2\"\nfee = 9\n[[rail]]\nname = \"r3\"\nfee = 3\n".parse().unwrap();
        merge(&mut base, child);
        assert_eq!(base["x"].as_integer(), Some(5));
        assert_eq!(base["s"]["a"].as_integer(), Some(1));
        assert_eq!(base["s"]["b"].as_integer(), Some(3));
        let rails = base["rail"].as_array().unwrap();
        assert_eq!(rails.len(), 3);
        assert_eq!(rails[1]["fee"].as_integer(), Some(9));
        assert_eq!(rails[2]["name"].as_str(), Some("r3"));
    }

    #[test]
    fn a_key_path_is_found_in_the_file_that_wrote_it() {
        let file = SourceFile {
            display: "s.toml".into(),
            dir: None,
            text: "[scenario]\nname = \"x\"\n\n[[rail]]\nname = \"a\"\n[[rail]]\nname = \"b\"\nfee = 3\n".into(),
        };
        let merged: toml::Table = file.text.parse().unwrap();
        let mut loaded = Loaded {
            chain: vec![file],
            merged,
            overridden: Vec::new(),
        };
        let err = loaded.error(
            &[
                Seg::Key("rail".into()),
                Seg::Index(1),
                Seg::Key("fee".into()),
            ],
            "bad",
        );
        assert_eq!(err.to_string(), "s.toml:8:1: key `rail[b].fee`: bad");
        // A key set on the command line is blamed on the command line.
        loaded.overridden.push("rail.b.fee".into());
        let err = loaded.error(
            &[
                Seg::Key("rail".into()),
                Seg::Index(1),
                Seg::Key("fee".into()),
            ],
            "bad",
        );
        assert_eq!(
            err.to_string(),
            "command line: key `rail[b].fee`: bad (set by `rail.b.fee=…`)"
        );
    }
}
