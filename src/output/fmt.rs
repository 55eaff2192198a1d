//! Fast text for the hot output path: decimals from their mantissa and scale, integers and
//! fixed-point hours (ISO 8601 timestamps are `engine::push_iso_time`), written byte by byte into a row buffer. A year of
//! payments is hundreds of thousands of rows of 28 fields: `write!` and `Display` cost more
//! than the simulation itself.

use std::mem::MaybeUninit;

use rust_decimal::Decimal;

/// "00" to "99": integers are printed two digits per division.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Decimal digits of `n` (1 for 0).
#[inline]
fn digit_count(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Writes `n` into all of `dst`, two digits at a time from the right, with leading zeros if
/// `dst` is longer than `n` has digits (the caller sizes it: a number's own digits, or a
/// fraction's fixed width).
#[inline]
fn write_digits(dst: &mut [MaybeUninit<u8>], mut n: u64) {
    let mut i = dst.len();
    while i >= 2 {
        let k = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        dst[i].write(PAIRS[k]);
        dst[i + 1].write(PAIRS[k + 1]);
    }
    if i == 1 {
        dst[0].write(b'0' + (n % 10) as u8);
    }
}

/// Appends `len` bytes that `fill` writes, every one of them, straight into the row's spare
/// capacity: numbers are written where they end up, not into a scratch buffer and copied
/// (each copy of a few bytes was a call to `memmove`; a row has thirty of them).
#[inline]
fn append(out: &mut Vec<u8>, len: usize, fill: impl FnOnce(&mut [MaybeUninit<u8>])) {
    out.reserve(len);
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: `reserve` made room for `len` more bytes and `fill` initialised all of them
    // (every writer here writes each position of the slice it is given: see the tests).
    unsafe { out.set_len(out.len() + len) }
}

/// Appends an unsigned integer.
#[inline]
pub fn push_u64(out: &mut Vec<u8>, n: u64) {
    append(out, digit_count(n), |dst| write_digits(dst, n));
}

/// Appends a decimal exactly as `Display` would: sign, integer part, and `scale` fractional
/// digits (trailing zeros kept).
pub fn push_decimal(out: &mut Vec<u8>, d: Decimal) {
    let scale = d.scale() as usize;
    let m = d.mantissa();
    let negative = m < 0;
    let n = m.unsigned_abs();
    // Almost every amount fits in 64 bits: integer and fraction are then written in place.
    if let Ok(n) = u64::try_from(n) {
        // The scales a row prints most (cents, bps to 6 decimals) divide by a constant, which
        // compiles to a multiplication.
        let (int, frac) = match scale {
            0 => (n, 0),
            2 => (n / 100, n % 100),
            4 => (n / 10_000, n % 10_000),
            6 => (n / 1_000_000, n % 1_000_000),
            _ => match crate::money::POW10.get(scale).map(|&p| u64::try_from(p)) {
                Some(Ok(p)) => (n / p, n % p),
                // 10^scale past 64 bits: the whole mantissa is fraction.
                _ => (0, n),
            },
        };
        let int_len = digit_count(int);
        let len = usize::from(negative) + int_len + if scale > 0 { scale + 1 } else { 0 };
        append(out, len, |dst| {
            let mut at = 0;
            if negative {
                dst[0].write(b'-');
                at = 1;
            }
            write_digits(&mut dst[at..at + int_len], int);
            if scale > 0 {
                dst[at + int_len].write(b'.');
                let frac_dst = &mut dst[at + int_len + 1..];
                if scale <= 19 {
                    write_digits(frac_dst, frac);
                } else {
                    // A fraction of 20-28 digits is the mantissa itself with leading zeros:
                    // the zeros, then its last 19 digits (a u64 has at most 20).
                    let (head, tail) = frac_dst.split_at_mut(scale - 19);
                    let p = 10u64.pow(19);
                    write_digits(head, frac / p);
                    write_digits(tail, frac % p);
                }
            }
        });
        return;
    }
    if negative {
        out.push(b'-');
    }
    let mut digits = [0u8; 40];
    let mut i = digits.len();
    let mut written = 0;
    // At least scale + 1 digits, so 0.05 prints its leading zero.
    let mut n = n;
    while n > 0 || written <= scale {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        written += 1;
    }
    let all = &digits[i..];
    let int_len = all.len() - scale;
    out.extend_from_slice(&all[..int_len]);
    if scale > 0 {
        out.push(b'.');
        out.extend_from_slice(&all[int_len..]);
    }
}

/// Appends whole cents as `-1234.05`.
pub fn push_cents(out: &mut Vec<u8>, c: crate::money::Cents) {
    let negative = c.0 < 0;
    let a = c.0.unsigned_abs();
    // Cents of one payment fit in 64 bits, where dividing by 100 is a multiplication (128-bit
    // division is a library call).
    if let Ok(a) = u64::try_from(a) {
        let (units, cents) = (a / 100, a % 100);
        let units_len = digit_count(units);
        append(out, usize::from(negative) + units_len + 3, |dst| {
            let at = usize::from(negative);
            if negative {
                dst[0].write(b'-');
            }
            write_digits(&mut dst[at..at + units_len], units);
            dst[at + units_len].write(b'.');
            write_digits(&mut dst[at + units_len + 1..], cents);
        });
        return;
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice((a / 100).to_string().as_bytes());
    out.push(b'.');
    let cents = (a % 100) as usize;
    out.extend_from_slice(&PAIRS[cents * 2..cents * 2 + 2]);
}

/// Appends `seconds` as hours with four decimals, rounded to nearest. (`s × 10⁴ / 3600` is
/// `s × 25 / 9`, which is never exactly half-way, so no tie rule is needed.)
pub fn push_hours_4dp(out: &mut Vec<u8>, seconds: i64) {
    if seconds < 0 {
        out.push(b'-');
    }
    let s = seconds.unsigned_abs() as u128;
    let ten_thousandths = (s * 50 + 9) / 18;
    push_decimal(
        out,
        Decimal::from_i128_with_scale(ten_thousandths as i128, 4),
    );
}

/// A field as CSV needs it: quoted, with inner quotes doubled, when it holds a comma, a quote or
/// a line break. Names from scenarios go through this once, not per row.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn random_integers_and_decimals_print_like_display() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(43);
        let mut edges = vec![0u64, 9, 10, 99, 100, u64::MAX];
        for k in 1..20 {
            edges.extend([10u64.pow(k) - 1, 10u64.pow(k), 10u64.pow(k) + 1]);
        }
        for n in edges {
            assert_eq!(s(|v| push_u64(v, n)), n.to_string());
        }
        for _ in 0..300_000 {
            let bits = rng.random_range(1..=64u32);
            let n = rng.random::<u64>() >> (64 - bits);
            assert_eq!(s(|v| push_u64(v, n)), n.to_string());
            let bits = rng.random_range(1..=96u32);
            let m = (rng.random::<u128>() >> (128 - bits)) as i128;
            let m = if rng.random::<bool>() { -m } else { m };
            let d = Decimal::from_i128_with_scale(m, rng.random_range(0..=28u32));
            // After other text, as in a row.
            let got = s(|v| {
                v.extend_from_slice(b"x,");
                push_decimal(v, d)
            });
            assert_eq!(got, format!("x,{d}"), "{d:?}");
        }
    }

    #[test]
    fn decimals_print_like_display() {
        for text in [
            "0",
            "0.00",
            "0.05",
            "-0.05",
            "12.5",
            "-1234.5678",
            "100000.00",
            "7.958333",
            "-0.000001",
            "79228162514264337593543950335",
        ] {
            let d: Decimal = text.parse().unwrap();
            assert_eq!(s(|v| push_decimal(v, d)), d.to_string(), "{text}");
        }
        let mut d = Decimal::new(5, 0);
        d.rescale(2);
        assert_eq!(s(|v| push_decimal(v, d)), "5.00");
    }

    #[test]
    fn integers_and_hours() {
        for n in [
            0u64,
            7,
            9,
            10,
            99,
            100,
            101,
            999,
            12_345,
            1_000_000,
            u64::MAX,
        ] {
            assert_eq!(s(|v| push_u64(v, n)), n.to_string());
        }
        for secs in [0i64, 1, 2, 5_400, 3_000, 1_645, 86_399, 237_599, 1_000_003] {
            assert_eq!(
                s(|v| push_hours_4dp(v, secs)),
                format!("{:.4}", secs as f64 / 3_600.0),
                "{secs}"
            );
        }
    }

    #[test]
    fn cents_print_like_display() {
        use crate::money::Cents;
        for c in [
            0i128,
            5,
            -5,
            99,
            100,
            -101,
            12_345_678,
            i128::from(u64::MAX),
            i128::from(u64::MAX) + 1,
            -i128::from(u64::MAX) * 1_000,
            i128::MAX,
            -i128::MAX,
        ] {
            assert_eq!(s(|v| push_cents(v, Cents(c))), Cents(c).to_string(), "{c}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("TR->AZ"), "TR->AZ");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
