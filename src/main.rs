//! The `kervan` command line: parses arguments, calls the library, prints results. It knows
//! nothing about rails.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use kervan::experiment::{self, RunOptions};
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
    /// Check scenario files without running them.
    Validate {
        /// Scenario files (or bundled names).
        #[arg(required = true)]
        scenarios: Vec<String>,
    },
    /// List the bundled scenarios.
    List,
}

#[derive(clap::Args, Debug, Default)]
struct RunArgs {
    /// Scenario file, or the name of a bundled scenario (see `kervan list`).
    scenario: Option<String>,
    /// Output folder (default: kervan-out/<scenario name>).
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// Do not write payments.csv (aggregates only).
    #[arg(long)]
    no_payments: bool,
    /// What to call this variant in every row and its default folder (default: the scenario's
    /// name, plus a short hash of the changes when --set or --days change it).
    #[arg(long)]
    variant: Option<String>,
    /// Worker threads for the replications (default: one per core). The output is the same
    /// whatever the number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Run only shard K of N of the replications and write a shard folder for `kervan merge`;
    /// `auto` reads K and N from Slurm (SLURM_ARRAY_TASK_ID, _MIN, _COUNT) or a Kubernetes
    /// Indexed Job (JOB_COMPLETION_INDEX, with N in KERVAN_SHARDS).
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
        Some(Command::Merge {
            shards,
            out,
            quiet,
            force,
        }) => merge(&shards, &out, quiet, force),
        Some(Command::Validate { scenarios }) => validate(&scenarios),
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

fn run(args: RunArgs) -> Result<()> {
    let arg = args.scenario.as_deref().unwrap_or(DEFAULT_SCENARIO);
    let overrides = Overrides {
        seed: args.seed,
        replications: args.replications,
        days: args.days,
        set: args.set.clone(),
        variant: args.variant.clone(),
    };
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    let s = scenario::load_with(arg, &overrides)?;
    for w in &s.warnings {
        complain(&format!("warning: {w}"));
    }
    // The name is checked to be a plain name (scenario::validate), so this stays inside
    // kervan-out/.
    let out = args.out.clone().unwrap_or_else(|| match shard {
        Some((k, n)) => PathBuf::from("kervan-out").join(format!("{}.shard-{k}-of-{n}", s.variant)),
        None => PathBuf::from("kervan-out").join(&s.variant),
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
    let units = experiment::shard_units(s.replications as usize, shard).len() as u64;
    let total_days = (s.days + s.drain_days) as u64 * units;
    let bar = if show_progress {
        let bar = ProgressBar::new(total_days);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} simulated days ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(s.variant.clone());
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
        command: canonical_command(&args),
        write_payments: s.write_payments && !args.no_payments,
        progress: bar.as_ref().map(|_| &progress as &(dyn Fn() + Sync)),
        force: args.force,
        cancelled: Some(&cancelled),
        threads: args.threads,
        shard,
    };
    let started = std::time::Instant::now();
    let outcome = experiment::run(&s, &out, &opts)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.quiet {
        return Ok(());
    }
    match shard {
        Some((k, n)) => say(&format!(
            "{} — shard {k}/{n}: {} of {} replication(s), {} payments ({:.1} s)\nwrote {} (join the shards with `kervan merge`)\n",
            s.variant,
            units,
            s.replications,
            outcome.payments,
            started.elapsed().as_secs_f64(),
            outcome.dir.display()
        )),
        None => say(&format!(
            "{} — {} payments, {} replication(s), {} days, seed {} ({:.1} s)\nmeans over replications; ±95% is the half-width of the 95% confidence interval of the mean\n\n{}\nG20 targets (docs/calibration.md §4): average cost <= 1% (retail), <= 3% (remittances); 75% credited within 1 hour\n\n{}\nwrote {}\n",
            s.variant,
            outcome.payments,
            s.replications,
            s.days,
            s.seed,
            started.elapsed().as_secs_f64(),
            outcome.summary,
            outcome.g20,
            outcome.dir.display()
        )),
    }
    Ok(())
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

/// The command that reproduces a run's output, for its manifest: what it simulates and how
/// (scenario, seed, replications, days, settings, variant name, payments or not) — not where it
/// wrote, with how many threads or as which shard, which do not change a byte.
fn canonical_command(args: &RunArgs) -> String {
    let mut c = vec!["kervan".to_string(), "run".to_string()];
    c.push(
        args.scenario
            .clone()
            .unwrap_or_else(|| DEFAULT_SCENARIO.to_string()),
    );
    if let Some(x) = args.seed {
        c.push(format!("--seed {x}"));
    }
    if let Some(x) = args.replications {
        c.push(format!("--replications {x}"));
    }
    if let Some(x) = args.days {
        c.push(format!("--days {x}"));
    }
    for x in &args.set {
        c.push(format!("--set {x}"));
    }
    if let Some(x) = &args.variant {
        c.push(format!("--variant {x}"));
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

fn validate(scenarios: &[String]) -> Result<()> {
    let mut first_error: Option<Error> = None;
    for arg in scenarios {
        match scenario::load(arg) {
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
