//! `kervan validate --print`: the resolved scenario (after `extends`, `--set`, `--seed`,
//! `--days`, `--replications`) as one TOML file, which runs exactly as the original did — from
//! another folder too — and is the manifest's `resolved_scenario`; bad input exits 2 and prints
//! nothing.

use std::collections::BTreeMap;
use std::path::Path;

use super::common::{kervan, stderr, stdout};

fn run(dir: &Path, args: &[&str]) {
    let out = kervan(dir, args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
}

/// A CSV file's rows without its `variant` column (the printed file names itself, so its
/// variant is the scenario's name where the original's carries the hash of its changes).
fn rows_without_variant(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    let v = h
        .iter()
        .position(|c| c == "variant")
        .expect("a variant column");
    let mut rows = vec![
        h.iter()
            .enumerate()
            .filter(|(i, _)| *i != v)
            .map(|(_, c)| c.to_string())
            .collect::<Vec<_>>(),
    ];
    for rec in r.records() {
        let rec = rec.unwrap();
        rows.push(
            rec.iter()
                .enumerate()
                .filter(|(i, _)| *i != v)
                .map(|(_, c)| c.to_string())
                .collect(),
        );
    }
    rows
}

fn manifest(dir: &Path) -> toml::Table {
    std::fs::read_to_string(dir.join("manifest.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_printed_scenario_runs_as_the_original_did_from_another_folder() {
    let dir = tempfile::tempdir().unwrap();
    let changes = [
        "--set",
        "fx.cross_multiplier=1.2",
        "--set",
        "rail.local-bilateral.nostro_days=2.0",
        "--days",
        "10",
        "--seed",
        "7",
    ];
    let mut args = vec!["validate", "ots-local-bilateral"];
    args.extend(changes);
    args.push("--print");
    let printed = kervan(dir.path(), &args);
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert!(stderr(&printed).is_empty(), "{}", stderr(&printed));
    let text = stdout(&printed);
    // Self-contained: no `extends`, the changes written in, the bundled matrix by name.
    let t: toml::Table = text.parse().expect("the printed text is TOML");
    assert!(t.get("extends").is_none());
    assert_eq!(t["fx"]["cross_multiplier"].as_float(), Some(1.2));
    assert_eq!(t["scenario"]["days"].as_integer(), Some(10));
    assert_eq!(t["scenario"]["seed"].as_integer(), Some(7));
    assert_eq!(
        t["trade"]["matrix"].as_str(),
        Some("bundled:ots-trade-2024.csv")
    );
    // Saved in one folder, run from another: nothing it names is looked up beside it.
    let elsewhere = tempfile::tempdir().unwrap();
    let file = dir.path().join("printed/r.toml");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, &text).unwrap();
    run(
        elsewhere.path(),
        &["run", file.to_str().unwrap(), "--out", "printed", "--quiet"],
    );
    let mut args = vec!["run", "ots-local-bilateral"];
    args.extend(changes);
    args.extend(["--out", "original", "--quiet"]);
    run(elsewhere.path(), &args);
    let (a, b) = (
        elsewhere.path().join("printed"),
        elsewhere.path().join("original"),
    );
    for f in [
        "payments.csv",
        "rails.csv",
        "corridors.csv",
        "fx.csv",
        "liquidity.csv",
    ] {
        let (x, y) = (
            rows_without_variant(&a.join(f)),
            rows_without_variant(&b.join(f)),
        );
        assert!(x.len() > 1, "{f} is empty");
        assert!(x == y, "{f}: the printed scenario ran differently");
    }
    // The text printed is the manifest's resolved scenario, for both runs.
    let (ma, mb) = (manifest(&a), manifest(&b));
    assert_eq!(mb["resolved_scenario"].as_str(), Some(text.as_str()));
    assert_eq!(ma["resolved_scenario"], mb["resolved_scenario"]);
    assert_eq!(ma["scenario_sha256"], mb["scenario_sha256"]);
}

#[test]
fn a_printed_scenario_names_its_own_data_files_as_they_were_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scen")).unwrap();
    std::fs::copy(
        super::common::bundled("ots-trade-2024.csv"),
        dir.path().join("scen/m.csv"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scen/mine.toml"),
        "extends = \"bundled:ots-baseline\"\n[scenario]\nname = \"mine\"\n[trade]\nmatrix = \"m.csv\"\n",
    )
    .unwrap();
    let printed = kervan(
        dir.path(),
        &["validate", "scen/mine.toml", "--days", "5", "--print"],
    );
    assert!(printed.status.success(), "{}", stderr(&printed));
    let text = stdout(&printed);
    // Relative to the folder kervan ran in, as the manifest lists the file.
    let t: toml::Table = text.parse().unwrap();
    assert_eq!(t["trade"]["matrix"].as_str(), Some("scen/m.csv"));
    std::fs::write(dir.path().join("r.toml"), &text).unwrap();
    run(dir.path(), &["run", "r.toml", "--out", "a", "--quiet"]);
    run(
        dir.path(),
        &[
            "run",
            "scen/mine.toml",
            "--days",
            "5",
            "--out",
            "b",
            "--quiet",
        ],
    );
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert!(
        rows_without_variant(&a.join("payments.csv"))
            == rows_without_variant(&b.join("payments.csv"))
    );
    let files = |m: &toml::Table| -> BTreeMap<String, String> {
        m["data_file"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["role"].as_str() == Some("trade.matrix"))
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["sha256"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (fa, fb) = (files(&manifest(&a)), files(&manifest(&b)));
    assert_eq!(fa.keys().collect::<Vec<_>>(), ["scen/m.csv"]);
    assert_eq!(fa, fb);
}

#[test]
fn validate_takes_the_changes_run_takes_and_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let ok = kervan(
        dir.path(),
        &[
            "validate",
            "ots-baseline",
            "--set",
            "fx.cross_multiplier=1.2",
            "--replications",
            "3",
        ],
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("replications 3"), "{}", stdout(&ok));
    // Each case: the arguments and what the message must say; nothing reaches stdout.
    let cases: [(&[&str], &str); 5] = [
        (
            &["validate", "ots-baseline", "ots-union", "--print"],
            "validate --print prints one scenario; got 2",
        ),
        (
            &["validate", "ots-baseline", "--print", "--set", "nonsense"],
            "--set nonsense: expected KEY=VALUE",
        ),
        (
            &[
                "validate",
                "ots-baseline",
                "--print",
                "--set",
                "scenario.days=0",
            ],
            "key `scenario.days`: must be between 1 and 3660, got 0",
        ),
        (
            &["validate", "no-such-scenario", "--print"],
            "no such scenario file",
        ),
        (
            &["validate", "ots-baseline", "--set", "rail.nope.fee=1"],
            "no `rail` named `nope`",
        ),
    ];
    for (args, message) in cases {
        let o = kervan(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}
