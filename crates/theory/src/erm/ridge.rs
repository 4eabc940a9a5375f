//! The square loss (ridge) in closed form, and the label slope E[y z]/ρ it depends on.

use super::problem::{ErmConfig, ErmPoint, ErmProblem, Overlaps, Teacher0, test_label_error};
use super::{ErmError, KINK_RANGE, check_binary, classification_error};
use gardner_models::Channel;
use gardner_models::gauss::expect_normal_split;
use gardner_models::run::Termination;

/// E[y z]/ρ for the channel, by a split Gaussian integral: with ω ~ N(0, ρ/2) and
/// z | ω ~ N(ω, ρ/2), E[y z] = E_ω Σ_y y Z₀(y, ω, ρ/2) (ω + (ρ/2) g_out(y, ω, ρ/2)).
pub fn label_slope<C: Channel>(channel: &C, rho: f64, tol: f64) -> Result<f64, ErmError> {
    check_binary(channel)?;
    let h = 0.5 * rho;
    let s = h.sqrt();
    let r = expect_normal_split(
        |u| {
            let w = s * u;
            [-1.0, 1.0]
                .iter()
                .map(|&y| {
                    let z0 = channel.log_z(y, w, h).exp();
                    let g = channel.g_out(y, w, h).0;
                    y * z0 * (w + h * g)
                })
                .sum()
        },
        &[0.0],
        tol,
    )
    .map_err(|source| ErmError::Integration {
        quantity: "E[y z]",
        m: f64::NAN,
        q: f64::NAN,
        v: f64::NAN,
        source,
    })?;
    Ok(r / rho)
}

/// Ridge (square loss) in closed form, any λ ≥ 0.
///
/// Only a = E[y z]/ρ and E y² = 1 enter. With κ = α V²/(1+V)²:
/// V solves λ V² + (λ + α − 1) V − 1 = 0 (the Marchenko–Pastur Stieltjes transform),
/// m̂ = α a/(1+V), V̂ = α/(1+V), m = α a ρ V/(1+V), q (1 − κ) = κ (α a² ρ + 1 − 2 a m),
/// q̂ = α (1 − 2 a m + q)/(1+V)², training loss ½ (1 − 2 a m + q)/(1+V)².
/// λ → 0: α > 1 least squares (V = 1/(α − 1)); α < 1 the least-norm interpolator
/// (V → ∞: m = α a ρ, q = α (1 − α a² ρ)/(1 − α), training loss 0); α = 1 diverges (error).
/// The training error needs one integral (P(y ω < −V)), done with the checked quadrature.
pub fn ridge_closed_form<C: Channel>(
    p: &ErmProblem<C>,
    config: &ErmConfig,
) -> Result<ErmPoint, ErmError> {
    let (alpha, lam, rho) = (p.alpha, p.lambda, p.rho);
    let a = label_slope(&p.channel, rho, config.quad_tol)?;
    let interpolator = lam == 0.0 && alpha < 1.0;
    let (m, q, v, vfrac) = if interpolator {
        let m = alpha * a * rho;
        (
            m,
            alpha * (1.0 - alpha * a * a * rho) / (1.0 - alpha),
            f64::INFINITY,
            1.0,
        )
    } else {
        let v = if lam == 0.0 {
            if alpha <= 1.0 {
                return Err(ErmError::InvalidParameter {
                    name: "alpha",
                    value: alpha,
                    bound: "!= 1 for least squares at lambda = 0 (the estimator diverges)",
                });
            }
            1.0 / (alpha - 1.0)
        } else {
            let b = lam + alpha - 1.0;
            // stable root of λ V² + b V − 1 = 0
            2.0 / (b + (b * b + 4.0 * lam).sqrt())
        };
        let vf = v / (1.0 + v);
        let m = alpha * a * rho * vf;
        let kappa = alpha * vf * vf;
        (
            m,
            kappa * (alpha * a * a * rho + 1.0 - 2.0 * a * m) / (1.0 - kappa),
            v,
            vf,
        )
    };
    let one_over = 1.0 - vfrac; // 1/(1+V)
    let m_hat = alpha * a * one_over;
    let v_hat = alpha * one_over;
    let resid = 1.0 - 2.0 * a * m + q; // E (y − ω)²
    let q_hat = alpha * resid * one_over * one_over;
    let train_loss = 0.5 * resid * one_over * one_over;
    let train_error = if interpolator {
        0.0
    } else {
        let s = q.sqrt();
        // P(y ω < −V): y ω < −V ⟺ ξ on one side of −y V/√q
        let kinks = {
            let mut k = vec![-v / s, 0.0, v / s];
            k.retain(|x| x.abs() < KINK_RANGE);
            k.sort_by(f64::total_cmp);
            k
        };
        let t = Teacher0 {
            channel: &p.channel,
            m,
            q,
            rho,
        };
        expect_normal_split(
            |xi| {
                let w = s * xi;
                [-1.0, 1.0]
                    .iter()
                    .map(|&y| if y * w < -v { t.z0(y, xi) } else { 0.0 })
                    .sum()
            },
            &kinks,
            config.quad_tol,
        )
        .map_err(|source| ErmError::Integration {
            quantity: "train_error",
            m,
            q,
            v,
            source,
        })?
    };
    let label_err = test_label_error(&p.channel, m, q, v, rho, config.quad_tol)?;
    Ok(ErmPoint {
        alpha,
        lambda: lam,
        overlaps: Overlaps {
            m,
            q,
            v,
            m_hat,
            q_hat,
            v_hat,
        },
        test_error: classification_error(m, q, rho),
        test_label_error: label_err,
        train_loss,
        train_error,
        objective_per_d: alpha * train_loss + 0.5 * lam * q,
        iterations: 0,
        status: Termination::Converged,
    })
}
