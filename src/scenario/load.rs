//! Reading scenario files: TOML parsing, `extends` chains merged key by key (arrays of tables by
//! their `name`/`code`/`corridor`/`pair`), and mapping a key path back to the file, line and
//! column where it was written, so every error can point at its source.

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::error::{Error, Location};
pub use crate::input::Seg;

/// A scenario file's text, as read.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown to the user (a real path, or `scenarios/NAME (bundled)`).
    pub display: PathBuf,
    /// Directory that relative names in this file resolve against; None for bundled files,
    /// whose relative names resolve among the bundled files.
    pub dir: Option<PathBuf>,
    pub text: String,
}

/// A file a run read: a scenario of the `extends` chain or a data file it names. The manifest
/// lists every one, so a result can be traced to the exact bytes it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// What the file is: `scenario`, `extends`, `trade.matrix`, `holidays`.
    pub role: String,
    /// The path as given (relative paths resolved against the file that named it), or
    /// `bundled:NAME`.
    pub path: String,
    pub sha256: String,
}

impl DataFile {
    pub fn new(role: &str, path: String, bytes: &[u8]) -> Self {
        DataFile {
            role: role.to_string(),
            path,
            sha256: sha256_hex(bytes),
        }
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes`, in lower-case hex (the manifest's and the marker's form).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(bytes))
}

/// The prefix that asks for a bundled file by name: `bundled:ots-baseline`.
pub const BUNDLED_PREFIX: &str = "bundled:";

/// The largest scenario or data file kervan reads. The bundled ones are a few kB; anything
/// near this is not a scenario, and reading it must not exhaust memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads a user's file as UTF-8 text: a regular file no larger than [`MAX_FILE_BYTES`]. The
/// error names the path and says what is wrong (missing, a folder, unreadable, too large, not
/// UTF-8 with the byte offset, line and column of the first bad byte).
/// The message of [`read_text`]'s error for a file that does not exist; callers that add advice
/// to it (a bundled name to try) match on this constant.
pub const NO_SUCH_FILE: &str = "no such file";

pub fn read_text(path: &Path) -> Result<String, Error> {
    let fail = |lc: Option<(usize, usize)>, msg: String| scenario_error(path, lc, None, &msg);
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(None, NO_SUCH_FILE.into()),
        _ => fail(None, format!("cannot read: {e}")),
    })?;
    if meta.is_dir() {
        return Err(fail(None, "is a folder, not a file".into()));
    }
    if !meta.is_file() {
        return Err(fail(None, "is not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(
            None,
            format!(
                "is {} bytes; kervan reads files of at most {} MiB",
                meta.len(),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    use std::io::Read as _;
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| fail(None, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(
            None,
            format!("is larger than {} MiB", MAX_FILE_BYTES >> 20),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let (line, col) = line_col(valid, at);
        fail(
            Some((line, col)),
            format!(
                "not UTF-8: byte 0x{:02X} at byte offset {at} (save the file as UTF-8)",
                bytes[at]
            ),
        )
    })
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
    /// The files of the chain, as the manifest lists them.
    pub files: Vec<DataFile>,
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
        "ots-observers.toml",
        include_str!("../../scenarios/ots-observers.toml"),
    ),
    (
        "whatif-swift-cutoff.toml",
        include_str!("../../scenarios/whatif-swift-cutoff.toml"),
    ),
    (
        "whatif-swift-cutoff-reroute-base.toml",
        include_str!("../../scenarios/whatif-swift-cutoff-reroute-base.toml"),
    ),
    (
        "whatif-swift-cutoff-reroute.toml",
        include_str!("../../scenarios/whatif-swift-cutoff-reroute.toml"),
    ),
    (
        "whatif-kzt-devaluation.toml",
        include_str!("../../scenarios/whatif-kzt-devaluation.toml"),
    ),
    (
        "whatif-try-stress.toml",
        include_str!("../../scenarios/whatif-try-stress.toml"),
    ),
    (
        "whatif-derisking.toml",
        include_str!("../../scenarios/whatif-derisking.toml"),
    ),
    (
        "whatif-turkmenistan-joins.toml",
        include_str!("../../scenarios/whatif-turkmenistan-joins.toml"),
    ),
    (
        "whatif-middle-corridor-x2.toml",
        include_str!("../../scenarios/whatif-middle-corridor-x2.toml"),
    ),
    (
        "whatif-local-ramp.toml",
        include_str!("../../scenarios/whatif-local-ramp.toml"),
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

/// The bundled scenarios' names, for messages.
fn bundled_names() -> String {
    BUNDLED
        .iter()
        .filter_map(|(n, _)| n.strip_suffix(".toml"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bundled_source(name: &str) -> Option<SourceFile> {
    bundled(name)
        .filter(|(n, _)| n.ends_with(".toml"))
        .map(|(n, text)| SourceFile {
            display: bundled_display(n),
            dir: None,
            text: text.to_string(),
        })
}

/// `name` relative to `dir`, without a leading `./` when `dir` is the current folder (so
/// messages show the path as the user would write it).
fn relative_to(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn disk_source(path: &Path) -> Result<SourceFile, Error> {
    Ok(SourceFile {
        display: path.to_path_buf(),
        dir: Some(
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        ),
        text: read_text(path)?,
    })
}

/// Reads the scenario named on the command line: `bundled:NAME` or a bare bundled name
/// (`ots-baseline`) is a bundled scenario; anything else is a path, and a path that cannot be
/// read is an error, never replaced by a bundled file. A bare name that is also a file on
/// disk is the file.
pub fn read_source(arg: &str) -> Result<SourceFile, Error> {
    let path = Path::new(arg);
    if let Some(name) = arg.strip_prefix(BUNDLED_PREFIX) {
        return bundled_source(name).ok_or_else(|| {
            scenario_error(
                path,
                None,
                None,
                &format!(
                    "no bundled scenario `{name}` (bundled: {})",
                    bundled_names()
                ),
            )
        });
    }
    let looks_like_path = arg.contains(['/', std::path::MAIN_SEPARATOR]) || arg.ends_with(".toml");
    if path.exists() || looks_like_path {
        return disk_source(path).map_err(|e| match e {
            Error::Scenario { location, message } if message == NO_SUCH_FILE => Error::Scenario {
                location,
                message: format!(
                    "no such file (a bundled scenario is named `bundled:NAME`; bundled: {})",
                    bundled_names()
                ),
            },
            e => e,
        });
    }
    bundled_source(arg).ok_or_else(|| {
        scenario_error(
            path,
            None,
            None,
            &format!(
                "no such scenario file (bundled scenarios: {})",
                bundled_names()
            ),
        )
    })
}

/// Reads a data file (the trade matrix) named in `from`: relative to that file's folder, or
/// among the bundled files when `from` is bundled or the name is `bundled:NAME`. A file that
/// cannot be read is an error naming its path; a bundled file is never used in its place.
pub fn read_data(
    from: Option<&SourceFile>,
    name: &str,
) -> Result<(PathBuf, String), std::result::Result<Error, String>> {
    let from_bundle = from.is_some_and(|f| f.dir.is_none());
    if let Some(base) = name
        .strip_prefix(BUNDLED_PREFIX)
        .or(from_bundle.then_some(name))
    {
        return bundled(base)
            .map(|(n, t)| (PathBuf::from(format!("{BUNDLED_PREFIX}{n}")), t.to_string()))
            .ok_or_else(|| {
                Err(format!(
                    "no bundled file `{base}` (bundled: {})",
                    BUNDLED
                        .iter()
                        .map(|(n, _)| *n)
                        .filter(|n| !n.ends_with(".toml"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            });
    }
    // A name set on the command line (`--set trade.matrix=...`) is relative to the current
    // folder; one written in a file, to that file's folder.
    let p = match from.and_then(|f| f.dir.as_ref()) {
        Some(dir) => relative_to(dir, name),
        None => PathBuf::from(name),
    };
    let text = read_text(&p).map_err(Ok)?;
    Ok((p, text))
}

/// The scenario after `extends` and overrides as one self-contained TOML text (the manifest's
/// `resolved_scenario`, `kervan validate --print`): `merged` with every data file it names
/// (`trade.matrix`) written as the path it was read from, as `files` records it — `bundled:NAME`
/// for a bundled file, else relative to the folder kervan ran in — so the text loads back to
/// the same scenario from the folder it was printed in, and from any folder when its data are
/// bundled.
pub fn resolved_text(merged: &toml::Table, files: &[DataFile]) -> Result<String, Error> {
    let mut doc = merged.clone();
    if let Some(f) = files.iter().find(|f| f.role == "trade.matrix")
        && let Some(toml::Value::Table(trade)) = doc.get_mut("trade")
        && trade.contains_key("matrix")
    {
        trade.insert("matrix".into(), toml::Value::String(f.path.clone()));
    }
    toml::to_string(&doc).map_err(|e| Error::Invariant(format!("re-serialising the scenario: {e}")))
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

/// The file `extends = "NAME"` in `child` names: relative to the extending file; inside a
/// bundled file, among the bundled files; `bundled:NAME` explicitly. A missing file is an error
/// at the `extends` line (`ext_location`), never a bundled substitute.
fn extended_source(
    child: &SourceFile,
    name: &str,
    ext_location: impl Fn() -> (PathBuf, Option<(usize, usize)>),
) -> Result<SourceFile, Error> {
    let bundled_name = name
        .strip_prefix(BUNDLED_PREFIX)
        .or(child.dir.is_none().then_some(name));
    if let Some(b) = bundled_name {
        bundled_source(b).ok_or_else(|| {
            let (file, lc) = ext_location();
            scenario_error(
                &file,
                lc,
                Some("extends".into()),
                &format!(
                    "no bundled scenario `{b}` to extend (bundled: {})",
                    bundled_names()
                ),
            )
        })
    } else {
        let p = relative_to(child.dir.as_deref().unwrap_or(Path::new(".")), name);
        disk_source(&p).map_err(|e| match e {
            // Missing: blame the `extends` line. Anything else (not UTF-8, too large) is
            // about the extended file itself and names it.
            Error::Scenario { message, .. } if message == NO_SUCH_FILE => {
                let (file, lc) = ext_location();
                let hint = if bundled(name).is_some() {
                    format!(
                        " (to extend the bundled scenario, write `extends = \"{BUNDLED_PREFIX}{}\"`)",
                        name.trim_end_matches(".toml")
                    )
                } else {
                    String::new()
                };
                scenario_error(
                    &file,
                    lc,
                    Some("extends".into()),
                    &format!("cannot find `{}` to extend{hint}", p.display()),
                )
            }
            e => e,
        })
    }
}

/// The manifest's entries for the scenario file and each file it extends (bundled ones as
/// `bundled:NAME`).
fn chain_files(chain: &[SourceFile]) -> Vec<DataFile> {
    chain
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let path = match &f.dir {
                Some(_) => f.display.display().to_string(),
                None => format!(
                    "{BUNDLED_PREFIX}{}",
                    f.display
                        .display()
                        .to_string()
                        .trim_start_matches("scenarios/")
                        .trim_end_matches(" (bundled)")
                ),
            };
            DataFile::new(
                if i == 0 { "scenario" } else { "extends" },
                path,
                f.text.as_bytes(),
            )
        })
        .collect()
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
        let ext_location = || {
            key_location(
                &chain[chain.len() - 1..],
                &tables[tables.len() - 1..],
                &[Seg::Key("extends".into())],
            )
        };
        let next = extended_source(child, name, ext_location)?;
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
    let files = chain_files(&chain);
    Ok(Loaded {
        chain,
        merged,
        overridden: Vec::new(),
        files,
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

impl crate::input::Locate for Loaded {
    fn error(&self, path: &[Seg], message: &str) -> Error {
        Loaded::error(self, path, message)
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
            files: Vec::new(),
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
