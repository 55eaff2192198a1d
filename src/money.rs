//! Currencies, exact amounts and the one rounding rule.
//!
//! Every booked amount is a [`Decimal`] rounded to its currency's minor units with banker's
//! rounding (half to even) by [`Currencies::round`] — the only place amounts are rounded.
//! Floats appear only in random draws and statistics; a draw becomes money once, as an
//! integer count of minor units ([`minor_from_f64`]).

use rust_decimal::{Decimal, RoundingStrategy};

/// Index of a currency in the run's [`Currencies`]. USD is always 0: the numeraire in which
/// every cost is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CurrencyId(pub u16);

impl CurrencyId {
    pub const USD: CurrencyId = CurrencyId(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The currencies of a run: ISO codes and minor units. USD is built in at index 0.
#[derive(Debug, Clone)]
pub struct Currencies {
    codes: Vec<String>,
    minor_units: Vec<u32>,
}

impl Default for Currencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Currencies {
    /// A table holding only USD (2 minor units).
    pub fn new() -> Self {
        Self {
            codes: vec!["USD".to_string()],
            minor_units: vec![2],
        }
    }

    /// Adds a currency and returns its id; an existing code returns the existing id.
    pub fn add(&mut self, code: &str, minor_units: u32) -> CurrencyId {
        if let Some(id) = self.id(code) {
            return id;
        }
        self.codes.push(code.to_string());
        self.minor_units.push(minor_units);
        CurrencyId((self.codes.len() - 1) as u16)
    }

    pub fn id(&self, code: &str) -> Option<CurrencyId> {
        self.codes
            .iter()
            .position(|c| c == code)
            .map(|i| CurrencyId(i as u16))
    }

    pub fn code(&self, id: CurrencyId) -> &str {
        &self.codes[id.index()]
    }

    pub fn minor_units(&self, id: CurrencyId) -> u32 {
        self.minor_units[id.index()]
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = CurrencyId> + '_ {
        (0..self.codes.len()).map(|i| CurrencyId(i as u16))
    }

    /// Rounds `amount` to the currency's minor units, half to even. The one rounding rule.
    pub fn round(&self, id: CurrencyId, amount: Decimal) -> Decimal {
        round_minor(amount, self.minor_units[id.index()])
    }
}

/// Powers of ten up to 10^38, the largest that fits in 128 bits: looked up, not computed, on
/// the rounding path (`pow` is a loop of 128-bit multiplications).
pub const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `floor(2^128 / 10^k)` for k ≥ 1 (10^k is never a power of two, so this is `u128::MAX / 10^k`):
/// the reciprocals [`div_pow10`] multiplies by.
const RECIP_POW10: [u128; 39] = {
    let mut t = [0u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = u128::MAX / POW10[i];
        i += 1;
    }
    t
};

/// `(a / 10^k, a % 10^k)` for 1 ≤ k ≤ 19 in 64 bits, by a multiplication: with m = floor(2^64 /
/// 10^k) (the high half of the 128-bit reciprocal), a·m / 2^64 lies in (a/10^k − 1, a/10^k], so
/// one comparison corrects it. A 64-bit division is several times the latency.
#[inline]
fn div_rem_pow10_u64(a: u64, k: u32) -> (u64, u64) {
    let p = POW10[k as usize] as u64;
    let m = (RECIP_POW10[k as usize] >> 64) as u64;
    let mut q = ((u128::from(a) * u128::from(m)) >> 64) as u64;
    let mut r = a - q * p;
    if r >= p {
        q += 1;
        r -= p;
    }
    (q, r)
}

/// 10^k as an f64 for k ≤ 22: exact (5^22 < 2^53), so the same bits as `10f64.powi(k)`, which
/// multiplies exact powers, but looked up rather than a call to `__powidf2`.
const POW10_F64: [f64; 23] = {
    let mut t = [1.0f64; 23];
    let mut i = 1;
    while i < 23 {
        t[i] = t[i - 1] * 10.0;
        i += 1;
    }
    t
};

/// The high 128 bits of the 256-bit product `a × b`.
#[inline]
fn mul_high(a: u128, b: u128) -> u128 {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0, b1, b0) = (a >> 64, a & LOW, b >> 64, b & LOW);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    // Each term is below 2^64, so the sum of three fits in 128 bits.
    let middle = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64)
}

/// `(a / 10^k, a % 10^k)` for 1 ≤ k ≤ 38, by a multiplication instead of the 128-bit division
/// library call. With m = floor(2^128 / 10^k), a·m / 2^128 is at most a / 10^k and more than
/// a / 10^k − 1 (as a < 2^128), so its floor q' is the quotient or one below it: one
/// comparison corrects it, exactly.
#[inline]
fn div_pow10(a: u128, k: u32) -> (u128, u128) {
    let d = POW10[k as usize];
    let mut q = mul_high(a, RECIP_POW10[k as usize]);
    let mut r = a - q * d;
    if r >= d {
        q += 1;
        r -= d;
    }
    (q, r)
}

/// Rounds to `minor_units` decimal places, half to even (banker's rounding).
///
/// The same as `round_dp_with_strategy(.., MidpointNearestEven)`, done with one integer
/// division instead of a division by ten per dropped digit: USD values at t0 mids carry about
/// twenty decimals, and this runs for every booking and every printed amount.
pub fn round_minor(amount: Decimal, minor_units: u32) -> Decimal {
    let scale = amount.scale();
    if scale <= minor_units {
        return amount;
    }
    let drop = scale - minor_units;
    if drop > 28 {
        return amount.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointNearestEven);
    }
    let m = amount.mantissa();
    let q = round_half_even(m.unsigned_abs(), drop) as i128;
    Decimal::from_i128_with_scale(if m < 0 { -q } else { q }, minor_units)
}

/// `a / 10^drop` rounded half to even (`drop` ≤ 38), by a multiplication with the power's
/// reciprocal rather than a division: 64 by 64 bits where both fit, else 128 by 128
/// ([`div_pow10`]) rather than the 128-bit library call.
#[inline]
fn round_half_even(a: u128, drop: u32) -> u128 {
    let p = POW10[drop as usize];
    if let (Ok(a), Ok(p)) = (u64::try_from(a), u64::try_from(p)) {
        if drop == 0 {
            return u128::from(a);
        }
        let (q, r) = div_rem_pow10_u64(a, drop);
        // 2r against p without overflow: r against p − r.
        let up = match r.cmp(&(p - r)) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => q % 2 == 1,
            std::cmp::Ordering::Less => false,
        };
        return u128::from(q + u64::from(up));
    }
    if drop == 0 {
        return a;
    }
    let (q, r) = div_pow10(a, drop);
    let up = match r.cmp(&(p - r)) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 == 1,
        std::cmp::Ordering::Less => false,
    };
    q + u128::from(up)
}

/// `n / d` rounded to the nearest integer, for a figure that rust_decimal works out in
/// several rounded steps (a product, a quotient to 28 digits, then rounding to a few
/// decimals): each step moves the value by less than 10⁻²⁶ of it (or, for tiny values, 10⁻²⁸
/// absolute), so wherever the exact quotient lies farther than `(n + d)·2⁻⁶⁹` from a half —
/// some 10⁻²¹ of the value, and of one unit — those steps round to the same integer as the
/// exact quotient does. None nearer a half (a tie included; the caller then takes the steps
/// themselves) or when `d` is too wide for the arithmetic here.
pub fn nearest_unless_near_half(n: u128, d: u128) -> Option<u128> {
    if d == 0 || d >= 1 << 126 {
        return None;
    }
    let (q, r) = (n / d, n % d);
    let twice = 2 * r;
    let bound = (n >> 69) + (d >> 69) + 1;
    if twice.abs_diff(d) <= bound {
        return None;
    }
    Some(q + u128::from(twice > d))
}

/// `num / den` rounded half to even to `minor_units` decimals, as `round_minor(num / den,
/// minor_units)` gives it, worked out from the mantissas with one 128-bit division instead of
/// rust_decimal's 96-bit division. rust_decimal's quotient is within 10⁻²⁶ of the exact one
/// (relative) or half of its 28th decimal (absolute, for small quotients), inside
/// [`nearest_unless_near_half`]'s margin for up to 7 minor units, so wherever the exact quotient
/// lies farther than that margin from a half of the last kept digit the two round alike. It
/// must also lie that far from a whole number of minor units: there the 28-digit quotient
/// could come out with fewer decimals than `minor_units`, and `round_minor` would keep its
/// shorter scale. None in both cases (the caller divides), for a negative operand, or where
/// the operands are too wide for 128 bits.
pub fn quotient_minor(num: Decimal, den: Decimal, minor_units: u32) -> Option<Decimal> {
    // Below about 7.9 the quotient is held to 28 decimals, an absolute error of up to half of
    // 10⁻²⁸: 10^(minor_units − 28) / 2 of a minor unit, inside the margin below only up to
    // 7 minor units.
    if minor_units > 7 || num.is_sign_negative() || den.is_sign_negative() || den.is_zero() {
        return None;
    }
    let (nm, dm) = (num.mantissa().unsigned_abs(), den.mantissa().unsigned_abs());
    // num / den · 10^mu = nm · 10^(den scale + mu − num scale) / dm.
    let e = den.scale() as i64 + i64::from(minor_units) - num.scale() as i64;
    let (n, d) = if e >= 0 {
        (nm.checked_mul(*POW10.get(e as usize)?)?, dm)
    } else {
        (nm, dm.checked_mul(*POW10.get((-e) as usize)?)?)
    };
    if d >= 1 << 126 {
        return None;
    }
    let (q, r) = (n / d, n % d);
    let bound = (n >> 69) + (d >> 69) + 1;
    if r <= bound || d - r <= bound || (2 * r).abs_diff(d) <= bound {
        return None;
    }
    let q = q + u128::from(2 * r > d);
    Decimal::try_from_i128_with_scale(i128::try_from(q).ok()?, minor_units).ok()
}

/// `x.round()` (half away from zero), bit for bit, without the libm call `f64::round` is on
/// x86-64's baseline (it has no rounding instruction before SSE4.1): a payment rounds several
/// delays and figures.
#[inline]
pub fn round_f64(x: f64) -> f64 {
    // Below 2^52 truncation through i64 is exact, and so is the fraction; from there up every
    // float is a whole number, and NaN and the infinities round to themselves.
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = (x as i64) as f64;
        let frac = x - t;
        let r = if frac >= 0.5 {
            t + 1.0
        } else if frac <= -0.5 {
            t - 1.0
        } else {
            t
        };
        // The sign of x, as round keeps it (-0.3 rounds to -0).
        r.copysign(x)
    } else {
        x
    }
}

/// `x.ceil()`, bit for bit, inline for the same reason as [`round_f64`]; by the same argument,
/// below 2^52 the ceiling is the truncation or one more.
#[inline]
pub fn ceil_f64(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = (x as i64) as f64;
        let c = if t < x { t + 1.0 } else { t };
        // The sign of x, as ceil keeps it (-0.3 rounds up to -0).
        c.copysign(x)
    } else {
        x
    }
}

/// A booked amount as a float, for carry, sampled balances and other statistics (never for
/// booking). Every Decimal fits an f64's range, so the fallback of 0 is never taken.
///
/// The same bits as `rust_decimal`'s conversion, which splits the mantissa at the decimal
/// point with a 128-bit power and division: here the split is done in 64 bits when the
/// mantissa fits (every amount a payment carries but the widest USD values), and everything
/// after it is the same floating-point arithmetic in the same order.
pub fn to_f64(d: Decimal) -> f64 {
    let scale = d.scale();
    let m = d.mantissa().unsigned_abs();
    let (Ok(m), true) = (u64::try_from(m), (1..=19).contains(&scale)) else {
        return rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or(0.0);
    };
    let precision = POW10_F64[scale as usize];
    let (integral, frac) = div_rem_pow10_u64(m, scale);
    let frac_f64 = frac as f64 / precision;
    let integral = integral as f64;
    let neg = d.is_sign_negative();
    if frac_f64 == 0.0 {
        return if neg { -integral } else { integral };
    }
    let value = integral + frac_f64;
    let rounded = round_f64(value * precision) / precision;
    if neg { -rounded } else { rounded }
}

/// Turns a float draw into an exact amount once: rounds `amount` to whole minor units (half to
/// even) and builds the Decimal from the integer, never through `Decimal::try_from(f64)`.
/// Values beyond ±9.2e18 minor units saturate.
pub fn minor_from_f64(amount: f64, minor_units: u32) -> Decimal {
    let scale = POW10_F64
        .get(minor_units as usize)
        .copied()
        .unwrap_or_else(|| 10f64.powi(minor_units as i32));
    let scaled = amount * scale;
    let minor = scaled.round_ties_even();
    let minor = if minor.is_finite() {
        minor.clamp(i64::MIN as f64, i64::MAX as f64) as i64
    } else {
        0
    };
    Decimal::new(minor, minor_units)
}

/// A USD amount in whole cents. Printed amounts and every aggregate are sums of these, so a
/// column of corridors.csv is exactly the sum of the same column of payments.csv.
///
/// 128 bits: one payment is bounded by validation (at most [`MAX_PAYMENT_USD`]), but a sum over
/// a run of a hundred million payments is not bounded by 64 bits of cents; 128 bits hold any
/// `Decimal` (96-bit mantissa) in cents, so neither [`Cents::of`] nor a sum can overflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(pub i128);

/// The largest payment a scenario may describe, in USD (validation refuses larger sizes and
/// caps drawn sizes here): with rates held to [`crate::fx::process::MID_RANGE`], every amount a
/// payment books stays far inside exact decimal arithmetic.
pub const MAX_PAYMENT_USD: f64 = 1e11;

/// The largest amount (fee, limit, balance) a scenario may write in any currency.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000_000;

impl Cents {
    /// Rounds a USD amount to the cent, half to even. Exact for every `Decimal`.
    pub fn of(amount: Decimal) -> Cents {
        let (m, scale) = (amount.mantissa(), amount.scale());
        if scale <= 2 {
            // |mantissa| < 2^96, so × 100 fits in 128 bits.
            return Cents(m * POW10[(2 - scale) as usize] as i128);
        }
        // What `round_minor(amount, 2)` keeps as its mantissa (at scale 2), without building the
        // Decimal.
        let q = round_half_even(m.unsigned_abs(), scale - 2) as i128;
        Cents(if m < 0 { -q } else { q })
    }

    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::ops::AddAssign for Cents {
    fn add_assign(&mut self, o: Cents) {
        // Sums of at most ~1e8 payments of at most 1e13 cents: far inside 128 bits.
        self.0 += o.0;
    }
}

impl std::fmt::Display for Cents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// A value in US dollars at a fixed scale: a whole number of 10⁻¹⁷ USD.
///
/// What a payment costs is kept as USD values at its t0 mids: each amount it books, times the
/// dollar value of one unit of its currency (a 16-digit reciprocal of the mid), summed into
/// fees, spread and drift and printed to the cent. As `Decimal`s those values carry 20-28
/// significant digits, and adding them (unaligned, 96-bit mantissas) or multiplying them
/// (products wider than 96 bits, rescaled digit by digit) was the largest single cost of a run
/// (docs/performance.md). Here a value is one `i128`: sums are exact integer additions and a
/// product `amount × rate` is the exact product of the two mantissas, rounded once, half to
/// even, to 10⁻¹⁷ USD: fifteen orders of magnitude below the cent (`Decimal`'s 28 digits keep
/// that grain for values around $10¹¹, and a finer one below).
///
/// Range: ±1.7·10²¹ USD. A valid scenario's bookings stay below 1e17 units of a currency worth
/// at most 1e3 USD a unit (docs/reliability.md), so one booking is worth at most 1e20 USD and a
/// payment's handful of legs stays inside the range at rates near their opening values (a rate
/// path that moves by orders of magnitude while a payment is in flight can leave it).
/// Arithmetic never wraps: a value out of range becomes a sticky marker that every later sum
/// and difference carries, and [`Usd::is_saturated`] lets the simulator stop such a run with a
/// message naming the payment instead of printing a wrong figure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Usd(pub i128);

impl Usd {
    /// Decimal places: one unit is 10⁻¹⁷ USD.
    pub const SCALE: u32 = 17;
    pub const ZERO: Usd = Usd(0);

    /// `d` in units of 10⁻¹⁷ USD: exact when it has at most 17 decimals, else rounded half to
    /// even.
    pub fn from_decimal(d: Decimal) -> Usd {
        let m = d.mantissa();
        Usd::from_magnitude(m.unsigned_abs(), d.scale(), m < 0)
    }

    /// `a × b` (a USD value: an amount times the USD value of one of its units), the exact
    /// product rounded once to 10⁻¹⁷ USD, half to even. Products of two mantissas wider than
    /// 128 bits (never an amount times a 16-digit rate) go through `Decimal`'s product, which
    /// keeps 28 significant digits, and are then rounded to 10⁻¹⁷.
    #[inline]
    pub fn product(a: Decimal, b: Decimal) -> Usd {
        let (ma, mb) = (a.mantissa(), b.mantissa());
        let negative = (ma < 0) != (mb < 0);
        let (ua, ub) = (ma.unsigned_abs(), mb.unsigned_abs());
        // An amount times a 16-digit rate: both fit 64 bits, and their product is one widening
        // multiplication, not a 128 × 128-bit one with an overflow check.
        if let (Ok(a64), Ok(b64)) = (u64::try_from(ua), u64::try_from(ub)) {
            let p = u128::from(a64) * u128::from(b64);
            return Usd::from_magnitude(p, a.scale() + b.scale(), negative);
        }
        match ua.checked_mul(ub) {
            Some(p) => Usd::from_magnitude(p, a.scale() + b.scale(), negative),
            None => match a.checked_mul(b) {
                Some(d) => Usd::from_decimal(d),
                None => Usd::saturated(negative),
            },
        }
    }

    /// `magnitude × 10^-scale` USD with the sign given.
    #[inline]
    fn from_magnitude(magnitude: u128, scale: u32, negative: bool) -> Usd {
        let units = if scale <= Usd::SCALE {
            magnitude.checked_mul(POW10[(Usd::SCALE - scale) as usize])
        } else if scale - Usd::SCALE < POW10.len() as u32 {
            Some(round_half_even(magnitude, scale - Usd::SCALE))
        } else {
            Some(0)
        };
        match units.and_then(|u| i128::try_from(u).ok()) {
            Some(u) => Usd(if negative { -u } else { u }),
            None => Usd::saturated(negative),
        }
    }

    /// The marker of a value out of range. It is sticky: every sum, difference and absolute
    /// value with it is it, so two out-of-range values cannot cancel into a plausible figure.
    const OUT_OF_RANGE: Usd = Usd(i128::MIN);

    fn saturated(_negative: bool) -> Usd {
        Usd::OUT_OF_RANGE
    }

    /// Whether arithmetic ran out of range, here or in any value this one was computed from
    /// (see the type's documentation).
    pub fn is_saturated(self) -> bool {
        self == Usd::OUT_OF_RANGE
    }

    pub fn abs(self) -> Usd {
        if self.is_saturated() {
            return self;
        }
        Usd(self.0.abs())
    }

    /// The same value as a `Decimal`: exact below 7.9·10¹¹ USD (a 96-bit mantissa at 17
    /// decimals); above, rounded half to even to the decimals that fit.
    pub fn to_decimal(self) -> Decimal {
        const LIMIT: u128 = 1 << 96;
        let magnitude = self.0.unsigned_abs();
        if magnitude < LIMIT {
            // Every value below $7.9·10¹¹: exact, at 17 decimals.
            return Decimal::from_i128_with_scale(self.0, Usd::SCALE);
        }
        // The fewest decimals dropped (one rounding) that bring the mantissa under 96 bits:
        // at most a dozen, as i128 has 39 digits and a Decimal mantissa 28.
        let mut drop = 0;
        while drop < Usd::SCALE && magnitude / POW10[drop as usize] >= LIMIT {
            drop += 1;
        }
        let mut m = round_half_even(magnitude, drop);
        if m >= LIMIT && drop < Usd::SCALE {
            drop += 1;
            m = round_half_even(magnitude, drop);
        }
        let m = m.min(LIMIT - 1) as i128;
        Decimal::from_i128_with_scale(if self.0 < 0 { -m } else { m }, Usd::SCALE - drop)
    }

    /// Rounded to the cent, half to even (as [`Cents::of`] the same value as a `Decimal`).
    pub fn cents(self) -> Cents {
        let q = round_half_even(self.0.unsigned_abs(), Usd::SCALE - 2) as i128;
        Cents(if self.0 < 0 { -q } else { q })
    }

    /// As a float, for statistics (never for booking).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 1e17
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    #[inline]
    fn add(self, o: Usd) -> Usd {
        if self.is_saturated() || o.is_saturated() {
            return Usd::OUT_OF_RANGE;
        }
        self.0.checked_add(o.0).map_or(Usd::OUT_OF_RANGE, Usd)
    }
}

impl std::ops::Sub for Usd {
    type Output = Usd;
    #[inline]
    fn sub(self, o: Usd) -> Usd {
        if self.is_saturated() || o.is_saturated() {
            return Usd::OUT_OF_RANGE;
        }
        self.0.checked_sub(o.0).map_or(Usd::OUT_OF_RANGE, Usd)
    }
}

impl std::ops::AddAssign for Usd {
    #[inline]
    fn add_assign(&mut self, o: Usd) {
        *self = *self + o;
    }
}

impl std::ops::SubAssign for Usd {
    #[inline]
    fn sub_assign(&mut self, o: Usd) {
        *self = *self - o;
    }
}

impl std::fmt::Display for Usd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_decimal().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn usd_is_always_first() {
        let mut c = Currencies::new();
        assert_eq!(c.id("USD"), Some(CurrencyId::USD));
        let kzt = c.add("KZT", 2);
        assert_eq!(kzt, CurrencyId(1));
        assert_eq!(c.add("KZT", 2), kzt);
        assert_eq!(c.code(kzt), "KZT");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn rounding_is_half_to_even_at_minor_units() {
        let mut c = Currencies::new();
        let uzs = c.add("UZS", 0);
        assert_eq!(c.round(CurrencyId::USD, d("1.005")), d("1.00"));
        assert_eq!(c.round(CurrencyId::USD, d("1.015")), d("1.02"));
        assert_eq!(c.round(CurrencyId::USD, d("-2.345")), d("-2.34"));
        assert_eq!(c.round(uzs, d("12.5")), d("12"));
        assert_eq!(c.round(uzs, d("13.5")), d("14"));
    }

    #[test]
    fn cents_round_half_even_and_print_two_decimals() {
        assert_eq!(Cents::of(d("1.005")), Cents(100));
        assert_eq!(Cents::of(d("1.015")), Cents(102));
        assert_eq!(Cents::of(d("-0.5")), Cents(-50));
        assert_eq!(Cents::of(d("7")), Cents(700));
        assert_eq!(Cents::of(d("-0.004")).to_string(), "0.00");
        assert_eq!(Cents(-5).to_string(), "-0.05");
        assert_eq!(Cents(12_345_678).to_string(), "123456.78");
    }

    #[test]
    fn fast_rounding_agrees_with_rust_decimal() {
        let cases = [
            "0",
            "1.005",
            "1.015",
            "-2.345",
            "-2.355",
            "12.5",
            "13.5",
            "0.004999999999",
            "99.995",
            "-0.005",
            "123456789.123456789012345678",
            "7.958333",
            "0.0000000000000000000000000005",
            "79228162514264337593543950335",
            "-7.9228162514264337593543950335",
        ];
        for text in cases {
            let x = d(text);
            for units in [0, 2, 4, 8] {
                let expected =
                    x.round_dp_with_strategy(units, RoundingStrategy::MidpointNearestEven);
                let got = round_minor(x, units);
                assert_eq!(got, expected, "{text} to {units}");
                assert!(got.scale() <= units.max(x.scale().min(units)));
            }
        }
    }

    /// `round_minor` as it was, with one 128-bit division whatever the width.
    fn round_minor_u128(amount: Decimal, minor_units: u32) -> Decimal {
        let scale = amount.scale();
        if scale <= minor_units {
            return amount;
        }
        let drop = scale - minor_units;
        let m = amount.mantissa();
        let p = 10u128.pow(drop);
        let (q, r) = (m.unsigned_abs() / p, m.unsigned_abs() % p);
        let up = match (2 * r).cmp(&p) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => q % 2 == 1,
            std::cmp::Ordering::Less => false,
        };
        let q = (q + u128::from(up)) as i128;
        Decimal::from_i128_with_scale(if m < 0 { -q } else { q }, minor_units)
    }

    #[test]
    fn fast_rounding_and_cents_agree_with_rust_decimal_on_random_amounts() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(9);
        for _ in 0..200_000 {
            // Mantissas of every width up to 96 bits, every scale, both signs; ties included
            // (a mantissa ending in 5 followed by zeros).
            let bits = rng.random_range(1..=96u32);
            let mut m = rng.random::<u128>() >> (128 - bits);
            if rng.random::<f64>() < 0.1 {
                m = m / 1000 * 1000 + 500;
            }
            let m = (m & ((1u128 << 96) - 1)) as i128;
            let m = if rng.random::<bool>() { -m } else { m };
            let x = Decimal::from_i128_with_scale(m, rng.random_range(0..=28u32));
            for units in [0, 2, 4, 6] {
                let expected =
                    x.round_dp_with_strategy(units, RoundingStrategy::MidpointNearestEven);
                let got = round_minor(x, units);
                assert_eq!(got, expected, "{x} to {units}");
                // Bit for bit (sign of zero, scale) what the 128-bit division gave before.
                assert_eq!(
                    got.serialize(),
                    round_minor_u128(x, units).serialize(),
                    "{x} to {units}"
                );
            }
            let c = round_minor(x, 2);
            let old = c.mantissa() * 10i128.pow(2 - c.scale().min(2));
            assert_eq!(Cents::of(x), Cents(old), "{x}");
        }
    }

    #[test]
    fn to_f64_is_rust_decimal_bit_for_bit() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(13);
        for _ in 0..1_000_000 {
            let bits = rng.random_range(1..=96u32);
            let m = (rng.random::<u128>() >> (128 - bits)) as i128;
            let m = if rng.random::<bool>() { -m } else { m };
            let x = Decimal::from_i128_with_scale(m, rng.random_range(0..=28u32));
            let want = rust_decimal::prelude::ToPrimitive::to_f64(&x).unwrap();
            assert_eq!(to_f64(x).to_bits(), want.to_bits(), "{x}");
        }
    }

    #[test]
    fn float_draws_become_integer_minor_units() {
        assert_eq!(minor_from_f64(1234.5678, 2), d("1234.57"));
        assert_eq!(minor_from_f64(0.125, 2), d("0.12"));
        assert_eq!(minor_from_f64(12_608.4, 0), d("12608"));
        assert_eq!(minor_from_f64(f64::NAN, 2), Decimal::ZERO);
        assert_eq!(minor_from_f64(f64::INFINITY, 2), Decimal::ZERO);
    }

    /// `a / 10^drop` rounded half to even the plain way: one 128-bit division.
    fn round_half_even_by_u128(a: u128, drop: u32) -> u128 {
        let p = POW10[drop as usize];
        let (q, r) = (a / p, a % p);
        q + u128::from(2 * r > p || (2 * r == p && q % 2 == 1))
    }

    #[test]
    fn quotients_to_minor_units_are_the_decimal_division_bit_for_bit() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(47);
        let mut exact = 0;
        for i in 0..1_000_000u32 {
            // Amounts in minor units (up to 1e15) over client rates of up to 28 digits at any
            // scale; a share of them built to land within a few units of a half or of a whole
            // number of minor units, and some exact quotients. Up to 8 minor units (validation's
            // limit), where the shortcut declines.
            let mu = rng.random_range(0..=8u32);
            let num_digits = rng.random_range(1..=17u32);
            let num = Decimal::from_i128_with_scale(
                rng.random_range(0..10i128.pow(num_digits)),
                rng.random_range(0..=4u32),
            );
            let digits = rng.random_range(1..=28u32);
            let mut den = Decimal::from_i128_with_scale(
                rng.random_range(1..10i128.pow(digits)),
                rng.random_range(0..=28u32),
            );
            if i % 4 == 0 && !num.is_zero() {
                // den = num / (k + 1/2 ± tiny) · 10^mu, or num / k: a half, a grid point.
                let k = Decimal::from(rng.random_range(1..1_000_000i64));
                let target = if i % 8 == 0 {
                    k + Decimal::new(5, 1)
                } else {
                    k
                };
                let unit = Decimal::new(1, mu);
                if let Some(x) = num.checked_div(target * unit) {
                    den = x;
                }
            }
            if den.is_zero() {
                continue;
            }
            let Some(steps) = num.checked_div(den) else {
                continue;
            };
            let want = round_minor(steps, mu);
            if let Some(got) = quotient_minor(num, den, mu) {
                assert_eq!(got, want, "{num} / {den} to {mu}");
                assert_eq!(got.scale(), want.scale(), "{num} / {den} to {mu}");
                exact += 1;
            }
        }
        assert!(exact > 300_000, "{exact}");
        // At 8 minor units the division's own rounding to 28 decimals can decide: 0.01 /
        // 1999999.999999999999988 is 0.5 + 3·10⁻²¹ of a minor unit exactly, but rust_decimal
        // rounds it to a tie, which goes to even.
        let (num, den) = (d("0.01"), d("1999999.999999999999988"));
        assert_eq!(round_minor(num / den, 8), d("0.00000000"));
        assert_eq!(quotient_minor(num, den, 8), None);
    }

    #[test]
    fn division_by_a_power_of_ten_through_its_reciprocal_is_exact() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(41);
        for k in 1..=38u32 {
            let d = POW10[k as usize];
            // The edges: 0, d - 1, d, multiples of d and their neighbours, and the top.
            let mut xs = vec![0, d - 1, d, d + 1, u128::MAX, u128::MAX - 1];
            for _ in 0..20_000 {
                let bits = rng.random_range(1..=128u32);
                let a = rng.random::<u128>() >> (128 - bits);
                xs.push(a);
                if let Some(m) = (a / d).checked_mul(d) {
                    xs.extend([m, m.saturating_sub(1), m.saturating_add(1)]);
                }
            }
            for a in xs {
                assert_eq!(div_pow10(a, k), (a / d, a % d), "{a} / 10^{k}");
            }
        }
    }

    #[test]
    fn rounding_in_64_bits_matches_one_wide_division() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(29);
        for i in 0..2_000_000u32 {
            let drop = rng.random_range(0..=38u32);
            let bits = rng.random_range(1..=127u32);
            let mut a = rng.random::<u128>() >> (128 - bits);
            if i % 3 == 0 {
                // Exactly on a half, or a unit either side of it.
                let p = POW10[drop as usize];
                let q = a / p.max(1);
                if let Some(x) = q.checked_mul(p).and_then(|x| x.checked_add(p / 2)) {
                    a = x.saturating_add_signed(rng.random_range(-1..=1i128));
                }
            }
            assert_eq!(
                round_half_even(a, drop),
                round_half_even_by_u128(a, drop),
                "{a} / 10^{drop}"
            );
        }
        // The top of the 64-bit path, where its reciprocal's error is largest.
        for drop in 0..=19u32 {
            let p = POW10[drop as usize];
            let top = u128::from(u64::MAX);
            for a in [
                top,
                top - 1,
                top / p * p,
                (top / p * p).saturating_sub(p / 2),
            ] {
                assert_eq!(
                    round_half_even(a, drop),
                    round_half_even_by_u128(a, drop),
                    "{a} / 10^{drop}"
                );
            }
        }
    }

    #[test]
    fn usd_products_are_the_exact_product_rounded_once() {
        use rand::RngExt;
        use rust_decimal::RoundingStrategy::MidpointNearestEven;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(31);
        let mut checked = 0;
        for i in 0..1_000_000u32 {
            // An amount (up to 17 digits, 0-4 decimals) times a rate (up to 16 digits, scales
            // up to 22), as a payment's valuations are, plus a share of wider operands.
            let amount_digits = rng.random_range(1..=17u32);
            let amount = Decimal::from_i128_with_scale(
                rng.random_range(-(10i128.pow(amount_digits))..10i128.pow(amount_digits)),
                rng.random_range(0..=4u32),
            );
            // Mostly products that rust_decimal holds exactly (the reference below).
            let wide = i % 10 == 0;
            let rate_digits = if wide {
                27
            } else {
                rng.random_range(1..=(28 - amount_digits).min(16))
            };
            let rate = Decimal::from_i128_with_scale(
                rng.random_range(1..10i128.pow(rate_digits)),
                rng.random_range(0..=if wide { 28 } else { 22 }),
            );
            let got = Usd::product(amount, rate);
            // rust_decimal's own product, where it is exact (it fits 96 bits at scale <= 28),
            // then its own rounding to 17 decimals: an independent path to the same figure.
            let Some(exact) = amount.checked_mul(rate) else {
                continue;
            };
            let m = amount.mantissa().unsigned_abs() * rate.mantissa().unsigned_abs();
            if m >= 1 << 96 || amount.scale() + rate.scale() > 28 {
                continue;
            }
            let want = exact.round_dp_with_strategy(Usd::SCALE, MidpointNearestEven);
            // The range ends at i128::MAX units, 1.7014118346…e21 USD.
            if want.abs() >= d("1.70141e21") {
                assert!(
                    got.is_saturated() || want.abs() < d("1.70142e21"),
                    "{amount} × {rate}"
                );
                continue;
            }
            assert_eq!(got, Usd::from_decimal(want), "{amount} × {rate}");
            assert_eq!(got.to_decimal(), want, "{amount} × {rate}");
            checked += 1;
        }
        assert!(checked > 300_000, "{checked}");
    }

    #[test]
    fn usd_values_round_trip_and_round_to_cents_like_decimals() {
        use rand::RngExt;
        use rust_decimal::RoundingStrategy::MidpointNearestEven;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(37);
        for _ in 0..500_000 {
            let bits = rng.random_range(1..=126u32);
            let m = (rng.random::<u128>() >> (128 - bits)) as i128;
            let u = Usd(if rng.random::<bool>() { -m } else { m });
            let d = u.to_decimal();
            if m < 1 << 96 {
                // Exact: the same number of 10^-17 units.
                assert_eq!(d.mantissa(), u.0);
                assert_eq!(d.scale(), Usd::SCALE);
                assert_eq!(Usd::from_decimal(d), u);
            } else {
                // Rounded once to the decimals that fit: within half a unit of its last place.
                let dropped = Usd::SCALE - d.scale();
                assert_eq!(
                    d.mantissa().unsigned_abs(),
                    round_half_even_by_u128(u.0.unsigned_abs(), dropped),
                    "{u:?}"
                );
            }
            let cents = d.round_dp_with_strategy(2, MidpointNearestEven);
            if m < 1 << 96 {
                assert_eq!(u.cents(), Cents::of(cents), "{u:?}");
            }
        }
        // Half a cent rounds to even.
        assert_eq!(Usd::from_decimal(d("0.005")).cents(), Cents(0));
        assert_eq!(Usd::from_decimal(d("0.015")).cents(), Cents(2));
        assert_eq!(Usd::from_decimal(d("-2.345")).cents(), Cents(-234));
    }

    #[test]
    fn usd_arithmetic_saturates_and_says_so() {
        let big = Usd::from_decimal(d("1e21"));
        assert!(!big.is_saturated());
        assert!((big + big).is_saturated());
        assert!((Usd::ZERO - big - big).is_saturated());
        assert!(Usd::product(d("1e17"), d("1e5")).is_saturated());
        assert!(!Usd::product(d("1e17"), d("1e3")).is_saturated());
        assert_eq!(
            Usd::product(d("-3"), d("0.5")),
            Usd::from_decimal(d("-1.5"))
        );
        assert_eq!((Usd::ZERO - big).abs(), big);
        // Out of range is sticky: two such values do not cancel into a plausible zero.
        let out = big + big;
        assert!((out - out).is_saturated());
        assert!((out + Usd::ZERO - (big + big)).is_saturated());
        assert!(out.abs().is_saturated());
    }

    #[test]
    fn rounding_and_ceiling_floats_inline_are_the_standard_ones_bit_for_bit() {
        use rand::RngExt;
        let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(53);
        let two52 = 4_503_599_627_370_496.0f64;
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            two52,
            two52 - 0.5,
            -(two52 - 0.5),
            two52 + 1.0,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9.3e18,
            -9.3e18,
        ];
        for _ in 0..1_000_000 {
            // Every magnitude, halves and whole numbers, and their neighbours.
            let x = f64::from_bits(rng.random::<u64>());
            let whole = rng.random_range(-1e7..1e7f64).trunc();
            let half = whole + 0.5;
            xs.extend([x, half, half.next_up(), half.next_down()]);
            xs.extend([whole, whole.next_up(), whole.next_down()]);
        }
        for x in xs {
            for (got, want) in [(round_f64(x), x.round()), (ceil_f64(x), x.ceil())] {
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{x:e}: {got:e} against {want:e}"
                );
            }
        }
    }

    #[test]
    fn powers_of_ten_as_floats_are_the_exact_ones_powi_gives() {
        for k in 0..=22u32 {
            assert_eq!(
                POW10_F64[k as usize].to_bits(),
                10f64.powi(k as i32).to_bits()
            );
            assert_eq!(POW10_F64[k as usize], POW10[k as usize] as f64);
        }
    }
}
