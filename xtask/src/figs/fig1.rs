//! fig1 — spherical perceptron (talk, "Spherical perceptron"; Barbier et al. 2019):
//! Bayes-optimal classification error vs α from state evolution, and GAMP at finite d.
//! Teacher: w* ~ N(0, ρ I), y = sign(X w*).

use super::common::{
    BayesVsGamp, ModelSpec, SimSpec, check_alphas, gamp_summary, merge_status, opt, pick, se_status,
};
use crate::figure::{Cell, Ctx, Figure, Output, Plot, Result, Series, Table, agreement, err};
use gardner_algorithms::gamp;
use gardner_theory::{SeConfig, bayes_point};
use serde::{Deserialize, Serialize};

/// `papers/fig1.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: ModelSpec,
    /// Base seed of the simulation streams.
    seed: u64,
    /// α at which the large-α constant α·ε is reported.
    large_alpha: f64,
    #[serde(default)]
    gamp: gamp::Config,
    #[serde(default)]
    se: SeConfig,
    quick: SimSpec,
    default: SimSpec,
    full: SimSpec,
}

/// GAMP stops when ‖Δa‖²/(dρ) < 1e-10: errors below ~1e-6 are not resolved.
const SIM_RESOLUTION: f64 = 1e-6;

pub struct Fig1;

impl Figure for Fig1 {
    fn id(&self) -> &'static str {
        "fig1"
    }
    fn title(&self) -> &'static str {
        "Spherical perceptron: Bayes-optimal classification error vs alpha, GAMP"
    }
    fn paper(&self) -> &'static str {
        "Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019 (arXiv:1708.03395); Gardner, Derrida 1989"
    }
    fn run(&self, ctx: &Ctx) -> Result<Output> {
        let spec: Spec = ctx.spec()?;
        let (prior, channel) = spec.model.build()?;
        let sim: &SimSpec = pick(ctx, &spec.quick, &spec.default, &spec.full);
        check_alphas("large_alpha", &[spec.large_alpha])?;
        let large = bayes_point(&prior, &channel, spec.large_alpha, &spec.se)
            .map_err(|e| err(format!("alpha = {}: {e}", spec.large_alpha)))?;
        let run = BayesVsGamp::run(
            ctx,
            "fig1",
            &spec.model,
            sim,
            &[],
            &spec.se,
            &spec.gamp,
            spec.seed,
        )?;
        let (grid, theory, sweep) = (&run.grid, &run.theory, &run.sweep);

        let mut table = Table::new(&[
            "alpha",
            "m_se",
            "gen_error_bayes",
            "gen_error_gamp_mean",
            "gen_error_gamp_stderr",
            "m_gamp_mean",
            "m_gamp_stderr",
            "gen_error_sq_bayes",
            "status",
        ]);
        let (mut line, mut pts, mut errs, mut pairs) = (vec![], vec![], vec![], vec![]);
        for (k, &alpha) in grid.iter().enumerate() {
            let (m, eps, eps_sq, tstatus) = match &theory[k] {
                Ok(p) => (
                    p.m_mmse,
                    p.class_error_bayes,
                    p.gen_error_sq_bayes,
                    se_status(&p.status),
                ),
                Err(e) => (f64::NAN, f64::NAN, f64::NAN, format!("failed: {e}")),
            };
            line.push((alpha, eps));
            let s = run.sim_at(sim, k);
            if let Some(p) = s {
                pts.push((alpha, p.mean("test_error")));
                errs.push(p.stderr("test_error"));
                pairs.push((eps, p.mean("test_error"), p.stderr("test_error")));
            }
            table.push(vec![
                Cell::Num(alpha),
                Cell::Num(m),
                Cell::Num(eps),
                opt(s.map(|p| p.mean("test_error"))),
                opt(s.map(|p| p.stderr("test_error"))),
                opt(s.map(|p| p.mean("m"))),
                opt(s.map(|p| p.stderr("m"))),
                Cell::Num(eps_sq),
                merge_status(&tstatus, s.map(|p| p.status.as_str())),
            ]);
        }

        let mut summary = toml::Table::new();
        let mut l = toml::Table::new();
        l.insert("alpha".into(), spec.large_alpha.into());
        l.insert("gen_error_bayes".into(), large.class_error_bayes.into());
        l.insert(
            "alpha_times_gen_error_bayes".into(),
            (spec.large_alpha * large.class_error_bayes).into(),
        );
        l.insert(
            "literature_asymptote".into(),
            "alpha * error -> 0.4417 as alpha -> infinity".into(),
        );
        summary.insert("large_alpha".into(), l.into());
        summary.insert(
            "simulation".into(),
            gamp_summary(sim, spec.seed, &spec.gamp, sweep)?.into(),
        );
        let mut a = agreement(pairs, SIM_RESOLUTION);
        a.insert(
            "compared".into(),
            "gen_error_bayes (SE) vs GAMP test error arccos(m/sqrt(rho q))/pi".into(),
        );
        summary.insert("agreement".into(), a.into());

        let plot = Plot {
            title: "Spherical perceptron: Bayes-optimal classification error".into(),
            x_label: "alpha = n/d".into(),
            y_label: "classification error".into(),
            log_y: true,
            series: vec![
                Series::line("Bayes-optimal (SE)", line),
                Series::points(
                    &format!("GAMP, d = {}, {} seeds", sim.d, sim.seeds),
                    pts,
                    errs,
                ),
            ],
            ..Plot::default()
        };
        Ok(Output {
            table,
            summary,
            plot,
            check_rel_tol: 1e-6,
        })
    }
}
