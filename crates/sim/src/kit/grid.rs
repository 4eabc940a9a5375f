//! α grids shared by the figures: checked lists of α, the theory grid of `[from, to, step]`
//! segments, and the equality of two grid points.

use crate::Error;
use crate::experiment::check_positive;

/// Check a list of α: each > 0 and finite; the error names `<section>.alphas`.
pub fn check_alphas(section: &str, alphas: &[f64]) -> Result<(), Error> {
    for &a in alphas {
        check_positive(&format!("{section}.alphas"), a)?;
    }
    Ok(())
}

/// Points of `[from, to, step]` segments plus `extra`, sorted, duplicates (to 1e-9) removed.
pub fn theory_grid(section: &str, segments: &[[f64; 3]], extra: &[f64]) -> Result<Vec<f64>, Error> {
    let mut v = Vec::new();
    for &[from, to, step] in segments {
        if !(from > 0.0 && to >= from && step > 0.0 && from.is_finite() && to.is_finite()) {
            return Err(Error::Spec(format!(
                "invalid parameter `{section}.theory_segments` = [{from}, {to}, {step}]: need 0 < from <= to and step > 0"
            )));
        }
        let k = ((to - from) / step + 1e-9).floor() as usize;
        v.extend((0..=k).map(|i| ((from + i as f64 * step) * 1e12).round() / 1e12));
    }
    check_alphas(section, extra)?;
    v.extend(extra.iter().copied());
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    Ok(v)
}

/// Whether `a` and `b` are the same α (to 1e-9).
pub fn same(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}
