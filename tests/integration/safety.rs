//! Fault tests for the user's disk (docs/reliability.md): kervan never deletes or overwrites a
//! file it did not write, refuses dangerous output folders, locks the folder for a run, and an
//! interrupted or failed run leaves what was there byte for byte. Also the data-file and
//! command-line promises: no bundled file replaces one the user named, `--set` takes exactly one
//! value, and a closed stdout ends the program quietly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{self, kervan, scratch, stderr};

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A user's folder with files of their own, one named like kervan's manifest.
fn users_folder(parent: &Path, name: &str) -> std::path::PathBuf {
    let d = parent.join(name);
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("manifest.toml"), "my own manifest\n").unwrap();
    std::fs::write(d.join("precious.txt"), "years of work\n").unwrap();
    std::fs::write(d.join("sub/data.csv"), "a,b\n1,2\n").unwrap();
    d
}

/// A short run of the default scenario into `parent/out`, which must succeed.
fn short_run_into(parent: &Path, out: &str) {
    let o = kervan(parent, &["run", "--days", "2", "--out", out, "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// A run long enough (a year, twenty replications) to be still running while a test acts on
/// it, started in the background.
fn long_run_into(parent: &Path, out: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kervan"))
        .args(["run", "--replications", "20", "--out", out, "-q"])
        .current_dir(parent)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn assert_refused(o: &std::process::Output, code: i32, fragment: &str) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
    assert!(
        stderr(o).contains(fragment),
        "expected {fragment:?} in {}",
        stderr(o)
    );
}

#[test]
fn a_folder_kervan_did_not_write_is_refused_and_survives_byte_for_byte() {
    let dir = scratch(&[]);
    let it = users_folder(dir.path(), "it");
    let before = snapshot(&it);
    let o = kervan(dir.path(), &["run", "--days", "2", "--out", "it", "-q"]);
    // It holds a manifest.toml of the user's: refused even with --force, which never replaces.
    assert_refused(&o, 2, "it/manifest.toml is not kervan's");
    let o = kervan(
        dir.path(),
        &["run", "--days", "2", "--out", "it", "-q", "--force"],
    );
    assert_refused(&o, 2, "it/manifest.toml is not kervan's");
    assert_eq!(snapshot(&it), before);

    // Without a clash the refusal names --force; with it, kervan's files go beside the user's.
    std::fs::remove_file(it.join("manifest.toml")).unwrap();
    let before = snapshot(&it);
    let o = kervan(dir.path(), &["run", "--days", "2", "--out", "it", "-q"]);
    assert_refused(&o, 2, "--force");
    assert_eq!(snapshot(&it), before);
    let o = kervan(
        dir.path(),
        &["run", "--days", "2", "--out", "it", "-q", "--force"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = snapshot(&it);
    for (name, bytes) in &before {
        assert_eq!(after.get(name), Some(bytes), "{name} changed");
    }
    assert!(after.contains_key("manifest.toml") && after.contains_key(".kervan-output"));
}

#[test]
fn a_rerun_replaces_only_its_own_files_and_keeps_the_users_notes() {
    let dir = scratch(&[]);
    let run = |days: &str, extra: &[&str]| {
        let mut args = vec!["run", "--days", days, "--out", "o", "-q"];
        args.extend_from_slice(extra);
        kervan(dir.path(), &args)
    };
    assert_eq!(run("2", &[]).status.code(), Some(0));
    let o = dir.path().join("o");
    std::fs::write(o.join("notes.txt"), "what I saw\n").unwrap();
    assert_eq!(run("3", &[]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(o.join("notes.txt")).unwrap(),
        "what I saw\n"
    );
    // The rerun's files are the rerun's: a fresh run of 3 days into a new folder is identical.
    assert_eq!(
        kervan(dir.path(), &["run", "--days", "3", "--out", "fresh", "-q"])
            .status
            .code(),
        Some(0)
    );
    // (The manifest names the command line, hence the folder, and the marker its hash.)
    let csvs = |d: &Path| {
        let mut s = snapshot(d);
        s.retain(|name, _| name.ends_with(".csv"));
        s
    };
    assert_eq!(csvs(&o), csvs(&dir.path().join("fresh")));
    assert_eq!(
        snapshot(&o).len(),
        snapshot(&dir.path().join("fresh")).len() + 1
    );
    // A file it no longer writes (payments.csv under --no-payments) is removed: it is provably
    // kervan's and would otherwise sit beside a manifest that does not describe it.
    assert_eq!(run("3", &["--no-payments"]).status.code(), Some(0));
    assert!(!o.join("payments.csv").exists());
    assert!(o.join("notes.txt").exists());
    // A kervan file the user edited is the user's now: refused, and kept byte for byte.
    std::fs::write(o.join("rails.csv"), "edited\n").unwrap();
    let before = snapshot(&o);
    let out = run("2", &[]);
    assert_refused(&out, 2, "o/rails.csv is not kervan's (or was changed after");
    assert_eq!(snapshot(&o), before);
}

#[test]
fn a_folder_written_by_an_earlier_version_whose_marker_lists_sha256_is_still_kervans() {
    use sha2::Digest as _;
    let dir = scratch(&[]);
    short_run_into(dir.path(), "o");
    let o = dir.path().join("o");
    // The marker as versions before XXH3-128 wrote it: each file's SHA-256 instead.
    let marker = std::fs::read_to_string(o.join(".kervan-output")).unwrap();
    let mut legacy = String::new();
    let mut name = String::new();
    for line in marker.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = n.trim_matches('"').to_string();
        }
        if line.starts_with("xxh3_128 = ") {
            let sha = sha2::Sha256::digest(std::fs::read(o.join(&name)).unwrap());
            let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
            legacy.push_str(&format!("sha256 = \"{hex}\"\n"));
        } else {
            legacy.push_str(line);
            legacy.push('\n');
        }
    }
    assert_eq!(
        legacy.matches("sha256 = ").count(),
        marker.matches("xxh3_128 = ").count()
    );
    std::fs::write(o.join(".kervan-output"), &legacy).unwrap();
    // A file edited since is still refused under the old marker...
    let rails = std::fs::read(o.join("rails.csv")).unwrap();
    std::fs::write(o.join("rails.csv"), b"edited\n").unwrap();
    let before = snapshot(&o);
    let out = kervan(dir.path(), &["run", "--days", "3", "--out", "o", "-q"]);
    assert_refused(&out, 2, "o/rails.csv is not kervan's (or was changed after");
    assert_eq!(snapshot(&o), before);
    // ...and with it restored, the rerun replaces every file and lists them by XXH3-128.
    std::fs::write(o.join("rails.csv"), rails).unwrap();
    let out = kervan(dir.path(), &["run", "--days", "3", "--out", "o", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kervan(dir.path(), &["run", "--days", "3", "--out", "fresh", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csvs = |d: &Path| {
        let mut s = snapshot(d);
        s.retain(|name, _| name.ends_with(".csv"));
        s
    };
    assert_eq!(csvs(&o), csvs(&dir.path().join("fresh")));
    let marker = std::fs::read_to_string(o.join(".kervan-output")).unwrap();
    assert!(
        !marker.contains("sha256") && marker.contains("xxh3_128 = "),
        "{marker}"
    );
}

#[test]
fn the_current_folder_its_ancestors_home_and_root_are_refused() {
    let dir = scratch(&[]);
    let child = dir.path().join("a/b");
    std::fs::create_dir_all(&child).unwrap();
    std::fs::write(dir.path().join("a/keep.txt"), "keep").unwrap();
    std::fs::write(child.join("keep.txt"), "keep").unwrap();
    let before = snapshot(dir.path());
    for (out, fragment) in [
        (".", "refusing to write into the current folder"),
        (
            "..",
            "refusing to write into a folder that holds the current folder",
        ),
        (
            "../..",
            "refusing to write into a folder that holds the current folder",
        ),
        ("../b", "refusing to write into the current folder"),
        ("/", "refusing to write into the root folder"),
    ] {
        let o = kervan(&child, &["run", "--days", "2", "--out", out, "-q"]);
        assert_refused(&o, 2, fragment);
    }
    let home = dir.path().join("a");
    let o = Command::new(env!("CARGO_BIN_EXE_kervan"))
        .args(["run", "--days", "2", "--out", home.to_str().unwrap(), "-q"])
        .current_dir(dir.path())
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_refused(&o, 2, "refusing to write into your home folder");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_scenario_name_is_a_name_never_a_path() {
    let base = std::fs::read_to_string(common::bundled("ots-baseline.toml")).unwrap();
    for (name, fragment) in [
        ("/tmp/x", "'/' is not allowed"),
        ("../../x", "'/' is not allowed"),
        ("..", "must not start with `.`"),
        ("a b", "' ' is not allowed"),
    ] {
        let text = base.replacen("name = \"ots-baseline\"", &format!("name = {name:?}"), 1);
        assert_ne!(text, base);
        let dir = scratch(&[("s.toml", &text)]);
        std::fs::copy(
            common::bundled("ots-trade-2024.csv"),
            dir.path().join("ots-trade-2024.csv"),
        )
        .unwrap();
        let o = kervan(dir.path(), &["run", "s.toml", "--days", "2", "-q"]);
        assert_refused(&o, 2, "key `scenario.name`");
        assert!(stderr(&o).contains(fragment), "{}", stderr(&o));
        assert!(!dir.path().join("kervan-out").exists());
    }
    let long = "n".repeat(65);
    let o = kervan(
        scratch(&[]).path(),
        &[
            "run",
            "--set",
            &format!("scenario.name={long}"),
            "--days",
            "2",
        ],
    );
    assert_refused(&o, 2, "a name has at most 64");
}

#[test]
fn a_second_run_into_a_locked_folder_refuses_at_once_naming_the_first() {
    let dir = scratch(&[]);
    let mut first = long_run_into(dir.path(), "o");
    let lock = dir.path().join("o/.kervan-lock");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |s| s.is_empty()) {
        assert!(
            t0.elapsed().as_secs() < 30,
            "the first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = kervan(dir.path(), &["run", "--days", "2", "--out", "o", "-q"]);
    let _ = first.kill();
    let _ = first.wait();
    assert_refused(&second, 1, "is in use by another kervan run");
    assert!(
        stderr(&second).contains(&format!("pid {}", first.id())),
        "{}",
        stderr(&second)
    );
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_exits_130_and_leaves_the_folder_as_it_was() {
    let dir = scratch(&[]);
    short_run_into(dir.path(), "o");
    let o = dir.path().join("o");
    std::fs::write(o.join("notes.txt"), "mine").unwrap();
    let before = snapshot(&o);
    let child = long_run_into(dir.path(), "o");
    // Wait until it holds the lock (it is then simulating), then interrupt it as Ctrl-C would.
    let t0 = std::time::Instant::now();
    while !o.join(".kervan-partial").exists() {
        assert!(t0.elapsed().as_secs() < 30, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was written to o: what was there before is unchanged"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&o), before);
}

#[cfg(unix)]
#[test]
fn a_write_failure_names_the_output_file_and_leaves_the_folder_as_it_was() {
    let dir = scratch(&[]);
    short_run_into(dir.path(), "o");
    let before = snapshot(&dir.path().join("o"));
    // A file-size limit stands in for a full disk: writes past it fail (EFBIG) as they would
    // with ENOSPC. SIGXFSZ is ignored so the write fails instead of killing the process.
    let bin = env!("CARGO_BIN_EXE_kervan");
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 64; exec '{bin}' run --days 30 --out o -q"
        ))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("error: o/payments.csv: "), "{err}");
    assert!(
        err.contains("nothing was written to o: what was there before is unchanged"),
        "{err}"
    );
    assert_eq!(snapshot(&dir.path().join("o")), before);
    // A parent that is a file is named as such, not "File exists".
    std::fs::write(dir.path().join("f"), "x").unwrap();
    let o = kervan(dir.path(), &["run", "--days", "2", "--out", "f/o", "-q"]);
    assert_refused(&o, 2, "f is a file, not a folder");
}

#[test]
fn a_data_file_the_user_names_is_read_or_the_run_fails_naming_it() {
    let base = std::fs::read_to_string(common::bundled("ots-baseline.toml")).unwrap();
    // Missing: no bundled matrix in its place.
    let dir = scratch(&[("s.toml", &base)]);
    let o = kervan(dir.path(), &["run", "s.toml", "--days", "2", "-q"]);
    // The message names the file and the key that named it, where it was written.
    let line = base[..base.find("matrix = ").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert_refused(
        &o,
        2,
        &format!("error: s.toml:{line}:1: key `trade.matrix`: ots-trade-2024.csv: no such file"),
    );
    assert!(!dir.path().join("kervan-out").exists());
    // Not UTF-8: the byte offset, line and column of the first bad byte.
    let mut csv = std::fs::read(common::bundled("ots-trade-2024.csv")).unwrap();
    let at = csv.len() - 5;
    csv[at] = 0xE9;
    std::fs::write(dir.path().join("ots-trade-2024.csv"), &csv).unwrap();
    let o = kervan(dir.path(), &["run", "s.toml", "--days", "2", "-q"]);
    let text = String::from_utf8_lossy(&csv[..at]).into_owned();
    let line = text.matches('\n').count() + 1;
    let col = at - text.rfind('\n').map_or(0, |n| n + 1) + 1;
    assert_refused(
        &o,
        2,
        &format!("ots-trade-2024.csv:{line}:{col}: not UTF-8: byte 0xE9 at byte offset {at}"),
    );
    // The bundled matrix only when asked for by name; the manifest records path and SHA-256.
    let named = base.replace(
        "matrix = \"ots-trade-2024.csv\"",
        "matrix = \"bundled:ots-trade-2024.csv\"",
    );
    std::fs::write(dir.path().join("s.toml"), named).unwrap();
    let o = kervan(
        dir.path(),
        &["run", "s.toml", "--days", "2", "-q", "--out", "o"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest = std::fs::read_to_string(dir.path().join("o/manifest.toml")).unwrap();
    use sha2::Digest as _;
    let sha = |b: &[u8]| {
        sha2::Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
    };
    let bundled_csv = std::fs::read(common::bundled("ots-trade-2024.csv")).unwrap();
    let scenario = std::fs::read(dir.path().join("s.toml")).unwrap();
    for (role, path, hash) in [
        ("scenario", "s.toml".to_string(), sha(&scenario)),
        (
            "trade.matrix",
            "bundled:ots-trade-2024.csv".to_string(),
            sha(&bundled_csv),
        ),
    ] {
        let entry =
            format!("[[data_file]]\nrole = \"{role}\"\npath = \"{path}\"\nsha256 = \"{hash}\"");
        assert!(manifest.contains(&entry), "{entry}\nnot in\n{manifest}");
    }
}

#[test]
fn a_scenario_that_cannot_be_read_is_never_replaced_by_a_bundled_one() {
    let dir = scratch(&[("ots-baseline.toml", "\u{0}")]);
    std::fs::remove_file(dir.path().join("ots-baseline.toml")).unwrap();
    // A path (it ends in .toml) that does not exist is an error, although a bundled scenario
    // of that name exists.
    let o = kervan(
        dir.path(),
        &["run", "ots-baseline.toml", "--days", "2", "-q"],
    );
    assert_refused(&o, 2, "ots-baseline.toml: no such file");
    // A file that extends a missing file: no bundled substitute, and a hint.
    std::fs::write(
        dir.path().join("s.toml"),
        "extends = \"ots-baseline.toml\"\n",
    )
    .unwrap();
    let o = kervan(dir.path(), &["run", "s.toml", "--days", "2", "-q"]);
    assert_refused(
        &o,
        2,
        "s.toml:1:1: key `extends`: cannot find `ots-baseline.toml` to extend (to extend the \
         bundled scenario, write `extends = \"bundled:ots-baseline\"`)",
    );
    // A non-regular file (a device that never ends) is refused before it is read.
    std::fs::write(dir.path().join("s.toml"), "extends = \"/dev/zero\"\n").unwrap();
    let o = kervan(dir.path(), &["run", "s.toml", "--days", "2", "-q"]);
    assert_refused(&o, 2, "/dev/zero: is not a regular file");
    // A huge file is refused by size.
    let big = std::fs::File::create(dir.path().join("big.toml")).unwrap();
    big.set_len(17 << 20).unwrap();
    let o = kervan(dir.path(), &["run", "big.toml", "--days", "2", "-q"]);
    assert_refused(&o, 2, "kervan reads files of at most 16 MiB");
    assert!(!dir.path().join("kervan-out").exists());
}

#[test]
fn set_takes_exactly_one_value() {
    let dir = scratch(&[]);
    let o = kervan(
        dir.path(),
        &["run", "--set", "scenario.days=3\n[evil]\nx = 1", "-q"],
    );
    assert_refused(
        &o,
        2,
        "--set scenario.days: takes exactly one TOML value; found more after it",
    );
    assert!(!dir.path().join("kervan-out").exists());
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_program_quietly() {
    let bin = env!("CARGO_BIN_EXE_kervan");
    let mut child = Command::new(bin)
        .arg("list")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before kervan writes: every write then fails with EPIPE.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn inputs_that_would_break_exact_money_are_refused_naming_the_key() {
    let dir = scratch(&[]);
    for (set, fragment) in [
        // A half-spread of 50 % or more after the size curve (×3 in the baseline's largest band).
        (
            "currency.TRY.usd_half_spread_bps=2000",
            "key `currency[TRY].usd_half_spread_bps`: the half-spread of USD/TRY can reach",
        ),
        (
            "fx.cross_multiplier=1e6",
            "key `fx.cross_multiplier`: the half-spread of",
        ),
        (
            "trade.scale=1e300",
            "key `trade.scale`: must be at most 1000000",
        ),
        (
            "trade.size.max_usd=1e300",
            "key `trade.size.max_usd`: must be at most 1e11",
        ),
        (
            "currency.UZS.mid_per_usd=1e9",
            "key `currency[UZS].mid_per_usd`: must lie between 0.001 and 1000000",
        ),
        (
            "rail.swift-usd.originator_fee.flat_usd=1e300",
            "key `rail[swift-usd].originator_fee.flat_usd`: must be at most 1e9 USD",
        ),
    ] {
        let o = kervan(dir.path(), &["run", "--days", "2", "-q", "--set", set]);
        assert_refused(&o, 2, fragment);
    }
    // An explicit payment beyond what one payment may be.
    let text = "extends = \"bundled:ots-baseline\"\n[[trade.payment]]\nat = 2025-01-02T10:00:00Z\n\
         exporter = \"TR\"\nimporter = \"AZ\"\namount = \"99999999999999999999\"\ncurrency = \"UZS\"\n";
    let d = scratch(&[("s.toml", text)]);
    let o = kervan(d.path(), &["run", "s.toml", "--days", "2", "-q"]);
    assert_refused(&o, 2, "key `trade.payment[0].amount`");
    assert!(!dir.path().join("kervan-out").exists() && !d.path().join("kervan-out").exists());
}

#[test]
fn inputs_the_corpus_found_accepted_are_refused_or_warned_about() {
    let dir = scratch(&[]);
    let run = |args: &[&str]| {
        let mut a = vec!["run", "--days", "2", "-q"];
        a.extend_from_slice(args);
        kervan(dir.path(), &a)
    };
    // `extends` on the command line would be silently ignored.
    assert_refused(
        &run(&["--set", "extends=nowhere.toml"]),
        2,
        "--set extends: `extends` cannot be set on the command line",
    );
    // A bridge among one member is no bridge.
    assert_refused(
        &run(&[
            "ots-pvp-bridge",
            "--set",
            "rail.cbdc-bridge.members=[\"TR\", \"TR\"]",
        ]),
        2,
        "key `rail[cbdc-bridge].members`: list at least two members",
    );
    // A member that is never open: a warning, and the run goes on.
    let o = run(&[
        "--set",
        "member.KG.weekend=[\"Mon\",\"Tue\",\"Wed\",\"Thu\",\"Fri\",\"Sat\",\"Sun\"]",
        "--out",
        "w",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: member KG has a seven-day weekend"),
        "{}",
        stderr(&o)
    );
    // A typo in a matrix row is an error on its line, not a silently dropped corridor.
    let base = std::fs::read_to_string(common::bundled("ots-baseline.toml")).unwrap();
    let csv = std::fs::read_to_string(common::bundled("ots-trade-2024.csv")).unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with("KZ,UZ,"))
        .expect("a KZ->UZ row");
    let d = scratch(&[
        ("s.toml", &base),
        (
            "ots-trade-2024.csv",
            &csv.replacen(row, &row.replacen("KZ,UZ", "kz,UZ", 1), 1),
        ),
    ]);
    let line = csv.lines().position(|l| l == row).unwrap() + 1;
    let o = kervan(d.path(), &["run", "s.toml", "--days", "2", "-q"]);
    assert_refused(
        &o,
        2,
        &format!("ots-trade-2024.csv:{line}:1: \"kz\" is not a member code"),
    );
}

/// What each fuzz finding in tests/fuzz-regressions/ must now give: a bad-input error (exit 2)
/// whose message names this key, and this text. A new file there needs a line here.
const FUZZ_REGRESSIONS: &[(&str, &str, &str)] = &[
    (
        "div-overflow-swap-line-limit-ratio.toml",
        "key `rail[l].limit.TRY`",
        "finer than TRY's minor unit",
    ),
    (
        "oom-trade-matrix-dev-zero.toml",
        "key `trade.matrix`",
        "/dev/zero: is not a regular file",
    ),
];

#[test]
fn every_fuzz_finding_is_now_a_located_bad_input_error() {
    let dir = common::root().join("tests/fuzz-regressions");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FUZZ_REGRESSIONS
        .iter()
        .map(|(f, _, _)| f.to_string())
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed, "every regression input has an expectation");
    let cwd = tempfile::tempdir().unwrap();
    for (file, key, text) in FUZZ_REGRESSIONS {
        let path = dir.join(file);
        let path = path.to_str().unwrap();
        for args in [
            vec!["validate", path],
            vec!["run", path, "--out", "o", "-q"],
        ] {
            let o = kervan(cwd.path(), &args);
            assert_refused(&o, 2, key);
            assert_refused(&o, 2, text);
            assert!(
                stderr(&o).contains(&format!("{file}:")),
                "names the file: {}",
                stderr(&o)
            );
        }
        assert!(!cwd.path().join("o").exists(), "{file}: nothing written");
    }
}

#[test]
fn a_netting_cycle_that_never_settles_gets_a_warning_that_holds() {
    let netting = "extends = \"bundled:ots-regional-netting\"\n[[rail]]\nname = \"ots-clearing\"\n";
    let d = scratch(&[
        // 16:30 in Almaty is 11:30 UTC: after KG's 09:00 UTC close, inside everyone else's hours
        // (docs/calibration.md §6.1).
        (
            "late.toml",
            &format!("{netting}cycle_times = [\"16:30\"]\n"),
        ),
        (
            "never.toml",
            &format!(
                "{netting}weekend = [\"Mon\",\"Tue\",\"Wed\",\"Thu\",\"Fri\",\"Sat\",\"Sun\"]\n"
            ),
        ),
    ]);
    let o = kervan(d.path(), &["validate", "late.toml", "never.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("netting rail ots-clearing: member KG's RTGS is closed at every one of its"),
        "{err}"
    );
    assert_eq!(err.matches("member ").count(), 1, "only KG: {err}");
    assert!(
        err.contains("netting rail ots-clearing has no cycle in the run"),
        "{err}"
    );
    // The bundled design, cycles inside every window, gets no such warning.
    let o = kervan(d.path(), &["validate", "ots-regional-netting"]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));

    // The warning holds: in a short run, no payment to or from KG settles on the house, while
    // the other corridors' payments do.
    let o = kervan(
        d.path(),
        &["run", "late.toml", "--days", "5", "--out", "o", "-q"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (mut kg_settled, mut kg_open, mut others_settled) = (0, 0, 0);
    for r in common::read_csv(&d.path().join("o/payments.csv")) {
        if r["rail"] != "ots-clearing" {
            continue;
        }
        let kg = r["exporter"] == "KG" || r["importer"] == "KG";
        match (kg, r["status"].as_str()) {
            (true, "settled") => kg_settled += 1,
            (true, _) => kg_open += 1,
            (false, "settled") => others_settled += 1,
            _ => {}
        }
    }
    assert_eq!(kg_settled, 0);
    assert!(
        kg_open > 0 && others_settled > 0,
        "{kg_open} {others_settled}"
    );
}
