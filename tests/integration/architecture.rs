//! The house rules of docs/architecture.md, checked over the source text: every module imports
//! only from lower floors, every file says what it is for, and no function runs past about 120
//! lines without saying why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The floors, bottom up: a module may name (`crate::m`) only modules on a lower floor. Modules
/// on one floor never name each other, so no two modules can form a circle.
const FLOORS: &[&[&str]] = &[
    &["error", "engine", "money", "rng"],
    &["calendar", "fx", "ledger"],
    &["terms"],
    &["input", "shock"],
    &["world", "record"],
    &["trade", "rails"],
    &["scenario"],
    &["sim"],
    &["output"],
    &["experiment"],
    &["lib", "main"],
];

/// The floor of a top-level module, or None for a name that is not one.
fn floor(module: &str) -> Option<usize> {
    // `crate::Error` and `crate::Result` are the root's re-exports of `error`.
    let module = match module {
        "Error" | "Result" => "error",
        m => m,
    };
    FLOORS.iter().position(|f| f.contains(&module))
}

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to: `src/rails/netting.rs` → `rails`.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// The code of a line without its comment (`//` outside a string literal). Doc links in
/// comments may point anywhere; only code is an import.
fn code_of(line: &str) -> &str {
    let mut in_str = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

/// The top-level modules a line of code names: `crate::m`, `crate::{m::X, n}`, and (for files
/// below a module's own `mod.rs`) nothing for `super::`, which stays inside the module.
fn named_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
        rest = after;
    }
    out
}

/// Every upward or sideways reference in `src/`, as `file:line: a (floor i) names b (floor j)`.
fn layering_violations() -> Vec<String> {
    let mut bad = Vec::new();
    for file in rust_files(&src()) {
        let module = module_of(&file);
        let Some(own) = floor(&module) else {
            bad.push(format!(
                "{}: module `{module}` has no floor",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a source file");
        let is_mod_root = file.file_name().is_some_and(|n| n == "mod.rs")
            || file.parent() == Some(src().as_path());
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            if is_mod_root && code.contains("super::") && !code.contains("use super::*") {
                // In a module's root, `super::` is the crate root: an unchecked way up.
                bad.push(format!(
                    "{}:{}: `super::` from a module root names the crate root; write `crate::`",
                    file.display(),
                    n + 1
                ));
            }
            if module != "main" && code.contains("kervan::") {
                bad.push(format!(
                    "{}:{}: the library names itself as `kervan::`",
                    file.display(),
                    n + 1
                ));
            }
            for named in named_modules(code) {
                if named == module {
                    continue;
                }
                match floor(&named) {
                    None => bad.push(format!(
                        "{}:{}: `crate::{named}` is not a module with a floor",
                        file.display(),
                        n + 1
                    )),
                    Some(f) if f >= own => bad.push(format!(
                        "{}:{}: `{module}` (floor {own}) names `{named}` (floor {f})",
                        file.display(),
                        n + 1
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    bad
}

#[test]
fn modules_import_only_from_lower_floors() {
    let bad = layering_violations();
    assert!(
        bad.is_empty(),
        "imports against the floors:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_floor_and_every_floor_a_module() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    for m in &declared {
        assert!(floor(m).is_some(), "module `{m}` in lib.rs has no floor");
    }
    for f in FLOORS.iter().flat_map(|f| f.iter()) {
        assert!(
            *f == "lib" || *f == "main" || declared.contains(f),
            "floor lists `{f}`, which lib.rs does not declare"
        );
    }
}

#[test]
fn the_checker_sees_an_upward_import() {
    // The scan itself: an upward `use`, a grouped one and a path in code are found; a doc link
    // and a string are not.
    assert_eq!(named_modules("use crate::sim::run;"), ["sim"]);
    assert_eq!(
        named_modules("use crate::{engine::Time, output};"),
        ["engine", "output"]
    );
    assert_eq!(
        named_modules(code_of("let x = crate::fx::mid(); // see crate::sim")),
        ["fx"]
    );
    assert!(named_modules(code_of("/// [`crate::sim::MAX`]")).is_empty());
    assert_eq!(
        code_of(r#"let s = "a // b"; // c"#),
        r#"let s = "a // b"; "#
    );
    assert!(floor("rails") > floor("world"));
    assert!(floor("scenario") > floor("rails"));
}

#[test]
fn every_source_file_says_what_it_is_for() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        assert!(
            text.starts_with("//!"),
            "{} does not begin with a `//!` line saying what it is for",
            file.display()
        );
    }
}

/// Functions over `limit` lines whose doc comment does not say why (`Long because:`), as
/// `file:line name (n lines)`. A function runs from its `fn` line to the closing brace at the
/// same indentation.
fn long_functions(limit: usize) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("a source file");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let mut sig = trimmed;
            for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "unsafe "] {
                sig = sig.strip_prefix(prefix).unwrap_or(sig);
            }
            let Some(rest) = sig.strip_prefix("fn ") else {
                continue;
            };
            if line.trim_end().ends_with(';') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let close = format!("{indent}}}");
            let Some(end) = (i..lines.len()).find(|&j| lines[j] == close) else {
                continue;
            };
            let n = end - i + 1;
            if n <= limit {
                continue;
            }
            let explained = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let t = l.trim_start();
                    t.starts_with("///") || t.starts_with("#[")
                })
                .any(|l| l.contains("Long because:"));
            if !explained {
                let rel = file.strip_prefix(src()).expect("under src");
                found.push(format!(
                    "src/{}:{} {name} ({n} lines)",
                    rel.display(),
                    i + 1
                ));
            }
        }
    }
    found
}

#[test]
fn no_function_runs_past_120_lines_without_a_reason() {
    let long = long_functions(120);
    assert!(
        long.is_empty(),
        "functions over 120 lines with no `Long because:` in their doc comment:\n{}",
        long.join("\n")
    );
    // The scan finds long functions at all: at a limit of 60 lines some exist.
    assert!(!long_functions(60).is_empty());
}

#[test]
fn a_new_rail_kind_is_one_file_and_one_arm() {
    // Every rail file except the shared helpers is listed once in `rail_kinds!`, and nothing
    // outside `rails/` names a rail kind's module: output, sim and scenario reach rails only
    // through `rails/mod.rs`.
    let rails = src().join("rails");
    let shared = ["mod", "payment", "liquidity"];
    let mod_rs = std::fs::read_to_string(rails.join("mod.rs")).expect("rails/mod.rs");
    let mut kinds = BTreeMap::new();
    for file in rust_files(&rails) {
        let stem = file
            .file_stem()
            .expect("a stem")
            .to_string_lossy()
            .to_string();
        if shared.contains(&stem.as_str()) {
            continue;
        }
        let listed = mod_rs
            .lines()
            .filter(|l| {
                let c = code_of(l);
                c.contains(&format!("{stem}::")) && !c.contains("use ")
            })
            .count();
        kinds.insert(stem, listed);
    }
    assert!(kinds.len() >= 6, "six rail kinds at least: {kinds:?}");
    for file in rust_files(&src()) {
        if file.starts_with(&rails) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            for kind in kinds.keys() {
                assert!(
                    !code.contains(&format!("rails::{kind}::")),
                    "{}:{} names the rail kind module `{kind}`; go through rails/mod.rs",
                    file.display(),
                    n + 1
                );
            }
        }
    }
}
