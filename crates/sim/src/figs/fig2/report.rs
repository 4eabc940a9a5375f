//! The report of fig2: rows per α, the parameters, the large-α constants and the agreement.

use super::*;

/// `[parameters]` of `data/fig2.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Parameters {
    #[serde(flatten)]
    pub model: Model,
    #[serde(flatten)]
    pub run: RunSpec,
    pub lambda_convention: &'static str,
    pub lambda_search: LambdaSearch,
    pub solver: SolverSpec,
    #[serde(flatten)]
    pub cost: SimulationSummary,
}

/// `[large_alpha]`: the constants α·ε at `theory.large_alpha`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LargeAlpha {
    pub alpha: f64,
    pub alpha_eps_bayes: f64,
    pub alpha_eps_logistic_opt: f64,
    pub lambda_opt_logistic: f64,
    pub logistic_over_bayes: f64,
    pub alpha_eps_ridge_opt: f64,
    pub lambda_opt_ridge: f64,
    pub alpha_eps_hinge_opt: f64,
    pub lambda_opt_hinge: f64,
    pub alpha_eps_max_margin: f64,
    pub status: Status,
    pub literature: String,
}

/// `[agreement]` over all losses, and per loss.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Agreements {
    #[serde(flatten)]
    pub all: Agreement,
    pub logistic: Agreement,
    pub square: Agreement,
    pub hinge: Agreement,
}

/// The body of `data/fig2.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub parameters: Parameters,
    pub large_alpha: LargeAlpha,
    pub agreement: Agreements,
}

impl Fig2 {
    /// [`Experiment::report`].
    pub(super) fn tables(&self, mode: Mode, sims: &Sims<Fig2>) -> Result<Report<Fig2>, Error> {
        let run = self.sizes.pick(mode);
        let theory = self.theory(&run.alphas)?;
        let mut pairs: [Vec<(f64, Stat)>; 3] = Default::default();
        let rows: Vec<Row> = (run.alphas.iter().zip(&theory))
            .map(|(&alpha, t)| {
                let mut notes = t.notes.clone();
                let [lo, sq, hi] = [0, 1, 2].map(|k| {
                    let Some(s) = sims.find(|p| p.loss == LOSSES[k] && same(p.alpha, alpha)) else {
                        return Stat::of(&[]);
                    };
                    if !s.status().is_ok() {
                        notes.push(format!("{} sim: {}", LOSSES[k], s.status()));
                    }
                    let error = s.stat(|o| o.metrics.test_error);
                    pairs[k].push((t.error[k], error));
                    error
                });
                Row {
                    alpha,
                    gen_error_bayes: t.bayes,
                    lambda_opt_logistic: t.lambda[0],
                    gen_error_logistic_opt: t.error[0],
                    gen_error_logistic_sim: lo,
                    gen_error_ridge_opt: t.error[1],
                    gen_error_hinge_opt: t.error[2],
                    gen_error_max_margin: t.max_margin,
                    lambda_opt_ridge: t.lambda[1],
                    gen_error_ridge_sim: sq,
                    lambda_opt_hinge: t.lambda[2],
                    gen_error_hinge_sim: hi,
                    status: Status::of_notes(notes),
                }
            })
            .collect();
        let a = self.theory.large_alpha;
        let l = self.theory(&[a])?.remove(0);
        let large_alpha = LargeAlpha {
            alpha: a,
            alpha_eps_bayes: a * l.bayes,
            alpha_eps_logistic_opt: a * l.error[0],
            lambda_opt_logistic: l.lambda[0],
            logistic_over_bayes: l.error[0] / l.bayes,
            alpha_eps_ridge_opt: a * l.error[1],
            lambda_opt_ridge: l.lambda[1],
            alpha_eps_hinge_opt: a * l.error[2],
            lambda_opt_hinge: l.lambda[2],
            alpha_eps_max_margin: a * l.max_margin,
            status: Status::of_notes(l.notes),
            literature: "Bayes ~ 0.4417/alpha; max-margin ~ 0.50/alpha; optimal logistic close to Bayes (see papers/README.md)".into(),
        };
        // Theory only, deterministic: Bayes from state evolution (as fig1), max-margin from a
        // fixed point at relative tolerance 1e-10; the optimal-λ errors at a λ located to 2e-3
        // in ln λ (an error flat to ~1e-7 there).
        let la = &large_alpha;
        let headline = [
            ("bayes", la.alpha_eps_bayes, 1e-9),
            ("logistic_opt", la.alpha_eps_logistic_opt, 1e-6),
            ("ridge_opt", la.alpha_eps_ridge_opt, 1e-6),
            ("hinge_opt", la.alpha_eps_hinge_opt, 1e-6),
            ("max_margin", la.alpha_eps_max_margin, 1e-8),
        ]
        .map(|(name, v, tol)| Headline::new(format!("alpha_eps_{name}_at_large_alpha"), v, tol));
        let agree = |what: &str, p: &[(f64, Stat)]| Agreement::of(what, p.iter().copied(), 0.0);
        let all: Vec<(f64, Stat)> = pairs.concat();
        let summary = Summary {
            parameters: Parameters {
                model: self.model,
                run: run.clone(),
                lambda_convention: "J = sum loss + (lambda/2)|w|^2, natural-log logistic loss",
                lambda_search: self.theory.search(),
                solver: self.solver,
                cost: SimulationSummary::of(sims),
            },
            large_alpha,
            agreement: Agreements {
                all: agree(
                    "gen_error_<loss>_opt vs exact ERM at the theory's lambda",
                    &all,
                ),
                logistic: agree("logistic", &pairs[0]),
                square: agree("square (ridge)", &pairs[1]),
                hinge: agree("hinge", &pairs[2]),
            },
        };
        let headline = headline.to_vec();
        Ok(Report {
            rows,
            summary,
            headline,
            check_rel_tol: 1e-6,
        })
    }
}
