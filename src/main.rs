//! The `kervan` command line: parses arguments, calls the library, prints results. It knows
//! nothing about rails.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use kervan::engine::DAY_S;
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
    };
    let s = scenario::load_with(arg, &overrides)?;
    for w in &s.warnings {
        complain(&format!("warning: {w}"));
    }
    // The name is checked to be a plain name (scenario::validate), so this stays inside
    // kervan-out/.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("kervan-out").join(&s.name));
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
    let total_days = (s.days + s.drain_days) as u64 * s.replications as u64;
    let bar = if show_progress {
        let bar = ProgressBar::new(total_days);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} simulated days ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(s.name.clone());
        Some(bar)
    } else {
        None
    };
    let per_rep = (s.days + s.drain_days) as u64;
    let progress = |rep: u32, t: i64| {
        if let Some(bar) = &bar {
            bar.set_position(rep as u64 * per_rep + (t / DAY_S) as u64);
        }
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let opts = RunOptions {
        command,
        write_payments: s.write_payments && !args.no_payments,
        progress: bar.as_ref().map(|_| &progress as &dyn Fn(u32, i64)),
        force: args.force,
        cancelled: Some(&cancelled),
    };
    let started = std::time::Instant::now();
    let outcome = experiment::run(&s, &out, &opts)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if !args.quiet {
        say(&format!(
            "{} — {} payments, {} replication(s), {} days, seed {} ({:.1} s)\n\n{}\nwrote {}\n",
            s.name,
            outcome.payments,
            s.replications,
            s.days,
            s.seed,
            started.elapsed().as_secs_f64(),
            outcome.summary,
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
