//! The `kervan` command line: parses arguments, calls the library, prints results. It knows
//! nothing about rails.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use kervan::experiment::{self, Experiment, RunOptions};
use kervan::scenario::{self, Overrides};
use kervan::{Error, Result};

/// The bundled scenario `kervan run` uses when given none.
const DEFAULT_SCENARIO: &str = "ots-baseline";

#[derive(Parser, Debug)]
#[command(
    name = "kervan",
    version,
    about = "Simulates cross-border payment settlement among the Organization of Turkic States"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario (default: the bundled ots-baseline) and write CSV.
    Run(RunArgs),
    /// Run a base scenario and variants on the same random streams and report each metric's
    /// paired difference with its 95% interval (compare.csv).
    Compare(CompareArgs),
    /// Run a scenario at every point of a grid of settings (sweep.csv).
    Sweep(SweepArgs),
    /// Join shard folders written by `--shard K/N` into the folder one machine would have
    /// written.
    Merge {
        /// The shard folders, one per shard (any order).
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Write into a folder that holds files kervan did not write (they are left alone).
        #[arg(long)]
        force: bool,
    },
    /// Check scenario files without running them; --print writes the resolved scenario.
    Validate {
        /// Scenario files (or bundled names).
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Print the one scenario as it runs (after `extends`, --set, --seed, --days and
        /// --replications) as a TOML file: the manifest's resolved_scenario.
        #[arg(long)]
        print: bool,
        #[command(flatten)]
        changes: Changes,
    },
    /// List the bundled scenarios.
    List,
}

#[derive(clap::Args, Debug, Default)]
struct RunArgs {
    /// Scenario file, or the name of a bundled scenario (see `kervan list`).
    scenario: Option<String>,
    /// What to call this variant in every row and its default folder (default: the scenario's
    /// name, plus a short hash of the changes when --set or --days change it).
    #[arg(long)]
    variant: Option<String>,
    #[command(flatten)]
    exp: ExpArgs,
}

/// What every experiment command (run, compare, sweep) takes.
#[derive(clap::Args, Debug, Default, Clone)]
struct ExpArgs {
    /// Output folder (default: kervan-out/<variant name>).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    changes: Changes,
    /// Do not write payments.csv (aggregates only).
    #[arg(long)]
    no_payments: bool,
    /// Worker threads for the replications (default: one per core). The output is the same
    /// whatever the number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Run only shard K of N of the work units (variant × replication) and write a shard
    /// folder for `kervan merge`; `auto` reads K and N from Slurm (SLURM_ARRAY_TASK_ID, _MIN,
    /// _COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with N in KERVAN_SHARDS).
    #[arg(long, value_name = "K/N|auto")]
    shard: Option<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Write into a folder that holds files kervan did not write. They are left alone; a file
    /// of the same name as one kervan writes is never replaced, with or without --force.
    #[arg(long)]
    force: bool,
}

/// What changes a scenario on the command line: run, compare, sweep and validate take it.
#[derive(clap::Args, Debug, Default, Clone)]
struct Changes {
    /// Master seed (overrides [scenario] seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Number of replications (overrides [scenario] replications).
    #[arg(long)]
    replications: Option<u32>,
    /// Days of trade to simulate (overrides [scenario] days).
    #[arg(long)]
    days: Option<u32>,
    /// Override any scenario key: --set rail.swift-usd.hold_probability=0.1 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// The base scenario, then the variants to compare with it (files or bundled names).
    #[arg(required = true, num_args = 2..)]
    scenarios: Vec<String>,
    /// Keep adding replications until the 95% interval of every variant's overall cost
    /// difference is at most this wide each side (e.g. 1bps, or 0.5).
    #[arg(long, value_name = "HALF_WIDTH")]
    until: Option<String>,
    /// The most replications --until may reach.
    #[arg(long, default_value_t = 200)]
    max_replications: u32,
    #[command(flatten)]
    exp: ExpArgs,
}

#[derive(clap::Args, Debug)]
struct SweepArgs {
    /// The scenario to sweep (a file or a bundled name).
    scenario: String,
    /// A key and its values: KEY=A:B:STEP or KEY=V1,V2,… (repeatable: a full grid).
    #[arg(long, required = true, value_name = "KEY=VALUES")]
    vary: Vec<String>,
    /// Pair the --vary lists value by value instead of making a grid.
    #[arg(long)]
    zip: bool,
    #[command(flatten)]
    exp: ExpArgs,
}

/// Set by the Ctrl-C / SIGTERM handler; the run polls it once per simulated day.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Prints to stdout; a closed stdout (`kervan list | head -1`) ends the program quietly.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(std::io::stderr(), "error: writing to standard output: {e}");
        std::process::exit(1);
    }
}

/// Prints a line to stderr, never panicking (stderr may be closed too).
fn complain(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap prints to stdout for --help; a closed pipe is not worth a panic.
            // clap: help and version are not errors.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        None => run(RunArgs::default()),
        Some(Command::Run(args)) => run(args),
        Some(Command::Compare(args)) => compare(args),
        Some(Command::Sweep(args)) => sweep(args),
        Some(Command::Merge {
            shards,
            out,
            quiet,
            force,
        }) => merge(&shards, &out, quiet, force),
        Some(Command::Validate {
            scenarios,
            print,
            changes,
        }) => validate(&scenarios, print, &changes),
        Some(Command::List) => {
            list();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            complain(&format!("error: {e}"));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn overrides(c: &Changes, variant: Option<String>) -> Overrides {
    Overrides {
        seed: c.seed,
        replications: c.replications,
        days: c.days,
        set: c.set.clone(),
        variant,
    }
}

fn run(args: RunArgs) -> Result<()> {
    let arg = args.scenario.as_deref().unwrap_or(DEFAULT_SCENARIO);
    let s = scenario::load_with(arg, &overrides(&args.exp.changes, args.variant.clone()))?;
    for w in &s.warnings {
        complain(&format!("warning: {w}"));
    }
    let mut command = vec!["run".to_string(), arg.to_string()];
    if let Some(v) = &args.variant {
        command.push(format!("--variant {v}"));
    }
    // The name is checked to be a plain name, so the folder stays inside kervan-out/.
    execute(
        &Experiment::single(&s),
        &s.variant,
        &args.exp,
        &canonical_command(command, &args.exp),
        s.write_payments,
    )
    .map(|_| ())
}

fn compare(args: CompareArgs) -> Result<()> {
    let until = args.until.as_deref().map(parse_half_width).transpose()?;
    if until.is_some() && args.exp.shard.is_some() {
        return Err(Error::Usage(
            "--until decides the replications as results come in; it cannot run as a shard \
             (give --replications instead)"
                .into(),
        ));
    }
    let base = scenario::load_with(&args.scenarios[0], &overrides(&args.exp.changes, None))?;
    let mut reps = args.exp.changes.replications.unwrap_or(base.replications);
    if until.is_some() {
        // An interval needs at least two replications.
        reps = reps.max(2);
    }
    loop {
        let mut exp = args.exp.clone();
        exp.changes.replications = Some(reps);
        // Every variant on the base's seed and replications: the same streams.
        exp.changes.seed = Some(exp.changes.seed.unwrap_or(base.seed));
        let scenarios: Vec<scenario::Scenario> = args
            .scenarios
            .iter()
            .map(|a| scenario::load_with(a, &overrides(&exp.changes, None)))
            .collect::<Result<_>>()?;
        for (a, s) in args.scenarios.iter().zip(&scenarios) {
            for w in &s.warnings {
                complain(&format!("warning: {a}: {w}"));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &scenarios {
            if !seen.insert(s.variant.as_str()) {
                return Err(Error::Usage(format!(
                    "compare: two of the scenarios are both called {:?}; give each its own \
                     [scenario] name",
                    s.variant
                )));
            }
        }
        let e = Experiment {
            variants: scenarios.iter().collect(),
            replications: reps,
            kind: "compare",
            vary: Vec::new(),
            points: Vec::new(),
        };
        let names: Vec<&str> = scenarios.iter().map(|s| s.variant.as_str()).collect();
        let default = format!("compare-{}", names.join("-vs-"));
        let default = if default.len() > 120 {
            format!("compare-{}-and-{}-more", names[0], names.len() - 1)
        } else {
            default
        };
        let mut command = vec!["compare".to_string()];
        command.extend(args.scenarios.iter().cloned());
        let outcome = execute(
            &e,
            &default,
            &exp,
            &canonical_command(command, &exp),
            scenarios[0].write_payments,
        )?;
        let Some(target) = until else {
            return Ok(());
        };
        // The widest half-width of the headline difference over the variants.
        let widest = outcome.series[1..]
            .iter()
            .map(|v| {
                experiment::compare::difference(
                    &outcome.series[0],
                    v,
                    "*",
                    experiment::compare::HEADLINE,
                )
                .diff
            })
            .map(|d| (d.half_width, d.sd))
            .fold((0.0f64, 0.0f64), |a, b| (a.0.max(b.0), a.1.max(b.1)));
        if widest.0 <= target {
            if !args.exp.quiet {
                say(&format!(
                    "--until {target} bps: reached with {reps} replications (widest half-width {:.3} bps)\n",
                    widest.0
                ));
            }
            return Ok(());
        }
        if reps >= args.max_replications {
            complain(&format!(
                "warning: --until {target} bps not reached: {reps} replications (the cap, \
                 --max-replications) give a half-width of {:.3} bps",
                widest.0
            ));
            return Ok(());
        }
        // The replications the observed spread asks for (t ≈ 2), at least half again as many.
        let needed = (2.0 * widest.1 / target).powi(2).ceil();
        let next = if needed.is_finite() {
            (needed as u32).max(reps + reps / 2 + 1)
        } else {
            reps * 2
        };
        let next = next.min(args.max_replications);
        if !args.exp.quiet {
            say(&format!(
                "--until {target} bps: half-width {:.3} bps with {reps} replications; running {next}\n",
                widest.0
            ));
        }
        reps = next;
    }
}

/// `--until 1bps` or `--until 0.5`: a half-width in bps.
fn parse_half_width(arg: &str) -> Result<f64> {
    let x: f64 = arg
        .trim()
        .trim_end_matches("bps")
        .trim()
        .parse()
        .map_err(|_| {
            Error::Usage(format!(
                "--until {arg}: expected a half-width in bps, e.g. 1bps"
            ))
        })?;
    if !(x.is_finite() && x > 0.0) {
        return Err(Error::Usage(format!(
            "--until {arg}: must be a positive number of bps"
        )));
    }
    Ok(x)
}

fn sweep(args: SweepArgs) -> Result<()> {
    let vary: Vec<experiment::sweep::Vary> = args
        .vary
        .iter()
        .map(|v| experiment::sweep::parse_vary(v))
        .collect::<Result<_>>()?;
    let points = experiment::sweep::grid(&vary, args.zip)?;
    let base = scenario::load_with(&args.scenario, &overrides(&args.exp.changes, None))?;
    let mut scenarios = Vec::with_capacity(points.len());
    for (i, point) in points.iter().enumerate() {
        let mut o = overrides(&args.exp.changes, Some(format!("{}-p{i:03}", base.name)));
        o.seed = Some(args.exp.changes.seed.unwrap_or(base.seed));
        o.set.extend(
            vary.iter()
                .zip(point)
                .map(|(v, x)| format!("{}={x}", v.key)),
        );
        let s = scenario::load_with(&args.scenario, &o).map_err(|e| match e {
            Error::Usage(m) => Error::Usage(format!("sweep point {i} ({}): {m}", point.join(", "))),
            e => e,
        })?;
        scenarios.push(s);
    }
    let e = Experiment {
        variants: scenarios.iter().collect(),
        replications: base.replications,
        kind: "sweep",
        vary: vary.iter().map(|v| v.key.clone()).collect(),
        points,
    };
    let mut command = vec!["sweep".to_string(), args.scenario.clone()];
    command.extend(args.vary.iter().map(|v| format!("--vary {v}")));
    if args.zip {
        command.push("--zip".into());
    }
    execute(
        &e,
        &format!("sweep-{}", base.variant),
        &args.exp,
        &canonical_command(command, &args.exp),
        base.write_payments,
    )
    .map(|_| ())
}

/// Runs an experiment with the command line's options: progress, Ctrl-C, the summary.
fn execute(
    e: &Experiment,
    default_out: &str,
    args: &ExpArgs,
    command: &str,
    scenario_payments: bool,
) -> Result<experiment::RunOutcome> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let out = args.out.clone().unwrap_or_else(|| match shard {
        Some((k, n)) => PathBuf::from("kervan-out").join(format!("{default_out}.shard-{k}-of-{n}")),
        None => PathBuf::from("kervan-out").join(default_out),
    });
    // Ctrl-C or SIGTERM: the run stops at the end of the simulated day and writes nothing.
    // Without a handler (it could not be installed) the signal ends the process, which also
    // leaves the folder as it was (the next run clears the partial files).
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    let cancelled = || -> Result<()> {
        if INTERRUPTED.load(Ordering::SeqCst) {
            Err(Error::Interrupted {
                message: "interrupted".into(),
                code: 130,
            })
        } else {
            Ok(())
        }
    };
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let units = experiment::shard_units(e.units(), shard);
    let total_days: u64 = units
        .iter()
        .map(|&u| {
            let s = e.variants[e.unit(u).0];
            (s.days + s.drain_days) as u64
        })
        .sum();
    let bar = if show_progress {
        let bar = ProgressBar::new(total_days);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} simulated days ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(default_out.to_string());
        Some(bar)
    } else {
        None
    };
    let progress = || {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    };
    let opts = RunOptions {
        command: command.to_string(),
        write_payments: scenario_payments && !args.no_payments,
        progress: bar.as_ref().map(|_| &progress as &(dyn Fn() + Sync)),
        force: args.force,
        cancelled: Some(&cancelled),
        threads: args.threads,
        shard,
    };
    if !args.quiet {
        for s in &e.variants {
            let timeline = kervan::output::shock_timeline(s);
            if !timeline.is_empty() {
                say(&format!("{timeline}\n"));
            }
        }
    }
    let started = std::time::Instant::now();
    let outcome = experiment::run_experiment(e, &out, &opts)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.quiet {
        return Ok(outcome);
    }
    let s = e.variants[0];
    match shard {
        Some((k, n)) => say(&format!(
            "{default_out} — shard {k}/{n}: {} of {} work unit(s), {} payments ({:.1} s)\nwrote {} (join the shards with `kervan merge`)\n",
            units.len(),
            e.units(),
            outcome.payments,
            started.elapsed().as_secs_f64(),
            outcome.dir.display()
        )),
        None => say(&format!(
            "{default_out} — {} payments, {} variant(s) × {} replication(s), {} days, seed {} ({:.1} s)\nmeans over replications; ±95% is the half-width of the 95% confidence interval of the mean\n\n{}\nG20 targets (docs/calibration.md §4): average cost <= 1% (retail), <= 3% (remittances); 75% credited within 1 hour\n\n{}\nwrote {}\n",
            outcome.payments,
            e.variants.len(),
            e.replications,
            s.days,
            s.seed,
            started.elapsed().as_secs_f64(),
            outcome.summary,
            outcome.g20,
            outcome.dir.display()
        )),
    }
    Ok(outcome)
}

/// `--shard K/N` (1 ≤ K ≤ N), or `auto`: from Slurm's job array or a Kubernetes Indexed Job.
fn parse_shard(arg: &str) -> Result<(u32, u32)> {
    let env = |k: &str| std::env::var(k).ok();
    let num = |what: &str, v: &str| -> Result<u32> {
        v.trim().parse::<u32>().map_err(|_| {
            Error::Usage(format!(
                "--shard {arg}: {what} is {v:?}, not a whole number"
            ))
        })
    };
    let (k, n) = if arg == "auto" {
        if let (Some(id), Some(count)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT"))
        {
            let min = env("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
            let (id, min) = (
                num("SLURM_ARRAY_TASK_ID", &id)?,
                num("SLURM_ARRAY_TASK_MIN", &min)?,
            );
            if id < min {
                return Err(Error::Usage(format!(
                    "--shard auto: SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
                )));
            }
            (id - min + 1, num("SLURM_ARRAY_TASK_COUNT", &count)?)
        } else if let Some(index) = env("JOB_COMPLETION_INDEX") {
            let n = env("KERVAN_SHARDS").ok_or_else(|| {
                Error::Usage(
                    "--shard auto: JOB_COMPLETION_INDEX is set but KERVAN_SHARDS is not; set it \
                     to the Job's completions"
                        .into(),
                )
            })?;
            (
                num("JOB_COMPLETION_INDEX", &index)? + 1,
                num("KERVAN_SHARDS", &n)?,
            )
        } else {
            return Err(Error::Usage(
                "--shard auto: neither a Slurm array task (SLURM_ARRAY_TASK_ID, \
                 SLURM_ARRAY_TASK_COUNT) nor a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, \
                 KERVAN_SHARDS); give --shard K/N"
                    .into(),
            ));
        }
    } else {
        let (k, n) = arg.split_once('/').ok_or_else(|| {
            Error::Usage(format!(
                "--shard {arg}: expected K/N (shard K of N, e.g. 2/4) or auto"
            ))
        })?;
        (num("K", k)?, num("N", n)?)
    };
    if n == 0 || k == 0 || k > n {
        return Err(Error::Usage(format!(
            "--shard {arg}: shard {k} of {n} does not exist (1 <= K <= N)"
        )));
    }
    Ok((k, n))
}

/// The command that reproduces an experiment's output, for its manifest: what it simulates and
/// how (scenarios, seed, replications, days, settings, payments or not) — not where it wrote,
/// with how many threads or as which shard, which do not change a byte.
fn canonical_command(mut c: Vec<String>, args: &ExpArgs) -> String {
    c.insert(0, "kervan".to_string());
    let ch = &args.changes;
    if let Some(x) = ch.seed {
        c.push(format!("--seed {x}"));
    }
    if let Some(x) = ch.replications {
        c.push(format!("--replications {x}"));
    }
    if let Some(x) = ch.days {
        c.push(format!("--days {x}"));
    }
    for x in &ch.set {
        c.push(format!("--set {x}"));
    }
    if args.no_payments {
        c.push("--no-payments".into());
    }
    c.join(" ")
}

fn merge(shards: &[PathBuf], out: &std::path::Path, quiet: bool, force: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let outcome = experiment::shard::merge(shards, out, force)?;
    if !quiet {
        say(&format!(
            "merged {} shard(s): {} payments ({:.1} s)\n\n{}\n{}\nwrote {}\n",
            shards.len(),
            outcome.payments,
            started.elapsed().as_secs_f64(),
            outcome.summary,
            outcome.g20,
            outcome.dir.display()
        ));
    }
    Ok(())
}

/// `kervan validate`: checks each scenario with the command line's changes; with `--print`,
/// writes the one scenario's resolved text to stdout and nothing else there (warnings go to
/// stderr), so `kervan validate X --set … --print > r.toml` gives a file that runs as X did.
fn validate(scenarios: &[String], print: bool, changes: &Changes) -> Result<()> {
    let o = overrides(changes, None);
    if print {
        let [arg] = scenarios else {
            return Err(Error::Usage(format!(
                "validate --print prints one scenario; got {} ({})",
                scenarios.len(),
                scenarios.join(", ")
            )));
        };
        let s = scenario::load_with(arg, &o)?;
        for w in &s.warnings {
            complain(&format!("warning: {arg}: {w}"));
        }
        say(&s.resolved);
        return Ok(());
    }
    let mut first_error: Option<Error> = None;
    for arg in scenarios {
        match scenario::load_with(arg, &o) {
            Ok(s) => {
                for w in &s.warnings {
                    complain(&format!("warning: {arg}: {w}"));
                }
                say(&format!(
                    "ok: {arg} — \"{}\": members {}, corridors {}, rails {}, days {}, replications {}\n",
                    s.name,
                    s.members.len(),
                    s.trade.corridors.len(),
                    s.rails.len(),
                    s.days,
                    s.replications
                ));
            }
            Err(e) => {
                complain(&format!("error: {e}"));
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(Error::Usage(format!(
            "{} scenario(s) failed validation (first: {})",
            scenarios.len(),
            short(&e)
        ))),
        None => Ok(()),
    }
}

fn short(e: &Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

fn list() {
    for (name, text) in scenario::BUNDLED {
        let Some(stem) = name.strip_suffix(".toml") else {
            continue;
        };
        let description = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| {
                t.get("scenario")?
                    .get("description")?
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let first = description.lines().next().unwrap_or_default();
        say(&format!("{stem:<24} {first}\n"));
    }
}
