//! The rows of one work unit (one replication of one variant): `payments.csv`, `fx.csv` and
//! the other streamed files as the run goes, `corridors.csv` and `rails.csv` from its
//! aggregates at the end, and its metrics for the summaries. Each goes into a part file without
//! a header; the experiment joins the parts of every unit, in unit order, under one header
//! (see `output::assemble`), so the output is the same whichever thread or machine ran a unit.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use super::fmt::{csv_field, push_cents, push_decimal, push_hours_4dp, push_u64};
use super::folder::Hashing;
use super::metrics::{Agg, Metrics};
use crate::engine::Time;
use crate::engine::{IsoTimes, iso_time};
use crate::money::{Cents, CurrencyId};
use crate::rails::LiquidityStats;
use crate::record::Balance;
use crate::record::{Cell, PaymentRecord, ReportRow, ReportTable, Sink};
use crate::scenario::Scenario;
use crate::{Error, Result};

type Csv = csv::Writer<Out>;

/// An output file begun in the output folder (its header written), hashed as it is written:
/// see [`Out::Direct`].
pub type Begun = BufWriter<Hashing<File>>;

/// Where a unit's rows of one file go: its own part file, joined into the output file when
/// the run ends; or, for the first unit of a run (which is not a shard), the output file
/// itself, right after its header — that unit's rows then never need copying, which for a
/// one-replication run is every row.
pub enum Out {
    Part(BufWriter<File>),
    Direct(Begun),
}

impl std::io::Write for Out {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::Part(w) => w.write(buf),
            Out::Direct(w) => w.write(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Part(w) => w.write_all(buf),
            Out::Direct(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::Part(w) => w.flush(),
            Out::Direct(w) => w.flush(),
        }
    }
}

/// Creates a unit's part of `name`, or takes the begun output file of that name from
/// `direct`; an error names the output file as the user knows it (`shown`/`name`).
fn part_file(
    parts: &Path,
    prefix: &str,
    shown: &Path,
    name: &str,
    direct: &mut Vec<(&'static str, Begun)>,
) -> Result<Out> {
    if let Some(i) = direct.iter().position(|(n, _)| *n == name) {
        return Ok(Out::Direct(direct.swap_remove(i).1));
    }
    let path = parts.join(format!("{prefix}{name}"));
    let file = File::create(&path).map_err(|e| Error::io(shown.join(name), e))?;
    Ok(Out::Part(BufWriter::with_capacity(1 << 20, file)))
}

fn csv_part(
    parts: &Path,
    prefix: &str,
    shown: &Path,
    name: &str,
    direct: &mut Vec<(&'static str, Begun)>,
) -> Result<Csv> {
    Ok(csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(part_file(parts, prefix, shown, name, direct)?))
}

pub const PAYMENT_COLUMNS: &[&str] = &[
    "replication",
    "variant",
    "payment_id",
    "corridor",
    "exporter",
    "importer",
    "rail",
    "fallback",
    "rerouted",
    "queued_h",
    "charge_bearer",
    "invoice_currency",
    "invoice_amount",
    "value_usd",
    "invoiced_at",
    "initiated_at",
    "settled_at",
    "latency_h",
    "within_1h",
    "same_day",
    "within_1bd",
    "hops",
    "fees_usd",
    "spread_usd",
    "drift_usd",
    "liquidity_usd",
    "float_usd",
    "total_cost_usd",
    "cost_usd",
    "cost_bps",
    "principal_at_risk_usd_h",
    "usd_bought",
    "usd_sold",
    "status",
];

const GROUP_COLUMNS: &[&str] = &[
    "payments",
    "settled",
    "returned",
    "failed",
    "unsettled",
    "fallback",
    "value_usd",
    "fees_usd",
    "spread_usd",
    "drift_usd",
    "liquidity_usd",
    "float_usd",
    "total_cost_usd",
    "cost_usd",
    "settled_value_usd",
    "cost_bps_weighted",
    "cost_bps_mean",
    "cost_bps_median",
    "cost_bps_p95",
    "latency_h_median",
    "latency_h_p95",
    "within_1h_share",
    "same_day_share",
    "within_1bd_share",
    "principal_at_risk_usd_h",
    "usd_bought",
    "usd_sold",
];

/// The files a unit streams while it runs, in the order the manifest lists them, each with its
/// header: payments (unless left out), fx, liquidity, each rail kind's report tables, depth.
pub fn streamed_files(write_payments: bool) -> Vec<(&'static str, Vec<&'static str>)> {
    let with_variant = |cols: &[&'static str]| -> Vec<&'static str> {
        ["replication", "variant"]
            .into_iter()
            .chain(cols.iter().copied())
            .collect()
    };
    let mut files = Vec::new();
    if write_payments {
        files.push(("payments.csv", PAYMENT_COLUMNS.to_vec()));
    }
    files.push(("fx.csv", with_variant(&["time", "currency", "mid_per_usd"])));
    files.push((
        "liquidity.csv",
        with_variant(&[
            "time",
            "rail",
            "holder",
            "currency",
            "balance",
            "balance_usd",
        ]),
    ));
    for &table in crate::rails::REPORT_TABLES {
        let cols: Vec<&'static str> = ["rail"]
            .into_iter()
            .chain(table.columns.iter().copied())
            .collect();
        files.push((table.file, with_variant(&cols)));
    }
    files.push((
        "depth.csv",
        with_variant(&["time", "pair", "volume_usd_per_day", "half_spread_bps"]),
    ));
    files
}

/// corridors.csv's header.
pub fn corridors_header() -> Vec<&'static str> {
    let mut head: Vec<&str> = vec![
        "replication",
        "variant",
        "corridor",
        "exporter",
        "importer",
        "rail",
        "kind",
        "expected_value_usd",
    ];
    head.extend_from_slice(GROUP_COLUMNS);
    head
}

/// The files a unit writes from its aggregates when it ends, with their headers, in order.
pub fn aggregate_files() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("corridors.csv", corridors_header()),
        ("rails.csv", rails_header()),
        (
            "shocks.csv",
            vec![
                "replication",
                "variant",
                "shock",
                "kind",
                "target",
                "from",
                "to",
                "payments_rerouted",
                "payments_queued",
                "payments_failed",
                "invoices_added",
                "value_added_usd",
                "invoices_removed",
                "value_removed_usd",
            ],
        ),
    ]
}

/// rails.csv's header.
pub fn rails_header() -> Vec<&'static str> {
    let mut head: Vec<&str> = vec!["replication", "variant", "rail", "kind"];
    head.extend_from_slice(GROUP_COLUMNS);
    head.extend_from_slice(&[
        "liquidity_peak_usd",
        "liquidity_mean_usd",
        "carry_usd",
        "carry_unallocated_usd",
        "line_interest_usd",
        "central_bank_cost_usd",
    ]);
    head
}

/// Writes the rows of one unit (one replication of one variant) into part files named
/// `{prefix}{file}` in a parts folder.
pub struct RunWriter<'a> {
    s: &'a Scenario,
    /// Where the parts go, and the output folder as the user named it (for messages).
    parts: PathBuf,
    prefix: String,
    shown: PathBuf,
    epoch_unix: i64,
    /// payments.csv rows are assembled in `row` and written with one call.
    payments: Option<Out>,
    fx: Csv,
    liquidity: Csv,
    /// One file per table a rail kind reports into, in [`crate::rails::REPORT_TABLES`] order,
    /// with its row count.
    reports: Vec<(&'static ReportTable, Csv, u64)>,
    depth: Csv,
    replication: u32,
    pub metrics: Metrics,
    pub rows_payments: u64,
    pub rows_fx: u64,
    pub rows_liquidity: u64,
    pub rows_depth: u64,
    row: Vec<u8>,
    /// The date part of the last timestamp printed, per column (an invoice date is weeks
    /// before its payment's).
    times: [IsoTimes; 3],
    /// Names as CSV fields (quoted if they need it), prepared once.
    names: Names,
}

/// Every name a payments row may contain, already CSV-escaped.
struct Names {
    variant: String,
    corridors: Vec<String>,
    members: Vec<String>,
    rails: Vec<String>,
    currencies: Vec<String>,
    /// `replication,variant,` for the replication it was made for: the same in every row of
    /// a unit, so copied as one piece rather than printed field by field.
    lead: (u32, Vec<u8>),
    /// `corridor,exporter,importer,rail,` by corridor × rail (with the exporter and importer
    /// it was made for), made on first use: one copy per row instead of four.
    route: Vec<Option<(u16, u16, Vec<u8>)>>,
}

impl Names {
    /// `replication,variant,`.
    fn lead(variant: &str, replication: u32) -> (u32, Vec<u8>) {
        let mut lead = Vec::new();
        push_u64(&mut lead, u64::from(replication));
        lead.push(b',');
        lead.extend_from_slice(variant.as_bytes());
        lead.push(b',');
        (replication, lead)
    }

    /// Appends `replication,variant,`.
    fn push_lead(&mut self, b: &mut Vec<u8>, replication: u32) {
        if self.lead.0 != replication {
            self.lead = Names::lead(&self.variant, replication);
        }
        b.extend_from_slice(&self.lead.1);
    }

    /// Appends `corridor,exporter,importer,rail,`.
    fn push_route(&mut self, b: &mut Vec<u8>, r: &PaymentRecord) {
        let i = usize::from(r.corridor) * self.rails.len() + usize::from(r.rail);
        if self.route.len() <= i {
            self.route.resize(i + 1, None);
        }
        match &self.route[i] {
            Some((e, m, text)) if (*e, *m) == (r.exporter, r.importer) => {
                b.extend_from_slice(text);
            }
            _ => {
                let mut text = Vec::new();
                for name in [
                    &self.corridors[usize::from(r.corridor)],
                    &self.members[usize::from(r.exporter)],
                    &self.members[usize::from(r.importer)],
                    &self.rails[usize::from(r.rail)],
                ] {
                    text.extend_from_slice(name.as_bytes());
                    text.push(b',');
                }
                b.extend_from_slice(&text);
                self.route[i] = Some((r.exporter, r.importer, text));
            }
        }
    }
}

/// What a unit wrote: rows per file (manifest order), its aggregates for the summaries, and
/// the output files it was given to write into directly, to be continued by the next units'
/// parts.
#[derive(Default)]
pub struct UnitRows {
    pub rows: Vec<(&'static str, u64)>,
    pub metrics: Metrics,
    pub direct: Vec<(&'static str, Begun)>,
}

impl<'a> RunWriter<'a> {
    /// A writer for replication `replication` of `s` (its variant named in every row).
    /// `direct`: streamed files to write straight into (begun output files), instead of parts.
    pub fn new(
        parts: &Path,
        prefix: &str,
        shown: &Path,
        s: &'a Scenario,
        replication: u32,
        write_payments: bool,
        mut direct: Vec<(&'static str, Begun)>,
    ) -> Result<Self> {
        let direct = &mut direct;
        let payments = if write_payments {
            Some(part_file(parts, prefix, shown, "payments.csv", direct)?)
        } else {
            None
        };
        let fx = csv_part(parts, prefix, shown, "fx.csv", direct)?;
        let liquidity = csv_part(parts, prefix, shown, "liquidity.csv", direct)?;
        let mut reports = Vec::with_capacity(crate::rails::REPORT_TABLES.len());
        for &table in crate::rails::REPORT_TABLES {
            reports.push((
                table,
                csv_part(parts, prefix, shown, table.file, direct)?,
                0,
            ));
        }
        let depth = csv_part(parts, prefix, shown, "depth.csv", direct)?;
        let variant = csv_field(&s.variant);
        let names = Names {
            lead: Names::lead(&variant, replication),
            variant,
            corridors: s
                .trade
                .corridors
                .iter()
                .map(|c| csv_field(&c.code))
                .collect(),
            members: s.members.iter().map(|m| csv_field(&m.code)).collect(),
            rails: s.rails.iter().map(|r| csv_field(&r.name)).collect(),
            currencies: s
                .currencies
                .ids()
                .map(|c| csv_field(s.currencies.code(c)))
                .collect(),
            route: Vec::new(),
        };
        Ok(Self {
            s,
            parts: parts.to_path_buf(),
            prefix: prefix.to_string(),
            shown: shown.to_path_buf(),
            epoch_unix: s.epoch.timestamp(),
            payments,
            fx,
            liquidity,
            reports,
            depth,
            replication,
            metrics: Metrics::default(),
            rows_payments: 0,
            rows_fx: 0,
            rows_liquidity: 0,
            rows_depth: 0,
            row: Vec::with_capacity(512),
            times: Default::default(),
            names,
        })
    }

    /// An output file as the user knows it, for messages.
    fn path(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// Flushes the streamed parts, writes the unit's corridors and rails rows, and returns the
    /// rows written per file in manifest order.
    pub fn finish(mut self, report: &crate::sim::RunReport) -> Result<UnitRows> {
        self.metrics.settle();
        let liquidity: &[LiquidityStats] = &report.liquidity;
        let (n_corr, n_rails) = self.write_aggregates(liquidity)?;
        let n_shocks = self.write_shocks(report)?;
        let mut rows = Vec::new();
        if self.payments.is_some() {
            rows.push(("payments", self.rows_payments));
        }
        rows.extend([
            ("corridors", n_corr),
            ("rails", n_rails),
            ("shocks", n_shocks),
            ("fx", self.rows_fx),
            ("liquidity", self.rows_liquidity),
        ]);
        rows.extend(self.reports.iter().map(|(t, _, n)| (t.key(), *n)));
        rows.push(("depth", self.rows_depth));
        let metrics = self.metrics;
        let mut direct = Vec::new();
        let mut done = |name: &'static str, out: Out| -> Result<()> {
            match out {
                Out::Part(mut w) => w.flush(),
                Out::Direct(mut w) => w.flush().map(|()| direct.push((name, w))),
            }
            .map_err(|e| Error::io(self.shown.join(name), e))
        };
        let csv_out = |name: &'static str, w: Csv| -> Result<Out> {
            w.into_inner()
                .map_err(|e| Error::io(self.shown.join(name), e.into_error()))
        };
        if let Some(p) = self.payments {
            done("payments.csv", p)?;
        }
        done("fx.csv", csv_out("fx.csv", self.fx)?)?;
        done("liquidity.csv", csv_out("liquidity.csv", self.liquidity)?)?;
        for (table, w, _) in self.reports {
            done(table.file, csv_out(table.file, w)?)?;
        }
        done("depth.csv", csv_out("depth.csv", self.depth)?)?;
        Ok(UnitRows {
            rows,
            metrics,
            direct,
        })
    }

    /// Writes the unit's shocks.csv rows: each shock of the scenario and what it did in this
    /// replication.
    fn write_shocks(&self, report: &crate::sim::RunReport) -> Result<u64> {
        let s = self.s;
        let mut w = csv_part(
            &self.parts,
            &self.prefix,
            &self.shown,
            "shocks.csv",
            &mut Vec::new(),
        )?;
        for (k, sh) in s.shocks.iter().enumerate() {
            let c = report.shocks.get(k).copied().unwrap_or_default();
            let t = report
                .trade_effects
                .iter()
                .zip(s.shocks.iter().filter(|x| x.kind_name() == "trade_growth"))
                .find(|(_, x)| x.name == sh.name)
                .map(|(e, _)| *e)
                .unwrap_or_default();
            let when = |x: Time| {
                if x == Time::MAX {
                    String::new()
                } else {
                    iso_time(s.epoch, x)
                }
            };
            w.write_record([
                self.replication.to_string(),
                s.variant.clone(),
                sh.name.clone(),
                sh.kind_name().to_string(),
                sh.target.clone(),
                when(sh.from),
                when(sh.to),
                c.rerouted.to_string(),
                c.queued.to_string(),
                c.failed.to_string(),
                t.added.to_string(),
                format!("{:.2}", t.added_usd),
                t.removed.to_string(),
                format!("{:.2}", t.removed_usd),
            ])
            .map_err(|e| Error::csv(self.path("shocks.csv"), e))?;
        }
        w.flush()
            .map_err(|e| Error::io(self.path("shocks.csv"), e))?;
        Ok(s.shocks.len() as u64)
    }

    /// Writes the unit's corridors.csv and rails.csv rows; returns their row counts.
    fn write_aggregates(&self, liquidity: &[LiquidityStats]) -> Result<(u64, u64)> {
        let s = self.s;
        let mut corridors = csv_part(
            &self.parts,
            &self.prefix,
            &self.shown,
            "corridors.csv",
            &mut Vec::new(),
        )?;
        let mut n_corr = 0;
        for ((rep, corridor, rail), agg) in self.metrics.groups() {
            let spec = &s.rails[*rail as usize];
            let c = &s.trade.corridors[*corridor as usize];
            let mut row: Vec<String> = vec![
                rep.to_string(),
                s.variant.clone(),
                c.code.clone(),
                s.members[c.exporter].code.clone(),
                s.members[c.importer].code.clone(),
                spec.name.clone(),
                spec.kind().to_string(),
                format!("{:.2}", c.annual_usd * s.days as f64 / 365.0),
            ];
            row.extend(group_fields(agg));
            corridors
                .write_record(&row)
                .map_err(|e| Error::csv(self.path("corridors.csv"), e))?;
            n_corr += 1;
        }
        corridors
            .flush()
            .map_err(|e| Error::io(self.path("corridors.csv"), e))?;

        let mut rails = csv_part(
            &self.parts,
            &self.prefix,
            &self.shown,
            "rails.csv",
            &mut Vec::new(),
        )?;
        let mut n_rails = 0;
        for ((rep, rail), agg) in &self.metrics.by_rail() {
            let spec = &s.rails[*rail as usize];
            let mut row: Vec<String> = vec![
                rep.to_string(),
                s.variant.clone(),
                spec.name.clone(),
                spec.kind().to_string(),
            ];
            row.extend(group_fields(agg));
            let l = liquidity.get(*rail as usize).cloned().unwrap_or_default();
            row.extend([
                format!("{:.2}", l.peak_usd),
                format!("{:.2}", l.mean_usd),
                format!("{:.2}", l.carry_usd),
                format!("{:.2}", l.carry_unallocated_usd),
                format!("{:.2}", l.line_interest_usd),
                format!("{:.2}", l.central_bank_cost_usd),
            ]);
            rails
                .write_record(&row)
                .map_err(|e| Error::csv(self.path("rails.csv"), e))?;
            n_rails += 1;
        }
        rails
            .flush()
            .map_err(|e| Error::io(self.path("rails.csv"), e))?;
        Ok((n_corr, n_rails))
    }
}

fn group_fields(a: &Agg) -> Vec<String> {
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:.6}")
        } else {
            String::new()
        }
    };
    vec![
        a.payments.to_string(),
        a.settled.to_string(),
        a.returned.to_string(),
        a.failed.to_string(),
        a.unsettled.to_string(),
        a.fallback.to_string(),
        a.value_usd.to_string(),
        a.fees_usd.to_string(),
        a.spread_usd.to_string(),
        a.drift_usd.to_string(),
        a.liquidity_usd.to_string(),
        a.float_usd.to_string(),
        a.total_cost_usd.to_string(),
        a.cost_usd.to_string(),
        a.settled_value_usd.to_string(),
        f(a.cost_bps_weighted()),
        f(a.cost_bps_mean()),
        f(a.cost_bps.quantile(0.5)),
        f(a.cost_bps.quantile(0.95)),
        f(a.latency_h.quantile(0.5)),
        f(a.latency_h.quantile(0.95)),
        f(a.share(a.within_1h)),
        f(a.share(a.same_day)),
        f(a.share(a.within_1bd)),
        a.principal_at_risk_usd_h.to_string(),
        a.usd_bought.to_string(),
        a.usd_sold.to_string(),
    ]
}

impl Sink for RunWriter<'_> {
    fn payment(&mut self, r: &PaymentRecord) -> Result<()> {
        self.metrics.add(r);
        let Some(w) = &mut self.payments else {
            return Ok(());
        };
        self.rows_payments += 1;
        let (n, epoch, b, times) = (
            &mut self.names,
            self.epoch_unix,
            &mut self.row,
            &mut self.times,
        );
        let text = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(s.as_bytes());
            b.push(b',');
        };
        let boolean =
            |b: &mut Vec<u8>, x: bool| b.extend_from_slice(if x { b"true," } else { b"false," });
        let usd = |b: &mut Vec<u8>, x: Cents| {
            push_cents(b, x);
            b.push(b',');
        };
        b.clear();
        n.push_lead(b, r.replication);
        push_u64(b, r.payment_id);
        b.push(b',');
        n.push_route(b, r);
        boolean(b, r.fallback);
        boolean(b, r.rerouted);
        push_hours_4dp(b, r.queued_s);
        b.push(b',');
        text(b, r.bearer.as_str());
        text(b, &n.currencies[r.invoice_ccy.index()]);
        push_decimal(b, r.invoice_amount);
        b.push(b',');
        let c = &r.cents;
        usd(b, c.value);
        times[0].push(b, epoch + r.invoiced_at);
        b.push(b',');
        times[1].push(b, epoch + r.initiated_at);
        b.push(b',');
        if let Some(t) = r.settled_at {
            times[2].push(b, epoch + t);
        }
        b.push(b',');
        if let Some(l) = r.latency_s {
            push_hours_4dp(b, l);
        }
        b.push(b',');
        boolean(b, r.within_1h);
        boolean(b, r.same_day);
        boolean(b, r.within_1bd);
        push_u64(b, u64::from(r.hops));
        b.push(b',');
        for x in [
            c.fees,
            c.spread,
            c.drift,
            c.liquidity,
            c.float,
            c.total,
            c.cost,
        ] {
            usd(b, x);
        }
        push_decimal(b, r.cost_bps);
        b.push(b',');
        usd(b, Cents::of(r.principal_at_risk_usd_h));
        usd(b, c.usd_bought);
        usd(b, c.usd_sold);
        b.extend_from_slice(r.status.as_str().as_bytes());
        b.push(b'\n');
        w.write_all(b)
            .map_err(|e| Error::io(self.path("payments.csv"), e))
    }

    fn fx(&mut self, t: Time, ccy: CurrencyId, mid_per_usd: Decimal) -> Result<()> {
        self.rows_fx += 1;
        let time = iso_time(self.s.epoch, t);
        self.fx
            .write_record([
                self.replication.to_string().as_str(),
                &self.s.variant,
                &time,
                self.s.currencies.code(ccy),
                &mid_per_usd.normalize().to_string(),
            ])
            .map_err(|e| Error::csv(self.path("fx.csv"), e))?;
        Ok(())
    }

    fn liquidity(&mut self, t: Time, rail: usize, b: &Balance) -> Result<()> {
        self.rows_liquidity += 1;
        let s = self.s;
        self.liquidity
            .write_record([
                self.replication.to_string().as_str(),
                &self.s.variant,
                &iso_time(s.epoch, t),
                &s.rails[rail].name,
                &b.holder,
                s.currencies.code(b.ccy),
                &b.balance.to_string(),
                &Cents::of(b.balance_usd).to_string(),
            ])
            .map_err(|e| Error::csv(self.path("liquidity.csv"), e))?;
        Ok(())
    }

    fn report(&mut self, r: &ReportRow) -> Result<()> {
        let s = self.s;
        let Some((table, w, rows)) = self.reports.iter_mut().find(|(t, ..)| *t == r.table) else {
            return Err(Error::Invariant(format!(
                "a rail reported into {}, which no rail kind registers",
                r.table.file
            )));
        };
        if r.cells.len() != table.columns.len() {
            return Err(Error::Invariant(format!(
                "a row for {} has {} cells for {} columns",
                table.file,
                r.cells.len(),
                table.columns.len()
            )));
        }
        *rows += 1;
        let mut fields = Vec::with_capacity(3 + r.cells.len());
        fields.push(self.replication.to_string());
        fields.push(self.s.variant.clone());
        fields.push(s.rails[r.rail].name.clone());
        fields.extend(r.cells.iter().map(|c| match c {
            Cell::Count(n) => n.to_string(),
            Cell::Time(t) => iso_time(s.epoch, *t),
            Cell::Usd(x) => Cents::of(*x).to_string(),
            Cell::Ratio6(None) | Cell::Member(None) => String::new(),
            Cell::Ratio6(Some(x)) => {
                let mut x = x.round_dp(6);
                x.rescale(6);
                x.to_string()
            }
            Cell::Member(Some(m)) => s.members[*m].code.clone(),
            Cell::Round2(x) => x.round_dp(2).to_string(),
        }));
        w.write_record(&fields)
            .map_err(|e| Error::csv(self.shown.join(table.file), e))
    }

    fn depth(
        &mut self,
        t: Time,
        pair: (CurrencyId, CurrencyId),
        volume_usd_per_day: f64,
        half_spread_bps: f64,
    ) -> Result<()> {
        self.rows_depth += 1;
        let s = self.s;
        self.depth
            .write_record([
                self.replication.to_string().as_str(),
                &self.s.variant,
                &iso_time(s.epoch, t),
                &format!(
                    "{}/{}",
                    s.currencies.code(pair.0),
                    s.currencies.code(pair.1)
                ),
                &format!("{volume_usd_per_day:.2}"),
                &format!("{half_spread_bps:.6}"),
            ])
            .map_err(|e| Error::csv(self.path("depth.csv"), e))?;
        Ok(())
    }
}
