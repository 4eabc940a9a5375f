//! The figures of the talk as experiments (one module each; the catalogue is in the
//! README; how each is shown is in [`crate::views`]). Shared pieces: the teacher model
//! section, α grids, GAMP tasks ([`bayes`]), GD/SGD/p-SGD on phase retrieval ([`psgd`]); the
//! templates are in [`crate::kit`]. fig6 and fig7 are two specs of one type ([`dynamics`]).

pub mod bayes;

pub mod dynamics;
pub mod fig1;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod fig8;
pub mod psgd;

use crate::Error;
pub use crate::experiment::{check_counts, check_positive};
use gardner_models::{AnyChannel, AnyPrior, ChannelSpec, PriorSpec};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Print progress notes of the theory side on stderr (front ends turn this on).
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// A progress note on stderr, when verbose.
pub fn note(msg: impl std::fmt::Display) {
    if VERBOSE.load(Ordering::Relaxed) {
        eprintln!("{msg}");
    }
}

/// `[model]`: the teacher's prior and channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub prior: PriorSpec,
    pub channel: ChannelSpec,
}

impl ModelSpec {
    /// Validated prior and channel.
    pub fn build(&self) -> Result<(AnyPrior, AnyChannel), Error> {
        Ok((self.prior.build()?, self.channel.build()?))
    }
}

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
