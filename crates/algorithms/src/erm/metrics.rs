//! What an estimate achieves: overlaps with the teacher, the exact test error of a fresh
//! Gaussian input, and the training loss and error.

use super::dot;
use faer::Par;
use gardner_models::data::matvec;
use gardner_models::{Dataset, Loss, class_error};
use serde::{Deserialize, Serialize};

/// What an estimate achieves on its data set and on fresh inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// m = ŵ·w*/d.
    pub m: f64,
    /// q = ŵ·ŵ/d.
    pub q: f64,
    /// arccos(ŵ·w*/(‖ŵ‖ ‖w*‖))/π: the exact probability that sign(x·ŵ) ≠ sign(x·w*) for a
    /// fresh Gaussian input x ([`class_error`] with the instance's own ‖w*‖²/d; ½ for ŵ = 0).
    pub test_error: f64,
    /// (1/n) Σ ℓ(y_μ, X_μ·ŵ).
    pub train_loss: f64,
    /// (1/n) #{μ: y_μ X_μ·ŵ < 0}.
    pub train_error: f64,
}

/// [`Metrics`] of `w` on `data` for `loss`.
pub fn metrics(data: &Dataset, loss: Loss, w: &[f64]) -> Metrics {
    let d = data.d() as f64;
    let n = data.n();
    let mut z = vec![0.0; n];
    matvec(&data.x, w, &mut z, Par::Seq);
    let ws = dot(w, &data.w_star);
    let (ww, ss) = (dot(w, w), dot(&data.w_star, &data.w_star));
    let train_loss = data
        .y
        .iter()
        .zip(&z)
        .map(|(&y, &z)| loss.value(y, z))
        .sum::<f64>()
        / n as f64;
    let train_error =
        data.y.iter().zip(&z).filter(|(y, z)| *y * *z < 0.0).count() as f64 / n as f64;
    Metrics {
        m: ws / d,
        q: ww / d,
        test_error: class_error(ws / d, ww / d, ss / d),
        train_loss,
        train_error,
    }
}
