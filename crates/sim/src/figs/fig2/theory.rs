//! The theory side of fig2: at each α the Bayes-optimal error (state evolution) and, per
//! loss, the ERM fixed point at the λ minimising the test error (Brent in ln λ), and the
//! max-margin limit of the hinge.

use super::*;

/// Theory at one α: per loss (in [`LOSSES`] order) the optimal λ and its error, the notes.
#[derive(Debug, Clone)]
pub(super) struct Theory {
    pub(super) bayes: f64,
    pub(super) lambda: [f64; 3],
    pub(super) error: [f64; 3],
    pub(super) max_margin: f64,
    /// Problems of the theory, as status notes (empty: all fine).
    pub(super) notes: Vec<String>,
}

impl TheorySpec {
    pub(super) fn search(&self) -> LambdaSearch {
        let (lambda_min, lambda_max) = (self.lambda_min, self.lambda_max);
        let (grid, log_tol) = (self.lambda_grid, self.log_tol);
        LambdaSearch {
            lambda_min,
            lambda_max,
            grid,
            log_tol,
        }
    }
}

impl Fig2 {
    pub(super) fn model(&self) -> Result<(Gaussian, Probit), Error> {
        let m = &self.model;
        Ok((Gaussian::new(m.rho)?, Probit::new(m.probit_delta)?))
    }
    pub(super) fn theory_at(&self, alpha: f64) -> Result<Theory, Error> {
        let (prior, channel) = self.model()?;
        let bp = bayes_point(&prior, &channel, alpha, &SeConfig::default())
            .map_err(|e| format!("bayes alpha = {alpha}: {e}"))?;
        let mut notes = Vec::new();
        if !bp.status.converged() {
            notes.push("bayes: not_converged".to_string());
        }
        let (cfg, rho) = (ErmConfig::default(), self.model.rho);
        let (mut lambda, mut error) = ([f64::NAN; 3], [f64::NAN; 3]);
        for (k, &loss) in LOSSES.iter().enumerate() {
            match ErmProblem::new(alpha, 1.0, rho, loss, channel)
                .and_then(|p| erm_theory::optimal_lambda(&p, &cfg, &self.theory.search()))
            {
                Err(e) => notes.push(format!("failed: {loss} theory: {e}")),
                Ok(o) => {
                    (lambda[k], error[k]) = (o.lambda, o.point.test_error);
                    if !o.status.converged() {
                        notes.push(format!("{loss} theory: {}", o.status.status()));
                    }
                    if o.at_bound {
                        notes.push(format!("{loss} lambda_opt at search bound {:e}", o.lambda));
                    }
                }
            }
        }
        let max_margin = match ErmProblem::new(alpha, 0.0, rho, Loss::Hinge, channel)
            .and_then(|p| erm_theory::max_margin(&p, &cfg))
        {
            Err(e) => {
                notes.push(format!("failed: max_margin: {e}"));
                f64::NAN
            }
            Ok(pt) => {
                if !pt.status.converged() {
                    notes.push(format!("max_margin: {}", pt.status.status()));
                }
                pt.test_error
            }
        };
        let bayes = bp.class_error_bayes;
        Ok(Theory {
            bayes,
            lambda,
            error,
            max_margin,
            notes,
        })
    }
    /// Theory at every α of `alphas`, computing (in parallel) only the α not seen before.
    pub(super) fn theory(&self, alphas: &[f64]) -> Result<Vec<Theory>, Error> {
        check_alphas("theory", alphas)?;
        let memo = || self.memo.lock().map_err(|e| e.to_string());
        let todo: Vec<f64> = (alphas.iter().copied())
            .filter(|&a| !memo().is_ok_and(|m| m.iter().any(|(b, _)| *b == a)))
            .collect();
        if !todo.is_empty() {
            note(format!(
                "fig2: Bayes and optimal-lambda ERM theory at {} alphas…",
                todo.len()
            ));
        }
        let new: Vec<(f64, Theory)> = (todo.par_iter())
            .map(|&a| self.theory_at(a).map(|t| (a, t)))
            .collect::<Result<_, _>>()?;
        let mut memo = memo()?;
        memo.extend(new);
        let get = |a: f64| memo.iter().find(|(b, _)| *b == a).map(|p| p.1.clone());
        (alphas.iter())
            .map(|&a| get(a).ok_or_else(|| format!("no theory at alpha = {a}").into()))
            .collect()
    }
}
