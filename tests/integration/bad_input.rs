//! The bad-input corpus (DESIGN §3.4): malformed scenarios must be refused with exit code 2 and
//! a message naming the file, line, column and key, nothing may be written, and no input may
//! make the program panic.
//!
//! Each case is the bundled ots-baseline with one textual edit, so it differs from a valid
//! scenario in exactly one place. Expected lines and columns are found in the edited text rather
//! than written down, so comment edits in the bundled file do not break these tests.

use std::path::Path;

use crate::common::{self, kervan, scratch, stderr};

/// The bundled baseline, as a starting point for every malformed scenario.
fn baseline() -> String {
    std::fs::read_to_string(common::bundled("ots-baseline.toml")).expect("read ots-baseline.toml")
}

/// `text` with `old` replaced by `new`. `old` must occur exactly once, or the edit would not be
/// the one the case means.
fn replace_once(text: &str, old: &str, new: &str) -> String {
    assert_eq!(
        text.matches(old).count(),
        1,
        "{old:?} must occur exactly once in the scenario"
    );
    text.replacen(old, new, 1)
}

/// The baseline with one edit.
fn edited(old: &str, new: &str) -> String {
    replace_once(&baseline(), old, new)
}

/// 1-based line and byte column (as the loader counts) of the first `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    position_at(
        text,
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the scenario")),
    )
}

/// 1-based line and byte column of byte offset `at`.
fn position_at(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = at - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
    (line, col)
}

/// What the first `error:` line must say.
struct Want {
    file: String,
    line: Option<usize>,
    col: Option<usize>,
    key: Option<String>,
    message: String,
}

impl Want {
    /// An error in `file` at the first `needle` of its `text`, about `key`.
    fn at(file: &str, text: &str, needle: &str, key: &str, message: &str) -> Want {
        let (line, col) = position(text, needle);
        Want {
            file: file.into(),
            line: Some(line),
            col: Some(col),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// An error in "s.toml", the file most cases write.
    fn in_s(text: &str, needle: &str, key: &str, message: &str) -> Want {
        Want::at("s.toml", text, needle, key, message)
    }

    /// `FILE:LINE:COL: key `KEY`: `, as far as known.
    fn prefix(&self) -> String {
        let mut p = format!("error: {}", self.file);
        if let Some(line) = self.line {
            p.push_str(&format!(":{line}"));
            if let Some(col) = self.col {
                p.push_str(&format!(":{col}"));
            }
        }
        if let Some(key) = &self.key {
            p.push_str(&format!(": key `{key}`"));
        }
        p
    }
}

fn assert_error(what: &str, o: &std::process::Output, want: &Want) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code 2 expected\n{err}"
    );
    assert!(!err.contains("panicked"), "{what}: panicked\n{err}");
    let first = err.lines().next().unwrap_or_default();
    let prefix = want.prefix();
    assert!(
        first.starts_with(&prefix),
        "{what}: expected the first line to start with\n  {prefix}\ngot\n  {first}"
    );
    // The location must end where the prefix does: line 19 must not pass for line 190.
    let rest = &first[prefix.len()..];
    assert!(
        rest.starts_with(':'),
        "{what}: location not followed by ':' in\n  {first}"
    );
    assert!(
        rest.contains(&want.message),
        "{what}: expected {:?} in\n  {first}",
        want.message
    );
}

/// Writes `files` into a scratch folder and checks that `kervan validate TARGET` (and, if `run`,
/// `kervan run TARGET --out out`) refuse it as `want` says, writing nothing.
fn rejects(files: &[(&str, &str)], target: &str, want: Want, run: bool) {
    let dir = scratch(files);
    assert_error(
        "validate",
        &kervan(dir.path(), &["validate", target]),
        &want,
    );
    if run {
        let o = kervan(dir.path(), &["run", target, "--out", "out", "--quiet"]);
        assert_error("run", &o, &want);
        assert_nothing_written(dir.path(), "out");
    }
}

/// `rejects` for the usual single file, "s.toml".
fn rejects_s(text: &str, want: Want, run: bool) {
    rejects(&[("s.toml", text)], "s.toml", want, run);
}

/// Neither the output folder nor the temporary folder a run renames into place may exist.
fn assert_nothing_written(parent: &Path, out: &str) {
    assert!(!parent.join(out).exists(), "{out} was created");
    let partial = format!(".{out}.partial-");
    let leftovers: Vec<String> = std::fs::read_dir(parent)
        .expect("read scratch dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&partial))
        .collect();
    assert!(
        leftovers.is_empty(),
        "partial output left behind: {leftovers:?}"
    );
}

#[test]
fn toml_syntax_error() {
    let text = edited("\n[fx]\n", "\n[fx\n");
    // The parser's column is wherever it gave up; the line is what matters.
    let (line, _) = position(&text, "[fx\n");
    let want = Want {
        file: "s.toml".into(),
        line: Some(line),
        col: None,
        key: None,
        message: "TOML syntax: unclosed table".into(),
    };
    rejects_s(&text, want, true);
}

#[test]
fn unknown_top_level_key() {
    let text = edited("\n[scenario]\n", "\nbogus = 1\n[scenario]\n");
    rejects_s(
        &text,
        Want::in_s(&text, "bogus = 1", "bogus", "unknown field `bogus`"),
        false,
    );
}

#[test]
fn unknown_key_in_a_rail() {
    let text = edited(
        "return_probability = 0.003",
        "return_probability = 0.003\nretry_probability = 0.1",
    );
    let want = Want::in_s(
        &text,
        "retry_probability",
        "rail[swift-usd].retry_probability",
        "unknown field `retry_probability`",
    );
    rejects_s(&text, want, false);
}

#[test]
fn unknown_key_in_fx() {
    let text = edited("\n[fx]\n", "\n[fx]\nticks_h = 2\n");
    rejects_s(
        &text,
        Want::in_s(&text, "ticks_h", "fx.ticks_h", "unknown field `ticks_h`"),
        false,
    );
}

#[test]
fn string_where_a_number_is_expected() {
    let text = edited("\ndays = 365", "\ndays = \"365\"");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "days = \"365\"",
            "scenario.days",
            "invalid type: string \"365\"",
        ),
        false,
    );
}

#[test]
fn wrong_type_inside_a_rail_names_the_inner_key() {
    // Rails are an internally tagged enum, where serde loses the path unless the loader recovers it.
    let text = edited(
        "processing_min = { median = 12,",
        "processing_min = { median = \"12\",",
    );
    let want = Want::in_s(
        &text,
        "median = \"12\"",
        "rail[swift-usd].processing_min.median",
        "invalid type: string \"12\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn missing_required_field() {
    let text = edited("rtgs_cutoff = \"17:30\"\n", "");
    // A missing key has no place of its own: the error points at the member that lacks it.
    let want = Want::in_s(
        &text,
        "[[member]]\ncode = \"TR\"",
        "member[TR].rtgs_cutoff",
        "missing field `rtgs_cutoff`",
    );
    rejects_s(&text, want, false);
}

#[test]
fn unknown_currency_in_a_member() {
    let text = edited("currency = \"AZN\"", "currency = \"AZM\"");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "currency = \"AZM\"",
            "member[AZ].currency",
            "unknown currency \"AZM\"",
        ),
        false,
    );
}

#[test]
fn unknown_member_in_a_route_corridor() {
    let text = baseline()
        + "\n[[route]]\ncorridor = \"TR->XX\"\nrails = [{ rail = \"swift-usd\", share = 1.0 }]\n";
    let want = Want::in_s(
        &text,
        "corridor = \"TR->XX\"",
        "route[TR->XX].corridor",
        "unknown member \"XX\" in corridor \"TR->XX\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn negative_fee() {
    let text = edited("min_usd = 35,", "min_usd = -35,");
    let want = Want::in_s(
        &text,
        "min_usd = -35",
        "rail[swift-usd].originator_fee.min_usd",
        "must be at least 0, got -35",
    );
    rejects_s(&text, want, true);
}

#[test]
fn invoice_sizes_in_the_wrong_unit() {
    // A median of $0.04 (cents typed as dollars) would mean billions of payments.
    let text = edited("median_usd = 40000,", "median_usd = 0.0004,");
    let want = Want::in_s(
        &text,
        "size = {",
        "trade.size",
        "payments per replication (at most 5e7); are the sizes in USD?",
    );
    rejects_s(&text, want, true);
}

#[test]
fn nan_volatility() {
    let text = edited("vol_pa = 0.088", "vol_pa = nan");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "vol_pa = nan",
            "currency[KZT].vol_pa",
            "must be a finite number, got NaN",
        ),
        false,
    );
}

#[test]
fn infinite_growth() {
    let text = edited("growth_pa = 0.0", "growth_pa = +inf");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "growth_pa = +inf",
            "trade.growth_pa",
            "must be a finite rate above -1, got inf",
        ),
        false,
    );
}

#[test]
fn route_shares_do_not_sum_to_one() {
    let text = edited(
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "rails = [{ rail = \"swift-usd\", share = 0.9 }]",
    );
    let want = Want::in_s(
        &text,
        "rails = [{ rail = \"swift-usd\", share = 0.9",
        "route[*].rails",
        "shares sum to 0.9; they must sum to 1",
    );
    rejects_s(&text, want, true);
}

#[test]
fn invoice_currency_shares_do_not_sum_to_one() {
    let text = edited("usd = 0.8", "usd = 0.7");
    // The rule as a whole is at fault, so the error points at its [[trade.invoice_currency]].
    let want = Want::in_s(
        &text,
        "[[trade.invoice_currency]]",
        "trade.invoice_currency[*]",
        "0.7 + 0.1 + 0.1 sum to 0.9; they must sum to 1",
    );
    rejects_s(&text, want, false);
}

#[test]
fn charge_bearer_shares_do_not_sum_to_one() {
    let text = edited("ben = 0.1 }", "ben = 0.2 }");
    let want = Want::in_s(
        &text,
        "charge_bearer = {",
        "trade.charge_bearer",
        "0.3 + 0.6 + 0.2 sum to 1.1; they must sum to 1",
    );
    rejects_s(&text, want, false);
}

#[test]
fn correlation_matrix_not_positive_semi_definite() {
    // Three currencies pairwise at -0.9: each pair is possible, the three together are not.
    let mut text = baseline();
    for pair in ["KZT/KGS", "KZT/UZS", "KGS/UZS"] {
        let start = text
            .find(&format!("pair = \"{pair}\"\nrho = "))
            .expect("pair in baseline");
        let rho = start + text[start..].find("rho = ").expect("rho") + "rho = ".len();
        let end = rho + text[rho..].find('\n').expect("end of line");
        text.replace_range(rho..end, "-0.9");
    }
    let want = Want::in_s(
        &text,
        "correlation]]",
        "fx.correlation",
        "not positive semi-definite",
    );
    rejects_s(&text, want, true);
}

#[test]
fn corridor_no_rail_can_serve() {
    let text = edited(
        "# Every corridor pays through the dollar chain.\n[[route]]\ncorridor = \"*\"\nrails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "[[rail]]\nname = \"tr-az\"\nkind = \"bilateral\"\npairs = [\"TR-AZ\"]\nprocessing_min = { median = 15 }\nnostro_days = 3.0\ntopup_threshold = 0.3\n\n\
         [[route]]\ncorridor = \"*\"\nrails = [{ rail = \"tr-az\", share = 1.0 }]",
    );
    let want = Want::in_s(
        &text,
        "rail = \"tr-az\"",
        "route[*].rails[0].rail",
        "rail \"tr-az\" cannot serve corridor",
    );
    rejects_s(&text, want, true);
}

#[test]
fn extends_loop() {
    let a = format!("extends = \"b.toml\"\n{}", baseline());
    let b = "extends = \"a.toml\"\n[scenario]\nname = \"b\"\n";
    // The loop closes at b.toml's `extends`.
    let want = Want::at(
        "b.toml",
        b,
        "extends",
        "extends",
        "`extends` loop: a.toml → b.toml → a.toml",
    );
    rejects(&[("a.toml", &a), ("b.toml", b)], "a.toml", want, true);
}

#[test]
fn extends_a_missing_file() {
    let text = format!("extends = \"nowhere.toml\"\n{}", baseline());
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "extends",
            "extends",
            "cannot find `nowhere.toml` to extend",
        ),
        false,
    );
}

#[test]
fn error_in_an_extended_file_names_that_file() {
    // The child overrides KG's opening (arrays of tables merge by code); the clash is with the
    // cut-off the base file wrote, so that is where the error points.
    let base = baseline();
    let child = "extends = \"base.toml\"\n[scenario]\nname = \"child\"\n\n[[member]]\ncode = \"KG\"\nrtgs_open = \"16:00\"\n";
    let after_kg = base.find("code = \"KG\"").expect("KG in baseline");
    let (line, col) = position_at(
        &base,
        after_kg + base[after_kg..].find("rtgs_cutoff").expect("KG cut-off"),
    );
    let want = Want {
        file: "base.toml".into(),
        line: Some(line),
        col: Some(col),
        key: Some("member[KG].rtgs_cutoff".into()),
        message: "cut-off 15:00 must be after opening 16:00".into(),
    };
    rejects(
        &[("base.toml", &base), ("child.toml", child)],
        "child.toml",
        want,
        false,
    );
}

#[test]
fn bad_time_zone() {
    let text = edited("\"Asia/Baku\"", "\"Asia/Bakuu\"");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "time_zone = \"Asia/Bakuu\"",
            "member[AZ].time_zone",
            "unknown IANA time zone \"Asia/Bakuu\"",
        ),
        false,
    );
}

#[test]
fn bad_local_time() {
    let text = edited("rtgs_open = \"09:20\"", "rtgs_open = \"9h20\"");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "rtgs_open = \"9h20\"",
            "member[AZ].rtgs_open",
            "expected a local time \"HH:MM\", got \"9h20\"",
        ),
        false,
    );
}

#[test]
fn cutoff_before_opening() {
    let text = edited("rtgs_cutoff = \"19:00\"", "rtgs_cutoff = \"07:30\"");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "rtgs_cutoff = \"07:30\"",
            "member[KZ].rtgs_cutoff",
            "cut-off 07:30 must be after opening 08:00",
        ),
        false,
    );
}

#[test]
fn duplicate_rail_name() {
    let text = edited(
        "# Every corridor pays through the dollar chain.",
        "[[rail]]\nname = \"swift-usd\"\nkind = \"correspondent\"\nintermediaries = { values = [1], weights = [1] }\nprocessing_min = { median = 10 }\n",
    );
    // The second declaration is the mistake, not the first.
    let (line, col) = position_at(
        &text,
        text.rfind("name = \"swift-usd\"").expect("second rail"),
    );
    let want = Want {
        file: "s.toml".into(),
        line: Some(line),
        col: Some(col),
        key: Some("rail[swift-usd].name".into()),
        message: "rail \"swift-usd\" is declared twice".into(),
    };
    rejects_s(&text, want, false);
}

#[test]
fn unknown_rail_in_a_route() {
    let text = edited(
        "rails = [{ rail = \"swift-usd\"",
        "rails = [{ rail = \"swift-eur\"",
    );
    let want = Want::in_s(
        &text,
        "rail = \"swift-eur\"",
        "route[*].rails[0].rail",
        "unknown rail \"swift-eur\" (declared: swift-usd)",
    );
    rejects_s(&text, want, false);
}

#[test]
fn unknown_rail_kind() {
    let text = edited("kind = \"correspondent\"", "kind = \"carrier-pigeon\"");
    let want = Want::in_s(
        &text,
        "kind = \"carrier-pigeon\"",
        "rail[swift-usd].kind",
        "unknown variant `carrier-pigeon`",
    );
    rejects_s(&text, want, false);
}

#[test]
fn exchange_rate_out_of_range() {
    // Rates are exact decimals; a rate near their limit overflowed during the run (a panic).
    let text = edited(
        "mid_per_usd = \"1.70\"",
        "mid_per_usd = \"79228162514264337593543950335\"",
    );
    let want = Want::in_s(
        &text,
        "mid_per_usd = \"792",
        "currency[AZN].mid_per_usd",
        "must lie between 0.000001 and 1000000000000",
    );
    rejects_s(&text, want, true);
}

#[test]
fn trade_matrix_with_a_non_numeric_value() {
    let csv =
        std::fs::read_to_string(common::bundled("ots-trade-2024.csv")).expect("read trade matrix");
    let csv = replace_once(&csv, "\nKZ,UZ,2700000000,", "\nKZ,UZ,2.7bn,");
    let (line, _) = position(&csv, "KZ,UZ,2.7bn");
    let want = Want {
        file: "ots-trade-2024.csv".into(),
        line: Some(line),
        col: Some(1),
        key: None,
        message: "annual_usd \"2.7bn\" is not a number".into(),
    };
    rejects(
        &[("s.toml", &baseline()), ("ots-trade-2024.csv", &csv)],
        "s.toml",
        want,
        true,
    );
}

#[test]
fn scenario_file_that_does_not_exist() {
    let want = Want {
        file: "missing.toml".into(),
        line: None,
        col: None,
        key: None,
        message: "no such scenario file".into(),
    };
    rejects(&[], "missing.toml", want, true);
}

#[test]
fn bad_set_values_are_refused_before_anything_is_written() {
    let dir = scratch(&[]);
    let baseline = common::bundled("ots-baseline.toml");
    let baseline = baseline.to_str().expect("utf-8 path");
    let cases: [(&str, &str); 3] = [
        (
            "rail.swift-usd.return_probability=2",
            "error: command line: key `rail[swift-usd].return_probability`: must be a probability in [0, 1], got 2 (set by `rail.swift-usd.return_probability=…`)",
        ),
        (
            "rail.swift-usd.return_probability",
            "--set rail.swift-usd.return_probability: expected KEY=VALUE",
        ),
        (
            "rail.swift-eur.return_probability=0",
            "--set rail.swift-eur.return_probability: no `rail` named `swift-eur`",
        ),
    ];
    for (set, message) in cases {
        let o = kervan(
            dir.path(),
            &["run", baseline, "--out", "out", "--quiet", "--set", set],
        );
        let err = stderr(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "--set {set}: exit code 2 expected\n{err}"
        );
        assert!(
            err.starts_with("error: ") && err.contains(message),
            "--set {set}: expected {message:?} in\n{err}"
        );
        assert_nothing_written(dir.path(), "out");
    }
}

#[test]
fn no_mutation_of_a_valid_scenario_panics() {
    let text = baseline();
    let lines: Vec<&str> = text.lines().collect();
    let mut variants: Vec<String> = Vec::new();
    // Deleting single lines reaches missing keys, orphaned keys and broken multi-line strings.
    for skip in (0..lines.len()).step_by((lines.len() / 27).max(1)) {
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        variants.push(kept.join("\n"));
    }
    // Truncating cuts tables, strings and inline tables short; cut on character boundaries since
    // the file holds non-ASCII text.
    for k in 0..14 {
        let mut end = text.len() * k / 14;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        variants.push(text[..end].to_string());
    }
    assert!(variants.len() >= 40, "only {} variants", variants.len());
    let dir = scratch(&[]);
    for (i, v) in variants.iter().enumerate() {
        std::fs::write(dir.path().join("m.toml"), v).expect("write variant");
        let o = kervan(dir.path(), &["validate", "m.toml"]);
        let err = stderr(&o);
        assert!(
            matches!(o.status.code(), Some(0 | 2)),
            "variant {i}: exit {:?} (None = killed by a signal)\n{err}\n--- variant ---\n{v}",
            o.status.code()
        );
        assert!(!err.contains("panicked"), "variant {i} panicked\n{err}");
    }
}

#[test]
fn no_single_line_deletion_in_any_design_scenario_panics() {
    // The five designs of issue 3 have their own rail tables: delete each line of their
    // `[[rail]]` and `[[route]]` sections in turn (and run the ones that stay valid briefly), so
    // every rail kind's validation and run-time set-up face missing and orphaned keys.
    let dir = scratch(&[]);
    for name in [
        "ots-swap-tr-kz",
        "ots-regional-netting",
        "ots-pvp-bridge",
        "ots-common-unit",
        "ots-union",
    ] {
        let text = std::fs::read_to_string(common::bundled(&format!("{name}.toml")))
            .expect("read scenario");
        let lines: Vec<&str> = text.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.trim() == "[[rail]]")
            .expect("a [[rail]] table");
        for skip in start..lines.len() {
            if lines[skip].trim().is_empty() || lines[skip].trim_start().starts_with('#') {
                continue;
            }
            let kept: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            std::fs::write(dir.path().join("m.toml"), kept.join("\n")).expect("write variant");
            let o = kervan(
                dir.path(),
                &[
                    "run",
                    "m.toml",
                    "--days",
                    "3",
                    "--no-payments",
                    "--out",
                    "o",
                    "--quiet",
                ],
            );
            let err = stderr(&o);
            assert!(
                matches!(o.status.code(), Some(0 | 2)),
                "{name} without line {}: exit {:?}\n{err}",
                skip + 1,
                o.status.code()
            );
            assert!(
                !err.contains("panicked"),
                "{name} without line {} panicked\n{err}",
                skip + 1
            );
            if o.status.code() == Some(2) {
                assert!(err.starts_with("error: "), "{err}");
            }
        }
    }
}
