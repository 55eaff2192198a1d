//! The bad-input corpus (docs/reliability.md): malformed scenarios must be refused with exit code 2 and
//! a message naming the file, line, column and key, nothing may be written, and no input may
//! make the program panic.
//!
//! Each case is a bundled scenario (mostly ots-baseline) with one textual edit, so it differs
//! from a valid scenario in exactly one place. Expected lines and columns are found in the edited
//! text rather than written down, so comment edits in the bundled files do not break these tests.
//! Every scenario is written next to the bundled files it names (the trade matrix, the baseline a
//! design extends), so no case depends on the loader falling back to its bundled copies.

use std::path::Path;

use crate::common::{self, kervan, scratch, stderr};

/// A bundled file's text.
fn bundled_text(name: &str) -> String {
    std::fs::read_to_string(common::bundled(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The bundled baseline, as a starting point for most malformed scenarios.
fn baseline() -> String {
    bundled_text("ots-baseline.toml")
}

/// The bundled trade matrix, which every bundled scenario names.
fn matrix() -> String {
    bundled_text("ots-trade-2024.csv")
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

    /// An error in "s.toml" at the last `needle`: a duplicate is the mistake, not the original.
    fn last_in_s(text: &str, needle: &str, key: &str, message: &str) -> Want {
        let at = text
            .rfind(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in the scenario"));
        let (line, col) = position_at(text, at);
        Want {
            file: "s.toml".into(),
            line: Some(line),
            col: Some(col),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A TOML syntax error in `file` on the line of the first `needle` of its `text`: the
    /// parser's column is wherever it gave up, and no key is known yet.
    fn syntax(file: &str, text: &str, needle: &str, message: &str) -> Want {
        let (line, _) = position(text, needle);
        Want {
            file: file.into(),
            line: Some(line),
            col: None,
            key: None,
            message: format!("TOML syntax: {message}"),
        }
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

/// `rejects` for the usual single scenario, "s.toml", next to the trade matrix it names.
fn rejects_s(text: &str, want: Want, run: bool) {
    rejects(
        &[("s.toml", text), ("ots-trade-2024.csv", &matrix())],
        "s.toml",
        want,
        run,
    );
}

/// The baseline with `old` replaced by `new`, refused (by `validate` and `run`) with an error at
/// the first `at` of the edited text, about `key`, saying `message`.
fn refuses_edit(old: &str, new: &str, at: &str, key: &str, message: &str) {
    let text = edited(old, new);
    rejects_s(&text, Want::in_s(&text, at, key, message), true);
}

/// The bundled design scenario `name` with one edit, written as "s.toml".
fn design(name: &str, old: &str, new: &str) -> String {
    replace_once(&bundled_text(name), old, new)
}

/// `rejects` for an edited design scenario: "s.toml" next to the baseline it extends and the
/// trade matrix, refused by `validate` and `run`.
fn rejects_design(text: &str, want: Want) {
    rejects(
        &[
            ("s.toml", text),
            ("ots-baseline.toml", &baseline()),
            ("ots-trade-2024.csv", &matrix()),
        ],
        "s.toml",
        want,
        true,
    );
}

/// `refuses_edit` for the design scenario `name`.
fn refuses_design_edit(name: &str, old: &str, new: &str, at: &str, key: &str, message: &str) {
    let text = design(name, old, new);
    rejects_design(&text, Want::in_s(&text, at, key, message));
}

/// The baseline next to a trade matrix with `old` replaced by `new`, refused with an error on the
/// matrix's line holding the first `at` (no key: the matrix is not TOML).
fn refuses_matrix_edit(old: &str, new: &str, at: &str, message: &str) {
    let csv = replace_once(&matrix(), old, new);
    refuses_matrix(&csv, at, message);
}

fn refuses_matrix(csv: &str, at: &str, message: &str) {
    let (line, _) = position(csv, at);
    let want = Want {
        file: "ots-trade-2024.csv".into(),
        line: Some(line),
        col: Some(1),
        key: None,
        message: message.into(),
    };
    rejects(
        &[("s.toml", &baseline()), ("ots-trade-2024.csv", csv)],
        "s.toml",
        want,
        true,
    );
}

/// `kervan ARGS` in a folder holding the valid baseline ("s.toml") and its matrix: refused with
/// exit code 2, the first line of stderr starting with `first`, and nothing written.
fn refuses_command(args: &[&str], first: &str) {
    let dir = scratch(&[("s.toml", &baseline()), ("ots-trade-2024.csv", &matrix())]);
    let o = kervan(dir.path(), args);
    let err = stderr(&o);
    let what = args.join(" ");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code 2 expected\n{err}"
    );
    assert!(!err.contains("panicked"), "{what}: panicked\n{err}");
    let line = err.lines().next().unwrap_or_default();
    assert!(
        line.starts_with(first),
        "{what}: expected the first line to start with\n  {first}\ngot\n  {line}"
    );
    assert_nothing_written(dir.path(), "out");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read scratch dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["ots-trade-2024.csv", "s.toml"],
        "{what}: wrote files"
    );
}

/// `refuses_command` for `kervan run s.toml --out out --quiet EXTRA`.
fn refuses_run_with(extra: &[&str], first: &str) {
    let mut args = vec!["run", "s.toml", "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    refuses_command(&args, first);
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

// --- TOML syntax: the parser refuses the file; the line is what matters.

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
fn unclosed_string() {
    let text = edited("name = \"ots-baseline\"", "name = \"ots-baseline");
    let want = Want::syntax(
        "s.toml",
        &text,
        "name = \"ots-baseline\n",
        "invalid basic string",
    );
    rejects_s(&text, want, true);
}

#[test]
fn unclosed_multi_line_string() {
    let text = edited("Hours and holidays: §6.\"\"\"", "Hours and holidays: §6.");
    // The string runs to the end of the file, where the parser gives up.
    let (line, _) = position_at(&text, text.len());
    let want = Want {
        line: Some(line),
        ..Want::syntax("s.toml", &text, "", "invalid multi-line basic string")
    };
    rejects_s(&text, want, false);
}

#[test]
fn bad_escape_in_a_string() {
    let text = edited("name = \"ots-baseline\"", "name = \"ots\\q-baseline\"");
    let want = Want::syntax("s.toml", &text, "\\q", "missing escaped value");
    rejects_s(&text, want, true);
}

#[test]
fn control_character_in_a_string() {
    let text = edited("name = \"ots-baseline\"", "name = \"ots\u{0}baseline\"");
    let want = Want::syntax("s.toml", &text, "\u{0}", "invalid basic string");
    rejects_s(&text, want, false);
}

#[test]
fn duplicate_key() {
    let text = edited("\ndays = 365", "\ndays = 365\ndays = 366");
    // The second assignment is the mistake; the parser points at its key.
    let (line, col) = position(&text, "days = 366");
    let want = Want {
        col: Some(col),
        line: Some(line),
        ..Want::syntax("s.toml", &text, "days = 366", "duplicate key")
    };
    rejects_s(&text, want, true);
}

#[test]
fn table_defined_twice() {
    let text = baseline() + "\n[scenario]\nname = \"again\"\n";
    let at = text.rfind("[scenario]").expect("second [scenario]");
    let (line, _) = position_at(&text, at);
    let want = Want {
        line: Some(line),
        ..Want::syntax("s.toml", &text, "[scenario]", "duplicate key")
    };
    rejects_s(&text, want, true);
}

#[test]
fn array_of_tables_redefined_as_a_table() {
    let text = edited("[[member]]\ncode = \"UZ\"", "[member]\ncode = \"UZ\"");
    let want = Want::syntax("s.toml", &text, "[member]\n", "duplicate key");
    rejects_s(&text, want, false);
}

#[test]
fn unquoted_string_value() {
    let text = edited("regime = \"peg\"", "regime = peg");
    let (line, col) = position(&text, "peg\n");
    let want = Want {
        line: Some(line),
        col: Some(col),
        ..Want::syntax("s.toml", &text, "peg\n", "string values must be quoted")
    };
    rejects_s(&text, want, false);
}

#[test]
fn impossible_date() {
    let text = edited("start = 2025-01-01", "start = 2025-02-30");
    let want = Want::syntax("s.toml", &text, "start = 2025-02-30", "invalid date");
    rejects_s(&text, want, true);
}

// --- Unknown and missing keys.

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

// --- Types: a value of the wrong kind names the key that holds it.

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
        "processing_min = { median = 15,",
        "processing_min = { median = \"15\",",
    );
    let want = Want::in_s(
        &text,
        "median = \"15\"",
        "rail[swift-usd].processing_min.median",
        "invalid type: string \"15\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn bool_where_a_string_is_expected() {
    refuses_edit(
        "time_zone = \"Asia/Baku\"",
        "time_zone = true",
        "time_zone = true",
        "member[AZ].time_zone",
        "invalid type: boolean `true`, expected a string",
    );
}

#[test]
fn bool_where_a_string_is_expected_inside_a_rail() {
    refuses_edit(
        "settlement_currency = \"USD\"",
        "settlement_currency = false",
        "settlement_currency = false",
        "rail[swift-usd].settlement_currency",
        "invalid type: boolean `false`, expected a string",
    );
}

#[test]
fn bool_where_a_number_is_expected() {
    refuses_edit(
        "mid_per_usd = \"1.70\"",
        "mid_per_usd = true",
        "mid_per_usd = true",
        "currency[AZN].mid_per_usd",
        "expected a number (integer, float or a string such as \"12.50\")",
    );
}

#[test]
fn integer_where_a_date_is_expected() {
    refuses_edit(
        "start = 2025-01-01",
        "start = 20250101",
        "start = 20250101",
        "scenario.start",
        "invalid type: integer `20250101`, expected a TOML datetime",
    );
}

#[test]
fn quoted_date() {
    refuses_edit(
        "start = 2025-01-01",
        "start = \"2025-01-01\"",
        "start = \"2025-01-01\"",
        "scenario.start",
        "invalid type: string \"2025-01-01\", expected a TOML datetime",
    );
}

#[test]
fn date_time_where_a_date_is_expected() {
    refuses_edit(
        "start = 2025-01-01",
        "start = 2025-01-01T09:00:00Z",
        "start = 2025-01-01T09",
        "scenario.start",
        "expected a date such as 2025-01-01, got 2025-01-01T09:00:00Z",
    );
}

#[test]
fn string_where_a_bool_is_expected() {
    let text = baseline() + "\n[output]\npayments = \"yes\"\n";
    let want = Want::in_s(
        &text,
        "payments = \"yes\"",
        "output.payments",
        "invalid type: string \"yes\", expected a boolean",
    );
    rejects_s(&text, want, true);
}

#[test]
fn table_where_a_number_is_expected() {
    refuses_edit(
        "rho = 0.15",
        "rho = { value = 0.15 }",
        "rho = { value",
        "fx.correlation[TRY/KZT].rho",
        "invalid type: map, expected f64",
    );
}

#[test]
fn float_where_an_integer_is_expected() {
    refuses_edit(
        "minor_units = 2\nmid_per_usd = \"1.70\"",
        "minor_units = 2.5\nmid_per_usd = \"1.70\"",
        "minor_units = 2.5",
        "currency[AZN].minor_units",
        "invalid type: floating point `2.5`, expected u32",
    );
}

#[test]
fn string_where_an_array_is_expected() {
    refuses_edit(
        "growth_pa = 0.0 ",
        "growth_pa = 0.0\nhours = \"09:00-18:00\"",
        "hours = \"09:00-18:00\"",
        "trade.hours",
        "invalid type: string \"09:00-18:00\", expected a sequence",
    );
}

#[test]
fn array_where_a_string_is_expected() {
    refuses_edit(
        "holidays = \"KG\"",
        "holidays = [\"KG\"]",
        "holidays = [\"KG\"]",
        "member[KG].holidays",
        "invalid type: sequence, expected a string",
    );
}

#[test]
fn table_where_an_array_is_expected() {
    refuses_edit(
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "rails = { rail = \"swift-usd\", share = 1.0 }",
        "rails = { rail",
        "route[*].rails",
        "invalid type: map, expected a sequence",
    );
}

#[test]
fn wrong_type_in_an_array_names_the_element() {
    refuses_edit(
        "values = [0, 1, 2, 3]",
        "values = [\"0\", 1, 2, 3]",
        "\"0\", 1, 2, 3]",
        "rail[swift-usd].intermediaries.values[0]",
        "invalid type: string \"0\", expected f64",
    );
}

#[test]
fn integer_where_a_rail_kind_is_expected() {
    refuses_edit(
        "kind = \"correspondent\"",
        "kind = 3",
        "kind = 3",
        "rail[swift-usd].kind",
        "invalid type: integer `3`, expected variant identifier",
    );
}

#[test]
fn negative_count() {
    refuses_edit(
        "\ndays = 365",
        "\ndays = -1",
        "days = -1",
        "scenario.days",
        "invalid value: integer `-1`, expected u32",
    );
}

#[test]
fn count_beyond_its_type() {
    refuses_edit(
        "replications = 1 ",
        "replications = 4294967296 ",
        "replications = 4294967296",
        "scenario.replications",
        "invalid value: integer `4294967296`, expected u32",
    );
}

// --- Ranges: numbers outside what they may be (negative, zero, NaN, infinite, too large).

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
        "must be at most 1e18 in size",
    );
    rejects_s(&text, want, true);
}

#[test]
fn zero_days() {
    refuses_edit(
        "\ndays = 365",
        "\ndays = 0",
        "days = 0",
        "scenario.days",
        "must be between 1 and 3660, got 0",
    );
}

#[test]
fn too_many_days() {
    refuses_edit(
        "\ndays = 365",
        "\ndays = 100000",
        "days = 100000",
        "scenario.days",
        "must be between 1 and 3660, got 100000",
    );
}

#[test]
fn zero_replications() {
    refuses_edit(
        "replications = 1 ",
        "replications = 0 ",
        "replications = 0",
        "scenario.replications",
        "must be between 1 and 100000, got 0",
    );
}

#[test]
fn too_many_drain_days() {
    refuses_edit(
        "drain_days = 30",
        "drain_days = 999",
        "drain_days = 999",
        "scenario.drain_days",
        "must be at most 366, got 999",
    );
}

#[test]
fn zero_event_limit() {
    refuses_edit(
        "\ndays = 365",
        "\ndays = 365\nmax_events = 0",
        "max_events = 0",
        "scenario.max_events",
        "must be positive",
    );
}

#[test]
fn empty_scenario_name() {
    refuses_edit(
        "name = \"ots-baseline\"",
        "name = \"  \"",
        "name = \"  \"",
        "scenario.name",
        "must not be empty",
    );
}

#[test]
fn probability_above_one() {
    refuses_edit(
        "hold_probability = 0.03",
        "hold_probability = 1.5",
        "hold_probability = 1.5",
        "rail[swift-usd].hold_probability",
        "must be a probability in [0, 1], got 1.5",
    );
}

#[test]
fn negative_probability() {
    refuses_edit(
        "return_probability = 0.003",
        "return_probability = -0.003",
        "return_probability = -0.003",
        "rail[swift-usd].return_probability",
        "must be a probability in [0, 1], got -0.003",
    );
}

#[test]
fn nan_probability() {
    refuses_edit(
        "hold_probability = 0.03",
        "hold_probability = nan",
        "hold_probability = nan",
        "rail[swift-usd].hold_probability",
        "must be a probability in [0, 1], got NaN",
    );
}

#[test]
fn infinite_fee() {
    refuses_edit(
        "min_usd = 35,",
        "min_usd = inf,",
        "min_usd = inf",
        "rail[swift-usd].originator_fee.min_usd",
        "must be a finite number, got inf",
    );
}

#[test]
fn fee_cap_below_its_floor() {
    refuses_edit(
        "max_usd = 300 }",
        "max_usd = 30 }",
        "max_usd = 30 }",
        "rail[swift-usd].originator_fee.max_usd",
        "is below min_usd (30 < 35)",
    );
}

#[test]
fn negative_infinite_volatility() {
    refuses_edit(
        "vol_pa = 0.088",
        "vol_pa = -inf",
        "vol_pa = -inf",
        "currency[KZT].vol_pa",
        "must be a finite number, got -inf",
    );
}

#[test]
fn nan_liquidity_cost() {
    refuses_edit(
        "liquidity_cost_pa = 0.45",
        "liquidity_cost_pa = nan",
        "liquidity_cost_pa = nan",
        "currency[TRY].liquidity_cost_pa",
        "must be a finite number, got NaN",
    );
}

#[test]
fn negative_spread() {
    refuses_edit(
        "usd_half_spread_bps = 4 ",
        "usd_half_spread_bps = -4 ",
        "usd_half_spread_bps = -4",
        "currency[TRY].usd_half_spread_bps",
        "must be at least 0, got -4",
    );
}

#[test]
fn drift_out_of_range() {
    refuses_edit(
        "drift_pa = 0.17",
        "drift_pa = 6",
        "drift_pa = 6",
        "currency[TRY].drift_pa",
        "must be a finite annual drift within ±5, got 6",
    );
}

#[test]
fn dollar_carry_rate_missing() {
    // No balance is free: a scenario must say what a dollar costs to hold.
    refuses_edit(
        "usd_liquidity_cost_pa = 0.0433",
        "cross_multiplier_x = 1",
        "cross_multiplier_x",
        "fx.cross_multiplier_x",
        "unknown field",
    );
    let text = edited("usd_liquidity_cost_pa = 0.0433", "");
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "fx]\ntick_h",
            "fx.usd_liquidity_cost_pa",
            "required: the carry rate of dollar balances a year",
        ),
        true,
    );
}

#[test]
fn beneficiary_hours_out_of_order() {
    refuses_edit(
        "beneficiary_hours = [\"08:00\", \"22:00\"]",
        "beneficiary_hours = [\"22:00\", \"08:00\"]",
        "\"08:00\"]",
        "rail[swift-usd].beneficiary_hours[1]",
        "must be after the opening time",
    );
    refuses_edit(
        "beneficiary_hours = [\"08:00\", \"22:00\"]",
        "beneficiary_hours = [\"08:00\"]",
        "beneficiary_hours = [\"08:00\"]",
        "rail[swift-usd].beneficiary_hours",
        "expected two local times [open, close]",
    );
}

#[test]
fn drift_on_a_peg() {
    // A peg holds its level; before, a drift there was silently ignored.
    refuses_edit(
        "band_pct = 0.002 ",
        "drift_pa = 0.05\nband_pct = 0.002 ",
        "drift_pa = 0.05",
        "currency[AZN].drift_pa",
        "a peg holds its level, so it takes no drift (got 0.05)",
    );
}

#[test]
fn spread_widening_out_of_range() {
    refuses_edit(
        "spread_vol_elasticity = 1.0",
        "spread_vol_elasticity = -1",
        "spread_vol_elasticity",
        "fx.spread_vol_elasticity",
        "must be between 0 (off) and 4, got -1",
    );
    refuses_edit(
        "cross_multiplier = 2.0 ",
        "cross_multiplier = 2.0\nspread_vol_halflife_h = 0\n",
        "spread_vol_halflife_h",
        "fx.spread_vol_halflife_h",
        "must be between 1 and 8760 hours, got 0",
    );
    refuses_edit(
        "cross_multiplier = 2.0 ",
        "cross_multiplier = 2.0\nspread_vol_max_multiplier = 0.5\n",
        "spread_vol_max_multiplier",
        "fx.spread_vol_max_multiplier",
        "must be between 1 (never wider) and 100, got 0.5",
    );
}

#[test]
fn jump_that_wipes_out_the_currency() {
    refuses_edit(
        "jump_mean = 0.40",
        "jump_mean = -1",
        "jump_mean = -1",
        "currency[AZN].jump_mean",
        "must be a finite fraction above -0.95, got -1",
    );
}

#[test]
fn too_many_minor_units() {
    refuses_edit(
        "minor_units = 2\nmid_per_usd = \"1.70\"",
        "minor_units = 9\nmid_per_usd = \"1.70\"",
        "minor_units = 9",
        "currency[AZN].minor_units",
        "must be at most 8, got 9",
    );
}

#[test]
fn zero_exchange_rate() {
    refuses_edit(
        "mid_per_usd = \"1.70\"",
        "mid_per_usd = 0",
        "mid_per_usd = 0",
        "currency[AZN].mid_per_usd",
        "must be positive, got 0",
    );
}

#[test]
fn exchange_rate_with_a_decimal_comma() {
    refuses_edit(
        "mid_per_usd = \"1.70\"",
        "mid_per_usd = \"1,70\"",
        "mid_per_usd = \"1,70\"",
        "currency[AZN].mid_per_usd",
        "expected a decimal number such as 1250.50",
    );
}

#[test]
fn correlation_above_one() {
    refuses_edit(
        "rho = 0.15",
        "rho = 1.5",
        "rho = 1.5",
        "fx.correlation[TRY/KZT].rho",
        "must lie in [-1, 1], got 1.5",
    );
}

#[test]
fn nan_correlation() {
    refuses_edit(
        "rho = 0.15",
        "rho = nan",
        "rho = nan",
        "fx.correlation[TRY/KZT].rho",
        "must lie in [-1, 1], got NaN",
    );
}

#[test]
fn zero_rate_tick() {
    refuses_edit(
        "tick_h = 1 ",
        "tick_h = 0 ",
        "tick_h = 0",
        "fx.tick_h",
        "must be between 1 and 24 hours, got 0",
    );
}

#[test]
fn zero_sampling_interval() {
    refuses_edit(
        "sample_h = 24",
        "sample_h = 0",
        "sample_h = 0",
        "fx.sample_h",
        "must be at least 1 hour",
    );
}

#[test]
fn negative_cross_multiplier() {
    refuses_edit(
        "cross_multiplier = 2.0",
        "cross_multiplier = -2.0",
        "cross_multiplier = -2.0",
        "fx.cross_multiplier",
        "must be at least 0, got -2",
    );
}

#[test]
fn size_bands_out_of_order() {
    refuses_edit(
        "up_to_usd = 100000\n",
        "up_to_usd = 1000\n",
        "up_to_usd = 1000\n",
        "fx.size_curve[1].up_to_usd",
        "bands must be in ascending order of up_to_usd",
    );
}

#[test]
fn zero_depth_window() {
    refuses_edit(
        "window_days = 30",
        "window_days = 0",
        "window_days = 0",
        "fx.depth.window_days",
        "must be between 1 and 366, got 0",
    );
}

#[test]
fn depth_that_widens_below_the_base_spread() {
    refuses_edit(
        "max_multiplier = 1.0",
        "max_multiplier = 0.5",
        "max_multiplier = 0.5",
        "fx.depth.max_multiplier",
        "must be at least 1, got 0.5",
    );
}

#[test]
fn zero_depth_reference() {
    refuses_edit(
        "reference_usd_per_day = 20000000",
        "reference_usd_per_day = 0",
        "reference_usd_per_day = 0",
        "fx.depth.reference_usd_per_day",
        "must be a positive finite number, got 0",
    );
}

#[test]
fn zero_median_invoice() {
    refuses_edit(
        "median_usd = 40000,",
        "median_usd = 0,",
        "median_usd = 0,",
        "trade.size.median_usd",
        "must be a positive finite number, got 0",
    );
}

#[test]
fn zero_invoice_cap() {
    refuses_edit(
        "max_usd = 50000000 }",
        "max_usd = 0 }",
        "max_usd = 0 }",
        "trade.size.max_usd",
        "must be a positive finite number, got 0",
    );
}

#[test]
fn negative_trade_scale() {
    refuses_edit(
        "growth_pa = 0.0",
        "growth_pa = 0.0\nscale = -1",
        "scale = -1",
        "trade.scale",
        "must be at least 0, got -1",
    );
}

#[test]
fn trade_that_shrinks_to_nothing() {
    refuses_edit(
        "growth_pa = 0.0",
        "growth_pa = -1.0",
        "growth_pa = -1.0",
        "trade.growth_pa",
        "must be a finite rate above -1, got -1",
    );
}

#[test]
fn negative_payment_terms() {
    refuses_edit(
        "values = [0, 30, 60, 90]",
        "values = [0, -30, 60, 90]",
        "values = [0, -30",
        "trade.terms_days.values",
        "must be at least 0, got -30",
    );
}

#[test]
fn negative_delay() {
    refuses_edit(
        "hold_h = { median = 6,",
        "hold_h = { median = -6,",
        "median = -6",
        "rail[swift-usd].hold_h.median",
        "must be at least 0, got -6",
    );
}

#[test]
fn negative_route_share() {
    refuses_edit(
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "rails = [{ rail = \"swift-usd\", share = -1.0 }]",
        "share = -1.0",
        "route[*].rails[0].share",
        "must be a probability in [0, 1], got -1",
    );
}

// --- Shares, weights and distributions.

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
fn weights_all_zero() {
    refuses_edit(
        "weights = [0.06, 0.80, 0.09, 0.05]",
        "weights = [0, 0, 0, 0]",
        "weights = [0, 0",
        "rail[swift-usd].intermediaries.weights",
        "weights must not all be zero",
    );
}

#[test]
fn negative_weight() {
    refuses_edit(
        "weights = [0.06, 0.80, 0.09, 0.05]",
        "weights = [0.06, -0.80, 0.09, 0.05]",
        "weights = [0.06, -0.80",
        "rail[swift-usd].intermediaries.weights",
        "must be at least 0, got -0.8",
    );
}

#[test]
fn values_and_weights_of_different_lengths() {
    refuses_edit(
        "weights = [0.06, 0.80, 0.09, 0.05]",
        "weights = [0.06, 0.80, 0.09]",
        "intermediaries = {",
        "rail[swift-usd].intermediaries",
        "`values` and `weights` must be non-empty and of equal length (4 vs 3)",
    );
}

#[test]
fn empty_distribution() {
    refuses_edit(
        "terms_days = { values = [0, 30, 60, 90], weights = [0.3, 0.4, 0.2, 0.1] }",
        "terms_days = { values = [], weights = [] }",
        "terms_days = {",
        "trade.terms_days",
        "must be non-empty and of equal length (0 vs 0)",
    );
}

#[test]
fn fractional_intermediary_count() {
    refuses_edit(
        "values = [0, 1, 2, 3]",
        "values = [0, 1.5, 2, 3]",
        "values = [0, 1.5",
        "rail[swift-usd].intermediaries.values",
        "must be whole numbers from 0 to 8, got 1.5",
    );
}

#[test]
fn too_many_intermediaries() {
    refuses_edit(
        "values = [0, 1, 2, 3]",
        "values = [0, 1, 2, 9]",
        "values = [0, 1, 2, 9]",
        "rail[swift-usd].intermediaries.values",
        "must be whole numbers from 0 to 8, got 9",
    );
}

#[test]
fn unknown_size_distribution() {
    refuses_edit(
        "distribution = \"lognormal\"",
        "distribution = \"normal\"",
        "distribution = \"normal\"",
        "trade.size.distribution",
        "expected \"lognormal\" or \"pareto\", got \"normal\"",
    );
}

#[test]
fn lognormal_without_sigma() {
    refuses_edit(
        ", sigma = 1.6,",
        ",",
        "size = {",
        "trade.size.sigma",
        "`sigma` is required for the lognormal distribution",
    );
}

#[test]
fn pareto_without_a_finite_mean() {
    refuses_edit(
        "distribution = \"lognormal\", median_usd = 40000, sigma = 1.6,",
        "distribution = \"pareto\", min_usd = 1000, alpha = 1.0,",
        "alpha = 1.0",
        "trade.size.alpha",
        "must be above 1 (a finite mean), got 1",
    );
}

#[test]
fn charge_bearer_share_above_one() {
    refuses_edit(
        "charge_bearer = { our = 0.3, sha = 0.6, ben = 0.1 }",
        "charge_bearer = { our = 1.3, sha = -0.4, ben = 0.1 }",
        "our = 1.3",
        "trade.charge_bearer.our",
        "must be a probability in [0, 1], got 1.3",
    );
}

#[test]
fn two_invoice_currency_rules_for_one_corridor() {
    let text = edited(
        "[[trade.invoice_currency]]\ncorridor = \"*\"",
        "[[trade.invoice_currency]]\ncorridor = \"*\"\nusd = 1.0\n[[trade.invoice_currency]]\ncorridor = \"*\"",
    );
    let at = text
        .rfind("[[trade.invoice_currency]]\ncorridor = \"*\"")
        .expect("second rule")
        + "[[trade.invoice_currency]]\n".len();
    let (line, col) = position_at(&text, at);
    let want = Want {
        line: Some(line),
        col: Some(col),
        ..Want::in_s(
            &text,
            "corridor",
            "trade.invoice_currency[*].corridor",
            "corridor \"*\" has two invoice-currency rules",
        )
    };
    rejects_s(&text, want, true);
}

#[test]
fn negative_size_multiplier() {
    refuses_edit(
        "multiplier = 1.5 ",
        "multiplier = -1.5 ",
        "multiplier = -1.5",
        "fx.size_curve[3].multiplier",
        "must be at least 0, got -1.5",
    );
}

// --- References: members, currencies, rails and corridors that do not exist or are declared twice.

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

/// The baseline with one more `[[route]]`, for `corridor`, through the dollar chain.
fn with_route(corridor: &str) -> String {
    baseline()
        + &format!(
            "\n[[route]]\ncorridor = \"{corridor}\"\nrails = [{{ rail = \"swift-usd\", share = 1.0 }}]\n"
        )
}

#[test]
fn unknown_exporter_in_a_route_corridor() {
    let text = with_route("XX->TR");
    let want = Want::in_s(
        &text,
        "corridor = \"XX->TR\"",
        "route[XX->TR].corridor",
        "unknown member \"XX\" in corridor \"XX->TR\"",
    );
    rejects_s(&text, want, true);
}

#[test]
fn lower_case_member_in_a_route_corridor() {
    let text = with_route("tr->AZ");
    let want = Want::in_s(
        &text,
        "corridor = \"tr->AZ\"",
        "route[tr->AZ].corridor",
        "unknown member \"tr\" in corridor \"tr->AZ\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn route_corridor_from_a_member_to_itself() {
    let text = with_route("TR->TR");
    let want = Want::in_s(
        &text,
        "corridor = \"TR->TR\"",
        "route[TR->TR].corridor",
        "corridor \"TR->TR\" joins a member to itself",
    );
    rejects_s(&text, want, false);
}

#[test]
fn route_corridor_without_an_arrow() {
    let text = with_route("TR-AZ");
    let want = Want::in_s(
        &text,
        "corridor = \"TR-AZ\"",
        "route[TR-AZ].corridor",
        "expected a corridor \"EXPORTER->IMPORTER\" such as \"TR->AZ\", or \"*\"; got \"TR-AZ\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn two_routes_for_one_corridor() {
    let text = with_route("*");
    let want = Want::last_in_s(
        &text,
        "corridor = \"*\"",
        "route[*].corridor",
        "corridor \"*\" has two routes",
    );
    rejects_s(&text, want, true);
}

#[test]
fn route_without_rails() {
    refuses_edit(
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "rails = []",
        "rails = []",
        "route[*].rails",
        "list at least one rail",
    );
}

#[test]
fn fallback_naming_an_unknown_rail() {
    refuses_edit(
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]",
        "rails = [{ rail = \"swift-usd\", share = 1.0 }]\nfallback = [\"swift-eur\"]",
        "\"swift-eur\"",
        "route[*].fallback[0]",
        "unknown rail \"swift-eur\" (declared: swift-usd)",
    );
}

#[test]
fn corridor_with_trade_but_no_route() {
    refuses_edit(
        "[[route]]\ncorridor = \"*\"",
        "[[route]]\ncorridor = \"TR->AZ\"",
        "route]]",
        "route",
        "corridor AZ->TR has trade but no route: add a [[route]] for \"AZ->TR\" or \"*\"",
    );
}

#[test]
fn unknown_rail_kind_in_a_design() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "kind = \"swap_line\"",
        "kind = \"swapline\"",
        "kind = \"swapline\"",
        "rail[swap-tr-kz].kind",
        "unknown variant `swapline`",
    );
}

#[test]
fn duplicate_member_code() {
    refuses_edit(
        "code = \"KG\"\nname = \"Kyrgyzstan\"",
        "code = \"KZ\"\nname = \"Kyrgyzstan\"",
        "code = \"KZ\"\nname = \"Kyrgyzstan\"",
        "member[KZ].code",
        "member KZ is declared twice",
    );
}

#[test]
fn duplicate_currency() {
    let text = edited("code = \"KGS\"", "code = \"KZT\"");
    let want = Want::last_in_s(
        &text,
        "code = \"KZT\"",
        "currency[KZT].code",
        "currency KZT is declared twice",
    );
    rejects_s(&text, want, true);
}

#[test]
fn malformed_member_code() {
    refuses_edit(
        "code = \"KG\"\nname = \"Kyrgyzstan\"",
        "code = \"kg\"\nname = \"Kyrgyzstan\"",
        "code = \"kg\"",
        "member[kg].code",
        "expected an ISO 3166 code of two capital letters, got \"kg\"",
    );
}

#[test]
fn malformed_currency_code() {
    refuses_edit(
        "code = \"KGS\"",
        "code = \"KGSS\"",
        "code = \"KGSS\"",
        "currency[KGSS].code",
        "expected an ISO 4217 code of three capital letters, got \"KGSS\"",
    );
}

#[test]
fn declaring_the_dollar() {
    refuses_edit(
        "code = \"KGS\"",
        "code = \"USD\"",
        "code = \"USD\"",
        "currency[USD].code",
        "USD is built in (the numeraire); do not declare it",
    );
}

#[test]
fn member_whose_currency_is_the_dollar() {
    refuses_edit(
        "currency = \"AZN\"",
        "currency = \"USD\"",
        "currency = \"USD\"",
        "member[AZ].currency",
        "unknown currency \"USD\": declare it in a [[currency]] table",
    );
}

#[test]
fn unknown_settlement_currency() {
    refuses_edit(
        "settlement_currency = \"USD\"",
        "settlement_currency = \"EUR\"",
        "settlement_currency = \"EUR\"",
        "rail[swift-usd].settlement_currency",
        "unknown currency \"EUR\"",
    );
}

#[test]
fn unknown_currency_in_a_correlation() {
    refuses_edit(
        "pair = \"TRY/KZT\"",
        "pair = \"TRY/EUR\"",
        "pair = \"TRY/EUR\"",
        "fx.correlation[TRY/EUR].pair",
        "unknown currency \"EUR\" in pair \"TRY/EUR\"",
    );
}

#[test]
fn correlation_with_the_dollar() {
    refuses_edit(
        "pair = \"TRY/KZT\"",
        "pair = \"TRY/USD\"",
        "pair = \"TRY/USD\"",
        "fx.correlation[TRY/USD].pair",
        "correlations are between non-USD currencies",
    );
}

#[test]
fn correlation_of_a_currency_with_itself() {
    refuses_edit(
        "pair = \"TRY/KZT\"",
        "pair = \"TRY/TRY\"",
        "pair = \"TRY/TRY\"",
        "fx.correlation[TRY/TRY].pair",
        "pair \"TRY/TRY\" names the same currency twice",
    );
}

#[test]
fn unknown_currency_in_a_cross_spread() {
    refuses_edit(
        "cross_multiplier = 2.0 ",
        "cross_multiplier = 2.0 \ncross = [{ pair = \"TRY/EUR\", half_spread_bps = 5 }]",
        "pair = \"TRY/EUR\"",
        "fx.cross[TRY/EUR].pair",
        "unknown currency \"EUR\" in pair \"TRY/EUR\"",
    );
}

#[test]
fn unknown_member_in_an_invoice_currency_rule() {
    refuses_edit(
        "corridor = \"*\"\nusd = 0.8",
        "corridor = \"TR->ZZ\"\nusd = 0.8",
        "corridor = \"TR->ZZ\"",
        "trade.invoice_currency[TR->ZZ].corridor",
        "unknown member \"ZZ\" in corridor \"TR->ZZ\"",
    );
}

#[test]
fn unknown_holiday_set() {
    refuses_edit(
        "holidays = \"KG\"",
        "holidays = \"XX\"",
        "holidays = \"XX\"",
        "member[KG].holidays",
        "unknown holiday set \"XX\" (bundled: TR, AZ, KZ, KG, UZ, TM, HU, US, or \"none\")",
    );
}

#[test]
fn unknown_exchange_rate_regime() {
    refuses_edit(
        "regime = \"peg\"",
        "regime = \"pegged\"",
        "regime = \"pegged\"",
        "currency[AZN].regime",
        "expected \"float\", \"crawl\" or \"peg\", got \"pegged\"",
    );
}

#[test]
fn a_single_member() {
    // Everything from the second [[member]] to the first [[currency]] goes.
    let base = baseline();
    let second = base.find("[[member]]\ncode = \"AZ\"").expect("AZ");
    let currencies = base.find("[[currency]]").expect("currencies");
    let text = format!("{}{}", &base[..second], &base[currencies..]);
    let want = Want::in_s(
        &text,
        "member]]",
        "member",
        "at least two members are needed, got 1",
    );
    rejects_s(&text, want, true);
}

// --- Explicit payments ([[trade.payment]]).

/// The baseline with one explicit `[[trade.payment]]` of these fields (TOML values).
fn with_payment(at: &str, exporter: &str, importer: &str, amount: &str, extra: &str) -> String {
    baseline()
        + &format!(
            "\n[[trade.payment]]\nat = {at}\nexporter = \"{exporter}\"\nimporter = \"{importer}\"\namount = {amount}\ncurrency = \"USD\"\n{extra}"
        )
}

#[test]
fn explicit_payment_outside_the_simulated_days() {
    let text = with_payment("2026-06-01T09:00:00Z", "TR", "AZ", "1000", "");
    let want = Want::in_s(
        &text,
        "at = 2026",
        "trade.payment[0].at",
        "2026-06-01T09:00:00Z lies outside the simulated days",
    );
    rejects_s(&text, want, true);
}

#[test]
fn explicit_payment_at_a_time_without_a_date() {
    let text = with_payment("09:00:00", "TR", "AZ", "1000", "");
    let want = Want::in_s(
        &text,
        "at = 09:00:00",
        "trade.payment[0].at",
        "expected an instant such as 2025-01-06T09:00:00Z, got 09:00:00",
    );
    rejects_s(&text, want, false);
}

#[test]
fn explicit_payment_from_an_unknown_member() {
    let text = with_payment("2025-01-06T09:00:00Z", "XX", "AZ", "1000", "");
    let want = Want::in_s(
        &text,
        "exporter = \"XX\"",
        "trade.payment[0].exporter",
        "unknown member \"XX\"",
    );
    rejects_s(&text, want, false);
}

#[test]
fn explicit_payment_to_its_payer() {
    let text = with_payment("2025-01-06T09:00:00Z", "TR", "TR", "1000", "");
    let want = Want::in_s(
        &text,
        "importer = \"TR\"",
        "trade.payment[0].importer",
        "exporter and importer must differ",
    );
    rejects_s(&text, want, false);
}

#[test]
fn explicit_payment_with_fractions_of_a_cent() {
    let text = with_payment("2025-01-06T09:00:00Z", "TR", "AZ", "\"1000.005\"", "");
    let want = Want::in_s(
        &text,
        "amount = \"1000.005\"",
        "trade.payment[0].amount",
        "1000.005 has more decimals than USD allows (2)",
    );
    rejects_s(&text, want, true);
}

#[test]
fn explicit_payment_of_nothing() {
    let text = with_payment("2025-01-06T09:00:00Z", "TR", "AZ", "0", "");
    let want = Want::in_s(
        &text,
        "amount = 0",
        "trade.payment[0].amount",
        "must be positive, got 0",
    );
    rejects_s(&text, want, false);
}

#[test]
fn explicit_payment_with_an_unknown_charge_bearer() {
    let text = with_payment(
        "2025-01-06T09:00:00Z",
        "TR",
        "AZ",
        "100",
        "charge_bearer = \"ALL\"\n",
    );
    let want = Want::in_s(
        &text,
        "charge_bearer = \"ALL\"",
        "trade.payment[0].charge_bearer",
        "expected \"OUR\", \"SHA\" or \"BEN\", got \"ALL\"",
    );
    rejects_s(&text, want, false);
}

// --- Each rail kind's own parameters.

// Correspondent (ots-baseline's dollar chain).

#[test]
fn compliance_holds_without_a_duration() {
    refuses_edit(
        "hold_h = { median = 6, sigma = 1.0 }\n",
        "",
        "[[rail]]",
        "rail[swift-usd].hold_h",
        "is required when hold_probability is above 0",
    );
}

#[test]
fn hop_calendar_cut_off_at_its_opening() {
    refuses_edit(
        "open = \"21:00\", cutoff = \"18:00\"",
        "open = \"18:00\", cutoff = \"18:00\"",
        "cutoff = \"18:00\"",
        "rail[swift-usd].hop_calendar.cutoff",
        "the cut-off must differ from the opening",
    );
}

#[test]
fn hop_calendar_with_a_bad_time() {
    refuses_edit(
        "cutoff = \"18:00\"",
        "cutoff = \"18:75\"",
        "cutoff = \"18:75\"",
        "rail[swift-usd].hop_calendar.cutoff",
        "expected a local time \"HH:MM\", got \"18:75\"",
    );
}

#[test]
fn hop_calendar_with_an_unknown_time_zone() {
    refuses_edit(
        "time_zone = \"America/New_York\"",
        "time_zone = \"America/NewYork\"",
        "time_zone = \"America/NewYork\"",
        "rail[swift-usd].hop_calendar.time_zone",
        "unknown IANA time zone \"America/NewYork\"",
    );
}

#[test]
fn hop_calendar_with_an_unknown_holiday_set() {
    refuses_edit(
        "holidays = \"US\" }",
        "holidays = \"USA\" }",
        "holidays = \"USA\"",
        "rail[swift-usd].hop_calendar.holidays",
        "unknown holiday set \"USA\"",
    );
}

// Bilateral (ots-local-bilateral).

#[test]
fn bilateral_pair_without_a_dash() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "pairs = [\"*\"] ",
        "pairs = [\"TRAZ\"] ",
        "\"TRAZ\"",
        "rail[local-bilateral].pairs[0]",
        "expected a member pair such as \"TR-AZ\", or \"*\"; got \"TRAZ\"",
    );
}

#[test]
fn bilateral_pair_with_an_unknown_member() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "pairs = [\"*\"] ",
        "pairs = [\"TR-XX\"] ",
        "\"TR-XX\"",
        "rail[local-bilateral].pairs[0]",
        "unknown member \"XX\" in pair \"TR-XX\"",
    );
}

#[test]
fn bilateral_rail_without_pairs() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "pairs = [\"*\"] ",
        "pairs = [] ",
        "pairs = []",
        "rail[local-bilateral].pairs",
        "list at least one member pair, or \"*\"",
    );
}

#[test]
fn bilateral_top_up_threshold_above_one() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "topup_threshold = 0.3",
        "topup_threshold = 2",
        "topup_threshold = 2",
        "rail[local-bilateral].topup_threshold",
        "must be a probability in [0, 1], got 2",
    );
}

#[test]
fn bilateral_negative_nostro() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "nostro_days = 3.0",
        "nostro_days = -3.0",
        "nostro_days = -3.0",
        "rail[local-bilateral].nostro_days",
        "must be at least 0, got -3",
    );
}

#[test]
fn bilateral_unknown_shortfall_policy() {
    refuses_design_edit(
        "ots-local-bilateral.toml",
        "on_short = \"wait\"",
        "on_short = \"panic\"",
        "on_short = \"panic\"",
        "rail[local-bilateral].on_short",
        "expected \"wait\" or \"fallback\", got \"panic\"",
    );
}

// Swap line (ots-swap-tr-kz).

#[test]
fn swap_line_between_three_members() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "members = [\"TR\", \"KZ\"]",
        "members = [\"TR\", \"KZ\", \"AZ\"]",
        "members = [\"TR\", \"KZ\", \"AZ\"]",
        "rail[swap-tr-kz].members",
        "list the two members whose central banks signed the line, e.g. [\"TR\", \"KZ\"]; got 3 member(s)",
    );
}

#[test]
fn swap_line_between_a_member_and_itself() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "members = [\"TR\", \"KZ\"]",
        "members = [\"TR\", \"TR\"]",
        "members = [\"TR\", \"TR\"]",
        "rail[swap-tr-kz].members",
        "the two members must differ",
    );
}

#[test]
fn swap_line_with_an_unknown_member() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "members = [\"TR\", \"KZ\"]",
        "members = [\"TR\", \"XX\"]",
        "members = [\"TR\", \"XX\"]",
        "rail[swap-tr-kz].members",
        "unknown member \"XX\"",
    );
}

#[test]
fn swap_line_limit_in_a_third_currency() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "limit = { TRY = 28e9, KZT = 423e9 }",
        "limit = { TRY = 28e9, KZT = 423e9, AZN = 1e9 }",
        "AZN = 1e9",
        "rail[swap-tr-kz].limit.AZN",
        "the line's limits are in TRY and KZT; \"AZN\" is neither",
    );
}

#[test]
fn swap_line_limit_missing_for_one_side() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "limit = { TRY = 28e9, KZT = 423e9 }",
        "limit = { TRY = 28e9 }",
        "limit = { TRY = 28e9 }",
        "rail[swap-tr-kz].limit",
        "give the limit in KZT, e.g. limit = { TRY = ..., KZT = ... }",
    );
}

#[test]
fn swap_line_zero_limit() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "limit = { TRY = 28e9, KZT = 423e9 }",
        "limit = { TRY = 28e9, KZT = 0 }",
        "KZT = 0 }",
        "rail[swap-tr-kz].limit.KZT",
        "must be positive, got 0",
    );
}

#[test]
fn swap_line_limit_in_words() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "limit = { TRY = 28e9, KZT = 423e9 }",
        "limit = { TRY = \"28 bn\", KZT = 423e9 }",
        "TRY = \"28 bn\"",
        "rail[swap-tr-kz].limit.TRY",
        "expected a decimal number such as 1250.50",
    );
}

#[test]
fn swap_line_rate_misspelt() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "rate = \"spot\"",
        "rate = \"spott\"",
        "rate = \"spott\"",
        "rail[swap-tr-kz].rate",
        "expected KZT per TRY (a positive number) or \"spot\", got \"spott\"",
    );
}

#[test]
fn swap_line_negative_rate() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "rate = \"spot\"",
        "rate = -15.1",
        "rate = -15.1",
        "rail[swap-tr-kz].rate",
        "must be positive, got -15.1",
    );
}

#[test]
fn swap_line_without_a_tenor() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "tenor_days = 1095",
        "tenor_days = 0",
        "tenor_days = 0",
        "rail[swap-tr-kz].tenor_days",
        "must be a positive finite number, got 0",
    );
}

#[test]
fn swap_line_negative_interest() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "margin_bps = 10",
        "margin_bps = 10\ncost_pa = -0.02",
        "cost_pa = -0.02",
        "rail[swap-tr-kz].cost_pa",
        "must not be negative, got -0.02",
    );
}

#[test]
fn swap_line_margin_of_the_whole_amount() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "margin_bps = 10",
        "margin_bps = 10000",
        "margin_bps = 10000",
        "rail[swap-tr-kz].margin_bps",
        "must be below 5000 bps (50 % of the mid), got 10000",
    );
}

#[test]
fn swap_line_unknown_beyond_limit_policy() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "beyond_limit = \"fallback\"",
        "beyond_limit = \"queue\"",
        "beyond_limit = \"queue\"",
        "rail[swap-tr-kz].beyond_limit",
        "expected \"market\" or \"fallback\", got \"queue\"",
    );
}

#[test]
fn swap_line_interest_borne_by_nobody() {
    refuses_design_edit(
        "ots-swap-tr-kz.toml",
        "interest_borne_by = \"payer\"",
        "interest_borne_by = \"exporter\"",
        "interest_borne_by = \"exporter\"",
        "rail[swap-tr-kz].interest_borne_by",
        "expected \"payer\" or \"central_bank\", got \"exporter\"",
    );
}

// Netting (ots-regional-netting).

/// ots-regional-netting with its cycle times replaced by `new`.
fn netting_schedule(new: &str) -> String {
    design(
        "ots-regional-netting.toml",
        "cycle_times = [\"10:30\", \"13:30\"]",
        new,
    )
}

#[test]
fn netting_cycle_at_25_o_clock() {
    let text = netting_schedule("cycle_times = [\"10:30\", \"25:00\"]");
    let want = Want::in_s(
        &text,
        "\"25:00\"",
        "rail[ots-clearing].cycle_times[1]",
        "expected a local time \"HH:MM\", got \"25:00\"",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_cycle_at_midnight_of_the_next_day() {
    let text = netting_schedule("cycle_times = [\"10:30\", \"24:00\"]");
    let want = Want::in_s(
        &text,
        "\"24:00\"",
        "rail[ots-clearing].cycle_times[1]",
        "a cycle time must be before 24:00",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_cycle_listed_twice() {
    let text = netting_schedule("cycle_times = [\"10:30\", \"10:30\"]");
    let at = text.rfind("\"10:30\"").expect("second 10:30");
    let (line, col) = position_at(&text, at);
    let want = Want {
        line: Some(line),
        col: Some(col),
        ..Want::in_s(
            &text,
            "cycle_times",
            "rail[ots-clearing].cycle_times[1]",
            "cycle time \"10:30\" is listed twice",
        )
    };
    rejects_design(&text, want);
}

#[test]
fn netting_without_cycles() {
    let text = netting_schedule("cycle_times = []");
    let want = Want::in_s(
        &text,
        "cycle_times = []",
        "rail[ots-clearing].cycle_times",
        "list at least one cycle time",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_with_no_schedule_at_all() {
    let text = netting_schedule("");
    // Nothing was written: the error points at the rail.
    let want = Want::in_s(
        &text,
        "[[rail]]",
        "rail[ots-clearing].cycle_times",
        "give the cycles: `cycle_times = [\"10:30\", \"13:30\"]`, or `every_h` with `window`",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_with_cycle_times_and_a_period() {
    let text = netting_schedule("cycle_times = [\"10:30\", \"13:30\"]\nevery_h = 2");
    let want = Want::in_s(
        &text,
        "every_h = 2",
        "rail[ots-clearing].every_h",
        "give either `cycle_times` or `every_h` with `window`, not both",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_period_without_a_window() {
    let text = netting_schedule("every_h = 2");
    let want = Want::in_s(
        &text,
        "[[rail]]",
        "rail[ots-clearing].window",
        "`every_h` needs `window = [\"HH:MM\", \"HH:MM\"]` (start, end)",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_period_longer_than_a_day() {
    let text = netting_schedule("every_h = 30\nwindow = [\"09:00\", \"17:00\"]");
    let want = Want::in_s(
        &text,
        "every_h = 30",
        "rail[ots-clearing].every_h",
        "must be between 1 minute and 24 hours, got 30",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_window_that_ends_before_it_starts() {
    let text = netting_schedule("every_h = 2\nwindow = [\"17:00\", \"09:00\"]");
    let want = Want::in_s(
        &text,
        "\"09:00\"]",
        "rail[ots-clearing].window[1]",
        "the window must end no earlier than it starts, within one day",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_window_with_cycle_times() {
    let text =
        netting_schedule("cycle_times = [\"10:30\", \"13:30\"]\nwindow = [\"09:00\", \"17:00\"]");
    let want = Want::in_s(
        &text,
        "window = [",
        "rail[ots-clearing].window",
        "`window` goes with `every_h`, not with `cycle_times`",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_with_one_member() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "members = [\"*\"] ",
        "members = [\"TR\"] ",
        "members = [\"TR\"]",
        "rail[ots-clearing].members",
        "a clearing house needs at least two members",
    );
}

#[test]
fn netting_with_an_unknown_member() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "members = [\"*\"] ",
        "members = [\"TR\", \"XX\"] ",
        "members = [\"TR\", \"XX\"]",
        "rail[ots-clearing].members",
        "unknown member \"XX\"",
    );
}

#[test]
fn netting_with_an_unknown_time_zone() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "time_zone = \"Asia/Almaty\"",
        "time_zone = \"Asia/Almatyy\"",
        "time_zone = \"Asia/Almatyy\"",
        "rail[ots-clearing].time_zone",
        "unknown IANA time zone \"Asia/Almatyy\"",
    );
}

#[test]
fn netting_in_an_unknown_settlement_asset() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"EUR\"",
        "settlement_asset = \"EUR\"",
        "rail[ots-clearing].settlement_asset",
        "unknown currency \"EUR\"",
    );
}

#[test]
fn netting_negative_quota() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\nquota_usd = -1",
        "quota_usd = -1",
        "rail[ots-clearing].quota_usd",
        "must be at least 0, got -1",
    );
}

#[test]
fn netting_quota_in_words() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\nquota_usd = \"lots\"",
        "quota_usd = \"lots\"",
        "rail[ots-clearing].quota_usd",
        "a quota in USD (a number), or a table of quotas by member code",
    );
}

#[test]
fn netting_quota_for_a_member_outside_the_house() {
    let text = replace_once(
        &design(
            "ots-regional-netting.toml",
            "members = [\"*\"] ",
            "members = [\"TR\", \"AZ\"] ",
        ),
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\nquota_usd = { TR = 1000, KZ = 5 }",
    );
    let want = Want::in_s(
        &text,
        "KZ = 5",
        "rail[ots-clearing].quota_usd.KZ",
        "member \"KZ\" does not take part in this clearing house",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_default_of_an_unknown_member() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\ndefaults = [{ member = \"XX\", at = 2025-03-03T05:00:00Z }]",
        "member = \"XX\"",
        "rail[ots-clearing].defaults[0].member",
        "unknown member \"XX\"",
    );
}

#[test]
fn netting_default_at_a_local_time() {
    // The file's own comment, further down, shows the same default with an offset.
    let text = design(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\ndefaults = [{ member = \"KG\", at = 2025-03-03T05:00:00 }]",
    );
    let want = Want::in_s(
        &text,
        "at = 2025-03-03T05:00:00",
        "rail[ots-clearing].defaults[0].at",
        "expected a date-time with an offset, e.g. 2025-03-03T10:00:00Z; got 2025-03-03T05:00:00",
    );
    rejects_design(&text, want);
}

#[test]
fn netting_default_that_ends_before_it_starts() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "settlement_asset = \"USD\"",
        "settlement_asset = \"USD\"\ndefaults = [{ member = \"KG\", at = 2025-03-03T05:00:00Z, until = 2025-03-01T05:00:00Z }]",
        "until = ",
        "rail[ots-clearing].defaults[0].until",
        "must be after `at`",
    );
}

#[test]
fn netting_unknown_weekday() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "holidays = \"none\"",
        "holidays = \"none\"\nweekend = [\"Sat\", \"Funday\"]",
        "\"Funday\"",
        "rail[ots-clearing].weekend[1]",
        "expected a weekday (Mon … Sun), got \"Funday\"",
    );
}

#[test]
fn netting_negative_item_fee() {
    refuses_design_edit(
        "ots-regional-netting.toml",
        "item_fee = { flat_usd = 1.5 }",
        "item_fee = { flat_usd = -1.5 }",
        "flat_usd = -1.5",
        "rail[ots-clearing].item_fee.flat_usd",
        "must be at least 0, got -1.5",
    );
}

// PvP bridge (ots-pvp-bridge).

#[test]
fn pvp_bridge_with_an_unknown_member() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "members = [\"*\"] ",
        "members = [\"TR\", \"XX\"] ",
        "\"XX\"",
        "rail[cbdc-bridge].members[1]",
        "unknown member \"XX\"",
    );
}

#[test]
fn pvp_bridge_without_members() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "members = [\"*\"] ",
        "members = [] ",
        "members = []",
        "rail[cbdc-bridge].members",
        "list at least two members, or \"*\"",
    );
}

#[test]
fn pvp_bridge_with_two_quotes() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "quote_half_spread_bps = 10",
        "quote_half_spread_bps = 10\nquote_market_multiplier = 0.5",
        "quote_market_multiplier = 0.5",
        "rail[cbdc-bridge].quote_market_multiplier",
        "give either quote_half_spread_bps (the platform's own quote) or quote_market_multiplier, not both",
    );
}

#[test]
fn pvp_bridge_without_a_quote() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "quote_half_spread_bps = 10",
        "",
        "[[rail]]",
        "rail[cbdc-bridge].quote_half_spread_bps",
        "give the platform's quote: quote_half_spread_bps (bps of the mid) or quote_market_multiplier",
    );
}

#[test]
fn pvp_bridge_pair_quotes_with_a_market_multiplier() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "quote_half_spread_bps = 10",
        "quote_market_multiplier = 0.5\nquote_pair = [{ pair = \"TRY/KZT\", half_spread_bps = 8 }]",
        "quote_pair = [",
        "rail[cbdc-bridge].quote_pair",
        "per-pair quotes go with quote_half_spread_bps, not with quote_market_multiplier",
    );
}

#[test]
fn pvp_bridge_pair_quote_in_an_unknown_currency() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "quote_half_spread_bps = 10",
        "quote_half_spread_bps = 10\nquote_pair = [{ pair = \"TRY/EUR\", half_spread_bps = 8 }]",
        "pair = \"TRY/EUR\"",
        "rail[cbdc-bridge].quote_pair[TRY/EUR].pair",
        "unknown currency \"EUR\"",
    );
}

#[test]
fn pvp_bridge_pair_quote_of_one_currency() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "quote_half_spread_bps = 10",
        "quote_half_spread_bps = 10\nquote_pair = [{ pair = \"TRY/TRY\", half_spread_bps = 8 }]",
        "pair = \"TRY/TRY\"",
        "rail[cbdc-bridge].quote_pair[TRY/TRY].pair",
        "a pair needs two different currencies",
    );
}

#[test]
fn pvp_bridge_latency_with_a_unit() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "latency_s = { median = 10, sigma = 0.4 }",
        "latency_s = \"10s\"",
        "latency_s = \"10s\"",
        "rail[cbdc-bridge].latency_s",
        "invalid type: string \"10s\", expected seconds (a number) or a table { median = …, sigma = … }",
    );
}

#[test]
fn pvp_bridge_negative_latency() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "latency_s = { median = 10, sigma = 0.4 }",
        "latency_s = -10",
        "latency_s = -10",
        "rail[cbdc-bridge].latency_s",
        "must be at least 0, got -10",
    );
}

#[test]
fn pvp_bridge_sweep_below_the_target() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "sweep_above = 2.0 ",
        "sweep_above = 0.5 ",
        "sweep_above = 0.5",
        "rail[cbdc-bridge].sweep_above",
        "must be at least 1, got 0.5",
    );
}

#[test]
fn pvp_bridge_top_up_threshold_above_one() {
    refuses_design_edit(
        "ots-pvp-bridge.toml",
        "topup_threshold = 0.4 ",
        "topup_threshold = 1.4 ",
        "topup_threshold = 1.4",
        "rail[cbdc-bridge].topup_threshold",
        "must be a probability in [0, 1], got 1.4",
    );
}

// Common currency (ots-common-unit, ots-union).

#[test]
fn basket_weights_that_do_not_sum_to_one() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "{ currency = \"UZS\", weight = 0.17 },",
        "{ currency = \"UZS\", weight = 0.27 },",
        "basket = [",
        "rail[ots-unit].basket",
        "the basket's weights sum to 1.1",
    );
}

#[test]
fn basket_weight_above_one() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "{ currency = \"UZS\", weight = 0.17 },",
        "{ currency = \"UZS\", weight = 1.17 },",
        "weight = 1.17",
        "rail[ots-unit].basket[4].weight",
        "must be a probability in [0, 1], got 1.17",
    );
}

#[test]
fn basket_in_an_unknown_currency() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "{ currency = \"UZS\", weight = 0.17 },",
        "{ currency = \"UZX\", weight = 0.17 },",
        "currency = \"UZX\"",
        "rail[ots-unit].basket[4].currency",
        "unknown currency \"UZX\"",
    );
}

#[test]
fn basket_with_a_currency_twice() {
    let text = design(
        "ots-common-unit.toml",
        "{ currency = \"UZS\", weight = 0.17 },",
        "{ currency = \"TRY\", weight = 0.17 },",
    );
    let want = Want::last_in_s(
        &text,
        "currency = \"TRY\"",
        "rail[ots-unit].basket[4].currency",
        "currency \"TRY\" is in the basket twice",
    );
    rejects_design(&text, want);
}

#[test]
fn empty_basket() {
    let text = bundled_text("ots-common-unit.toml");
    let start = text.find("basket = [").expect("basket");
    let end = start + text[start..].find("\n]\n").expect("end of basket") + "\n]".len();
    let text = format!("{}basket = []{}", &text[..start], &text[end..]);
    let want = Want::in_s(
        &text,
        "basket = []",
        "rail[ots-unit].basket",
        "list the unit's currencies and weights",
    );
    rejects_design(&text, want);
}

#[test]
fn common_currency_with_an_unknown_member() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "members = [\"*\"] ",
        "members = [\"TR\", \"XX\"] ",
        "\"XX\"",
        "rail[ots-unit].members[1]",
        "unknown member \"XX\"",
    );
}

#[test]
fn common_currency_rtgs_cut_off_at_its_opening() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "open = \"08:00\", cutoff = \"19:30\"",
        "open = \"08:00\", cutoff = \"08:00\"",
        "cutoff = \"08:00\"",
        "rail[ots-unit].rtgs.cutoff",
        "the cut-off must differ from the opening",
    );
}

#[test]
fn common_currency_rtgs_with_a_bad_time() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "open = \"08:00\", cutoff = \"19:30\"",
        "open = \"8\", cutoff = \"19:30\"",
        "open = \"8\"",
        "rail[ots-unit].rtgs.open",
        "expected a local time \"HH:MM\", got \"8\"",
    );
}

#[test]
fn common_currency_rtgs_closed_on_a_bad_date() {
    refuses_design_edit(
        "ots-common-unit.toml",
        "extra_closed = [\"2025-01-01\",",
        "extra_closed = [\"2025-1-1x\",",
        "\"2025-1-1x\"",
        "rail[ots-unit].rtgs.extra_closed[0]",
        "expected a date \"YYYY-MM-DD\", got \"2025-1-1x\"",
    );
}

#[test]
fn common_currency_without_its_rtgs() {
    let text = bundled_text("ots-common-unit.toml");
    let start = text.find("\nrtgs = {").expect("rtgs") + 1;
    let end = start + text[start..].find('\n').expect("end of line") + 1;
    let text = format!("{}{}", &text[..start], &text[end..]);
    let want = Want::in_s(
        &text,
        "[[rail]]",
        "rail[ots-unit].rtgs",
        "missing field `rtgs`",
    );
    rejects_design(&text, want);
}

#[test]
fn union_with_a_conversion_spread() {
    refuses_design_edit(
        "ots-union.toml",
        "spread_bps = 0 ",
        "spread_bps = 5 ",
        "spread_bps = 5",
        "rail[ots-union].spread_bps",
        "a full union (union = true) converts nothing: spread_bps must be 0, got 5",
    );
}

// --- Calendars: time zones, local times, weekdays, dates.

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
fn opening_at_25_o_clock() {
    refuses_edit(
        "rtgs_open = \"09:20\"",
        "rtgs_open = \"25:00\"",
        "rtgs_open = \"25:00\"",
        "member[AZ].rtgs_open",
        "expected a local time \"HH:MM\", got \"25:00\"",
    );
}

#[test]
fn opening_at_minute_60() {
    refuses_edit(
        "rtgs_open = \"09:20\"",
        "rtgs_open = \"9:60\"",
        "rtgs_open = \"9:60\"",
        "member[AZ].rtgs_open",
        "expected a local time \"HH:MM\", got \"9:60\"",
    );
}

#[test]
fn opening_with_seconds() {
    refuses_edit(
        "rtgs_open = \"09:20\"",
        "rtgs_open = \"09:20:00\"",
        "rtgs_open = \"09:20:00\"",
        "member[AZ].rtgs_open",
        "expected a local time \"HH:MM\", got \"09:20:00\"",
    );
}

#[test]
fn negative_opening() {
    refuses_edit(
        "rtgs_open = \"09:20\"",
        "rtgs_open = \"-1:00\"",
        "rtgs_open = \"-1:00\"",
        "member[AZ].rtgs_open",
        "expected a local time \"HH:MM\", got \"-1:00\"",
    );
}

#[test]
fn cut_off_at_the_opening() {
    refuses_edit(
        "rtgs_cutoff = \"19:00\"",
        "rtgs_cutoff = \"08:00\"",
        "rtgs_cutoff = \"08:00\"",
        "member[KZ].rtgs_cutoff",
        "cut-off 08:00 must be after opening 08:00",
    );
}

#[test]
fn half_day_cut_off_after_the_cut_off() {
    refuses_edit(
        "half_day_cutoff = \"13:00\"",
        "half_day_cutoff = \"18:00\"",
        "half_day_cutoff = \"18:00\"",
        "member[TR].half_day_cutoff",
        "must lie after opening and no later than the cut-off, got 18:00",
    );
}

#[test]
fn half_day_cut_off_before_the_opening() {
    refuses_edit(
        "half_day_cutoff = \"13:00\"",
        "half_day_cutoff = \"07:00\"",
        "half_day_cutoff = \"07:00\"",
        "member[TR].half_day_cutoff",
        "must lie after opening and no later than the cut-off, got 07:00",
    );
}

#[test]
fn unknown_weekday_name() {
    refuses_edit(
        "holidays = \"UZ\"",
        "holidays = \"UZ\"\nweekend = [\"Sat\", \"Sunn\"]",
        "\"Sunn\"",
        "member[UZ].weekend[1]",
        "expected a weekday (Mon … Sun), got \"Sunn\"",
    );
}

#[test]
fn empty_weekday_name() {
    refuses_edit(
        "holidays = \"UZ\"",
        "holidays = \"UZ\"\nweekend = [\"Sat\", \"\"]",
        "\"\"]",
        "member[UZ].weekend[1]",
        "expected a weekday (Mon … Sun), got \"\"",
    );
}

#[test]
fn hop_calendar_unknown_weekday() {
    refuses_edit(
        "holidays = \"US\" }",
        "holidays = \"US\", weekend = [\"Sab\"] }",
        "\"Sab\"",
        "rail[swift-usd].hop_calendar.weekend[0]",
        "expected a weekday (Mon … Sun), got \"Sab\"",
    );
}

#[test]
fn utc_offset_instead_of_a_time_zone() {
    refuses_edit(
        "time_zone = \"Asia/Tashkent\"",
        "time_zone = \"UTC+5\"",
        "time_zone = \"UTC+5\"",
        "member[UZ].time_zone",
        "unknown IANA time zone \"UTC+5\"",
    );
}

#[test]
fn lower_case_time_zone() {
    refuses_edit(
        "time_zone = \"Asia/Tashkent\"",
        "time_zone = \"asia/tashkent\"",
        "time_zone = \"asia/tashkent\"",
        "member[UZ].time_zone",
        "unknown IANA time zone \"asia/tashkent\"",
    );
}

#[test]
fn extra_closing_day_that_does_not_exist() {
    refuses_edit(
        "holidays = \"TR\"",
        "holidays = \"TR\"\nextra_closed = [\"2025-13-01\"]",
        "\"2025-13-01\"",
        "member[TR].extra_closed[0]",
        "expected a date \"YYYY-MM-DD\", got \"2025-13-01\"",
    );
}

#[test]
fn extra_half_day_in_words() {
    refuses_edit(
        "holidays = \"TR\"",
        "holidays = \"TR\"\nextra_half_days = [\"tomorrow\"]",
        "\"tomorrow\"",
        "member[TR].extra_half_days[0]",
        "expected a date \"YYYY-MM-DD\", got \"tomorrow\"",
    );
}

#[test]
fn trade_hours_that_end_before_they_start() {
    refuses_edit(
        "growth_pa = 0.0 ",
        "growth_pa = 0.0\nhours = [\"18:00\", \"09:00\"]",
        "hours = [",
        "trade.hours",
        "the second time must be after the first",
    );
}

#[test]
fn trade_hours_with_a_bad_time() {
    refuses_edit(
        "growth_pa = 0.0 ",
        "growth_pa = 0.0\nhours = [\"09:00\", \"18:61\"]",
        "\"18:61\"",
        "trade.hours[1]",
        "expected a local time \"HH:MM\", got \"18:61\"",
    );
}

#[test]
fn three_trade_hours() {
    refuses_edit(
        "growth_pa = 0.0 ",
        "growth_pa = 0.0\nhours = [\"09:00\", \"12:00\", \"18:00\"]",
        "hours = [",
        "trade.hours",
        "expected two local times, e.g. [\"09:00\", \"18:00\"]",
    );
}

// --- `extends`: loops, bad values, and errors located in the file that wrote them.

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
fn extends_loop_of_three_files() {
    let a = format!("extends = \"b.toml\"\n{}", baseline());
    let b = "extends = \"c.toml\"\n[scenario]\nname = \"b\"\n";
    let c = "extends = \"a.toml\"\n[scenario]\nname = \"c\"\n";
    let want = Want::at(
        "c.toml",
        c,
        "extends",
        "extends",
        "`extends` loop: a.toml → b.toml → c.toml → a.toml",
    );
    rejects(
        &[("a.toml", &a), ("b.toml", b), ("c.toml", c)],
        "a.toml",
        want,
        true,
    );
}

#[test]
fn file_that_extends_itself() {
    let a = format!("extends = \"a.toml\"\n{}", baseline());
    let want = Want::at(
        "a.toml",
        &a,
        "extends",
        "extends",
        "`extends` loop: a.toml → a.toml",
    );
    rejects(&[("a.toml", &a)], "a.toml", want, true);
}

#[test]
fn extends_a_number() {
    let text = format!("extends = 5\n{}", baseline());
    rejects_s(
        &text,
        Want::in_s(&text, "extends", "extends", "expected a file name (string)"),
        true,
    );
}

#[test]
fn extends_a_list() {
    let text = format!("extends = [\"base.toml\"]\n{}", baseline());
    rejects(
        &[("s.toml", &text), ("base.toml", &baseline())],
        "s.toml",
        Want::in_s(&text, "extends", "extends", "expected a file name (string)"),
        false,
    );
}

#[test]
fn syntax_error_in_an_extended_file_names_that_file() {
    let base = replace_once(&baseline(), "\n[fx]\n", "\n[fx\n");
    let child = "extends = \"base.toml\"\n[scenario]\nname = \"child\"\n";
    let want = Want::syntax("base.toml", &base, "[fx\n", "unclosed table");
    rejects(
        &[("base.toml", &base), ("child.toml", child)],
        "child.toml",
        want,
        true,
    );
}

#[test]
fn bad_value_in_an_extended_file_names_that_file() {
    let base = replace_once(&baseline(), "vol_pa = 0.088", "vol_pa = -0.088");
    let child = "extends = \"base.toml\"\n[scenario]\nname = \"child\"\n";
    let want = Want::at(
        "base.toml",
        &base,
        "vol_pa = -0.088",
        "currency[KZT].vol_pa",
        "must be at least 0, got -0.088",
    );
    rejects(
        &[("base.toml", &base), ("child.toml", child)],
        "child.toml",
        want,
        true,
    );
}

#[test]
fn bad_value_in_the_middle_of_a_chain_names_that_file() {
    let middle = "extends = \"base.toml\"\n[fx]\ntick_h = 0\n";
    let top = "extends = \"middle.toml\"\n[scenario]\nname = \"top\"\n";
    let want = Want::at(
        "middle.toml",
        middle,
        "tick_h = 0",
        "fx.tick_h",
        "must be between 1 and 24 hours, got 0",
    );
    rejects(
        &[
            ("base.toml", &baseline()),
            ("middle.toml", middle),
            ("top.toml", top),
        ],
        "top.toml",
        want,
        true,
    );
}

#[test]
fn unknown_key_in_an_extended_file_names_that_file() {
    let base = replace_once(&baseline(), "\n[fx]\n", "\n[fx]\nticks = 1\n");
    let child = "extends = \"base.toml\"\n[scenario]\nname = \"child\"\n";
    let want = Want::at(
        "base.toml",
        &base,
        "ticks = 1",
        "fx.ticks",
        "unknown field `ticks`",
    );
    rejects(
        &[("base.toml", &base), ("child.toml", child)],
        "child.toml",
        want,
        false,
    );
}

#[test]
fn overriding_value_names_the_overriding_file() {
    let child = "extends = \"base.toml\"\n[scenario]\nname = \"child\"\ndays = 0\n";
    let want = Want::at(
        "child.toml",
        child,
        "days = 0",
        "scenario.days",
        "must be between 1 and 3660, got 0",
    );
    rejects(
        &[("base.toml", &baseline()), ("child.toml", child)],
        "child.toml",
        want,
        true,
    );
}

// --- The trade matrix (CSV): no key, the line of the row.

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
fn trade_matrix_without_its_value_column() {
    // A header without comment lines above it, so the header is line 1.
    let csv = "exporter,importer,annual,source\nTR,AZ,3000000000,x\nAZ,TR,4000000000,x\n";
    refuses_matrix(
        csv,
        "exporter,importer,annual,",
        "missing column `annual_usd` (need exporter, importer, annual_usd)",
    );
}

#[test]
fn trade_matrix_with_a_negative_value() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,UZ,-2700000000,",
        "KZ,UZ,-2700000000",
        "annual_usd must be a non-negative finite number, got -2700000000",
    );
}

#[test]
fn trade_matrix_with_a_nan_value() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,UZ,NaN,",
        "KZ,UZ,NaN",
        "annual_usd must be a non-negative finite number, got NaN",
    );
}

#[test]
fn trade_matrix_with_an_overflowing_value() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,UZ,1e400,",
        "KZ,UZ,1e400",
        "annual_usd must be a non-negative finite number, got inf",
    );
}

#[test]
fn trade_matrix_with_an_empty_value() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,UZ,,",
        "KZ,UZ,,",
        "annual_usd \"\" is not a number",
    );
}

#[test]
fn trade_matrix_row_from_a_member_to_itself() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,KZ,2700000000,",
        "KZ,KZ,",
        "KZ->KZ joins a member to itself",
    );
}

#[test]
fn trade_matrix_with_a_corridor_twice() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,",
        "\nKZ,TR,2700000000,",
        "KZ,TR,2700000000",
        "KZ->TR appears twice",
    );
}

#[test]
fn trade_matrix_row_with_too_few_fields() {
    refuses_matrix_edit(
        "\nKZ,UZ,2700000000,2024,E,",
        "\nKZ,UZ,2700000000,2024,",
        "KZ,UZ,2700000000,2024,\"",
        "malformed row",
    );
}

// --- The command line: missing files, bad --set, bad flags (clap's errors too are exit code 2).

#[test]
fn scenario_file_that_does_not_exist() {
    let want = Want {
        file: "missing.toml".into(),
        line: None,
        col: None,
        key: None,
        message: "no such file (a bundled scenario is named `bundled:NAME`".into(),
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
fn set_negative_days() {
    refuses_run_with(
        &["--set", "scenario.days=-1"],
        "error: command line: key `scenario.days`: invalid value: integer `-1`, expected u32 (set by `scenario.days=…`)",
    );
}

#[test]
fn set_zero_days() {
    refuses_run_with(
        &["--set", "scenario.days=0"],
        "error: command line: key `scenario.days`: must be between 1 and 3660, got 0 (set by `scenario.days=…`)",
    );
}

#[test]
fn set_days_in_words() {
    refuses_run_with(
        &["--set", "scenario.days=abc"],
        "error: command line: key `scenario.days`: invalid type: string \"abc\", expected u32 (set by `scenario.days=…`)",
    );
}

#[test]
fn set_with_an_empty_key_segment() {
    refuses_run_with(
        &["--set", "rail..hold_probability=0.1"],
        "error: --set rail..hold_probability: empty key segment",
    );
}

#[test]
fn set_with_a_leading_dot() {
    refuses_run_with(
        &["--set", ".scenario.days=1"],
        "error: --set .scenario.days: empty key segment",
    );
}

#[test]
fn set_with_a_trailing_dot() {
    refuses_run_with(
        &["--set", "scenario.=1"],
        "error: --set scenario.: empty key segment",
    );
}

#[test]
fn set_without_a_key() {
    refuses_run_with(&["--set", "=5"], "error: --set : empty key segment");
}

#[test]
fn set_naming_an_unknown_member() {
    refuses_run_with(
        &["--set", "member.XX.currency=TRY"],
        "error: --set member.XX.currency: no `member` named `XX`",
    );
}

#[test]
fn set_of_a_whole_array_element() {
    refuses_run_with(
        &["--set", "rail.swift-usd=1"],
        "error: --set rail.swift-usd: `rail.swift-usd` names an element; say which key of it to set",
    );
}

#[test]
fn set_below_a_value() {
    refuses_run_with(
        &["--set", "scenario.days.x=1"],
        "error: --set scenario.days.x: `days` is not a table",
    );
}

#[test]
fn set_of_an_unknown_key() {
    refuses_run_with(
        &["--set", "fx.depth.bogus=1"],
        "error: command line: key `fx.depth.bogus`: unknown field `bogus`",
    );
}

#[test]
fn set_of_an_unknown_time_zone() {
    refuses_run_with(
        &["--set", "member.TR.time_zone=Mars/Base"],
        "error: command line: key `member[TR].time_zone`: unknown IANA time zone \"Mars/Base\"",
    );
}

#[test]
fn set_of_an_empty_route() {
    refuses_run_with(
        &["--set", "route.*.rails=[]"],
        "error: command line: key `route[*].rails`: list at least one rail (set by `route.*.rails=…`)",
    );
}

#[test]
fn zero_days_flag() {
    refuses_run_with(
        &["--days", "0"],
        "error: command line: key `scenario.days`: must be between 1 and 3660, got 0",
    );
}

#[test]
fn zero_replications_flag() {
    refuses_run_with(
        &["--replications", "0"],
        "error: command line: key `scenario.replications`: must be between 1 and 100000, got 0",
    );
}

#[test]
fn replications_flag_in_words() {
    refuses_run_with(
        &["--replications", "abc"],
        "error: invalid value 'abc' for '--replications <REPLICATIONS>'",
    );
}

#[test]
fn days_flag_in_words() {
    refuses_run_with(
        &["--days", "abc"],
        "error: invalid value 'abc' for '--days <DAYS>'",
    );
}

#[test]
fn days_flag_beyond_its_type() {
    refuses_run_with(
        &["--days", "99999999999"],
        "error: invalid value '99999999999' for '--days <DAYS>'",
    );
}

#[test]
fn days_flag_without_a_value() {
    refuses_run_with(
        &["--days"],
        "error: a value is required for '--days <DAYS>' but none was supplied",
    );
}

#[test]
fn negative_seed_flag() {
    refuses_run_with(&["--seed", "-1"], "error: unexpected argument '-1' found");
}

#[test]
fn unknown_flag() {
    refuses_run_with(&["--bogus"], "error: unexpected argument '--bogus' found");
}

#[test]
fn validate_without_a_scenario() {
    refuses_command(
        &["validate"],
        "error: the following required arguments were not provided",
    );
}

#[test]
fn unknown_subcommand() {
    refuses_command(
        &["simulate", "s.toml"],
        "error: unrecognized subcommand 'simulate'",
    );
}

// --- Mutations: no deletion or truncation of a valid scenario panics.

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

#[test]
fn correlation_pair_listed_twice_in_reverse() {
    let text = edited(
        "pair = \"TRY/KZT\"\nrho = 0.15\n",
        "pair = \"TRY/KZT\"\nrho = 0.15\n[[fx.correlation]]\npair = \"KZT/TRY\"\nrho = 0.5\n",
    );
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "pair = \"KZT/TRY\"",
            "fx.correlation[KZT/TRY].pair",
            "pair \"KZT/TRY\" is listed twice in fx.correlation (also as \"TRY/KZT\")",
        ),
        true,
    );
}

#[test]
fn cross_spread_pair_listed_twice() {
    let text = edited(
        "cross_multiplier = 2.0 ",
        "cross_multiplier = 2.0\ncross = [{ pair = \"TRY/KZT\", half_spread_bps = 10 }, { pair = \"KZT/TRY\", half_spread_bps = 20 }]\n",
    );
    rejects_s(
        &text,
        Want::in_s(
            &text,
            "pair = \"KZT/TRY\"",
            "fx.cross[KZT/TRY].pair",
            "pair \"KZT/TRY\" is listed twice in fx.cross (also as \"TRY/KZT\")",
        ),
        true,
    );
}

#[test]
fn date_where_a_number_is_expected() {
    refuses_edit(
        "days = 365",
        "days = 2025-01-01",
        "days = 2025-01-01",
        "scenario.days",
        "invalid type: date-time 2025-01-01, expected u32",
    );
}

#[test]
fn set_an_integer_beyond_64_bits() {
    refuses_run_with(
        &["--set", "scenario.days=99999999999999999999999"],
        "error: --set scenario.days: \"99999999999999999999999\" is not a number TOML can hold",
    );
}

#[test]
fn set_a_date_where_a_number_is_expected() {
    refuses_run_with(
        &["--set", "scenario.days=2025-01-01"],
        "error: command line: key `scenario.days`: invalid type: date-time 2025-01-01, expected u32 (set by `scenario.days=…`)",
    );
}
