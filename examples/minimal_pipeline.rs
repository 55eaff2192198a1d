//! The speed reference of issue 9: a minimal five-event payment pipeline with exact money and
//! one CSV row per payment, written without any of kervan's code, to be timed side by side
//! with `kervan run` (scripts/speed-ratio.sh; docs/performance.md).
//!
//! What it does per payment, and nothing more: a Poisson arrival on one of 20 corridors with a
//! lognormal size (the same size curve and count as the default year), then five events on a
//! binary-heap event queue, each some exponential minutes after the one before —
//! 1. initiate: the invoice, rounded to the payer's minor unit;
//! 2. debit: the payer's account pays the amount and a flat fee to its bank (ledger postings);
//! 3. convert out: the payer's currency sold for US dollars at the mid less a half-spread,
//!    rounded to cents;
//! 4. convert in: the dollars (less a correspondent fee) sold for the payee's currency at the
//!    mid less a half-spread, rounded to its minor unit;
//! 5. credit: the payee's account is credited; the payment's fees, spread and cost, valued in
//!    dollars at the mids, are rounded to cents and its row is written to payments.csv.
//!
//! Money is `rust_decimal::Decimal` throughout; floats only for the random draws. Usage:
//! `cargo run --release --example minimal_pipeline -- OUT_DIR [PAYMENTS]` (default 166 909,
//! the default year's count). It writes OUT_DIR/payments.csv, refusing an existing file.
//! `cargo bench --bench ratio` runs the same function in process, alternated with `kervan run`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::BufWriter;
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
use rust_decimal::Decimal;

/// Currencies: code, minor units, mid (units per USD).
const CURRENCIES: [(&str, u32, &str); 5] = [
    ("TRY", 2, "41.2537"),
    ("AZN", 2, "1.7000"),
    ("KZT", 2, "523.1400"),
    ("KGS", 2, "87.4500"),
    ("UZS", 2, "12150.2500"),
];

/// A year in seconds, over which the arrivals are spread.
const SPAN_S: f64 = 365.0 * 86_400.0;

struct Payment {
    id: u64,
    from: usize,
    to: usize,
    initiated_s: i64,
    amount: Decimal,
    usd: Decimal,
    received: Decimal,
    fees_usd: Decimal,
    spread_usd: Decimal,
}

/// The default year's number of payments (`kervan run` of ots-baseline).
pub const DEFAULT_PAYMENTS: u64 = 166_909;

// The bench includes this file as a module and calls `run` only.
#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: minimal_pipeline OUT_DIR [PAYMENTS]")?;
    let count: u64 = args.next().map_or(Ok(DEFAULT_PAYMENTS), |n| n.parse())?;
    let total = run(Path::new(&out), count)?;
    eprintln!("{count} payments; sum of all balances (mixed currencies): {total}");
    Ok(())
}

/// Runs `count` payments through the pipeline into `out`/payments.csv and returns the sum of
/// all ledger balances (zero: the books balance), so the work cannot be optimised away.
pub fn run(out: &Path, count: u64) -> Result<Decimal, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out.join("payments.csv"))?;
    let mut csv = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
    csv.write_record([
        "payment_id",
        "from",
        "to",
        "amount",
        "received",
        "initiated_s",
        "settled_s",
        "latency_h",
        "fees_usd",
        "spread_usd",
        "cost_usd",
    ])?;

    let mut rng = rand_pcg::Pcg64::seed_from_u64(20250101);
    let mids: Vec<Decimal> = CURRENCIES.iter().map(|c| c.2.parse().unwrap()).collect();
    // Dollars per unit, once: valuing in dollars is then a multiplication.
    let usd_per: Vec<Decimal> = mids.iter().map(|m| Decimal::ONE / m).collect();
    let half_spread = Decimal::new(25, 4); // 25 bps
    let fee_usd = Decimal::new(2500, 2);
    let size = LogNormal::new(40_000f64.ln(), 1.6)?;
    let gap = Exp::new(count as f64 / SPAN_S)?;
    let step = Exp::new(1.0 / 1_800.0)?; // half an hour on average between events

    // Ledger: per currency, [payer clients, banks, dealer, payee clients].
    let mut balances = vec![Decimal::ZERO; CURRENCIES.len() * 4];
    let mut usd_dealer = Decimal::ZERO;
    // Payments in flight, in slots reused once their row is written.
    let mut payments: Vec<Option<Payment>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut queue: BinaryHeap<Reverse<(i64, u64, usize, u8)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut next_arrival = 0f64;
    let mut arrived = 0u64;
    let mut field = String::new();

    loop {
        // Arrivals are merged with the queue in time order.
        let next_event = queue.peek().map(|Reverse(e)| e.0);
        let arrival_s = next_arrival as i64;
        if arrived < count && next_event.is_none_or(|t| arrival_s <= t) {
            let from = rng.random_range(0..CURRENCIES.len());
            let to = (from + rng.random_range(1..CURRENCIES.len())) % CURRENCIES.len();
            let cents = (size.sample(&mut rng) * 100.0).round().max(1.0) as i64;
            let usd = Decimal::new(cents, 2);
            let payment = Some(Payment {
                id: arrived,
                from,
                to,
                initiated_s: arrival_s,
                amount: Decimal::ZERO,
                usd,
                received: Decimal::ZERO,
                fees_usd: Decimal::ZERO,
                spread_usd: Decimal::ZERO,
            });
            let slot = match free.pop() {
                Some(slot) => {
                    payments[slot] = payment;
                    slot
                }
                None => {
                    payments.push(payment);
                    payments.len() - 1
                }
            };
            queue.push(Reverse((arrival_s, seq, slot, 1)));
            seq += 1;
            arrived += 1;
            next_arrival += gap.sample(&mut rng);
            continue;
        }
        let Some(Reverse((now, _, slot, stage))) = queue.pop() else {
            break;
        };
        let p = payments[slot].as_mut().expect("a payment in flight");
        match stage {
            1 => {
                p.amount = (p.usd * mids[p.from]).round_dp(CURRENCIES[p.from].1);
            }
            2 => {
                let fee = (fee_usd * mids[p.from]).round_dp(CURRENCIES[p.from].1);
                balances[p.from * 4] -= p.amount + fee;
                balances[p.from * 4 + 1] += fee;
                balances[p.from * 4 + 2] += p.amount;
                p.fees_usd += fee * usd_per[p.from];
            }
            3 => {
                let at_mid = p.amount * usd_per[p.from];
                let usd = (at_mid * (Decimal::ONE - half_spread)).round_dp(2);
                p.spread_usd += at_mid - usd;
                usd_dealer += usd;
                p.usd = usd;
            }
            4 => {
                let sent = p.usd - fee_usd;
                p.fees_usd += fee_usd;
                let received =
                    (sent * mids[p.to] * (Decimal::ONE - half_spread)).round_dp(CURRENCIES[p.to].1);
                p.spread_usd += sent - received * usd_per[p.to];
                usd_dealer -= p.usd;
                balances[p.to * 4 + 2] -= received;
                p.received = received;
            }
            _ => {
                balances[p.to * 4 + 3] += p.received;
                let p = payments[slot].take().expect("a payment in flight");
                free.push(slot);
                let fees = p.fees_usd.round_dp(2);
                let spread = p.spread_usd.round_dp(2);
                let latency_h = Decimal::new(now - p.initiated_s, 0) / Decimal::from(3_600);
                for value in [
                    Field::Int(p.id as i64),
                    Field::Str(CURRENCIES[p.from].0),
                    Field::Str(CURRENCIES[p.to].0),
                    Field::Dec(p.amount),
                    Field::Dec(p.received),
                    Field::Int(p.initiated_s),
                    Field::Int(now),
                    Field::Dec(latency_h.round_dp(4)),
                    Field::Dec(fees),
                    Field::Dec(spread),
                    Field::Dec(fees + spread),
                ] {
                    field.clear();
                    match value {
                        Field::Int(i) => write!(field, "{i}")?,
                        Field::Str(s) => field.push_str(s),
                        Field::Dec(d) => write!(field, "{d}")?,
                    }
                    csv.write_field(&field)?;
                }
                csv.write_record(None::<&[u8]>)?;
                continue;
            }
        }
        let next_s = now + step.sample(&mut rng) as i64;
        queue.push(Reverse((next_s, seq, slot, stage + 1)));
        seq += 1;
    }
    csv.flush()?;
    // What left the payers' accounts is with the banks, the dealers and the payees (the
    // dealers hold the spreads).
    Ok(balances.iter().sum::<Decimal>() + usd_dealer)
}

enum Field {
    Int(i64),
    Str(&'static str),
    Dec(Decimal),
}
