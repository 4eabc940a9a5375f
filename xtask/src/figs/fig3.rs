//! fig3 — optimal phase retrieval (talk, "Optimal phase retrieval"; Barbier et al. 2019):
//! MMSE and AMP error vs α from the replica free entropy and state evolution, the thresholds
//! α_IT and α_AMP, and GAMP from a random start at finite d.

use super::common::{
    BayesVsGamp, ModelSpec, SimSpec, gamp_summary, merge_status, opt, pick, se_status,
};
use crate::figure::{Cell, Ctx, Figure, Output, Plot, Result, Series, Table, agreement, err};
use gardner_algorithms::gamp;
use gardner_theory::{SeConfig, ThresholdConfig, thresholds};
use serde::{Deserialize, Serialize};

/// `papers/fig3.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: ModelSpec,
    /// Base seed of the simulation streams.
    seed: u64,
    /// α window around α_AMP excluded from `[agreement_away_from_transition]`.
    transition_window: f64,
    #[serde(default)]
    gamp: gamp::Config,
    #[serde(default)]
    se: SeConfig,
    #[serde(default)]
    thresholds: ThresholdConfig,
    quick: SimSpec,
    default: SimSpec,
    full: SimSpec,
}

/// GAMP stops when ‖Δa‖²/(dρ) < 1e-10: errors below ~1e-6 are not resolved.
const SIM_RESOLUTION: f64 = 1e-6;

pub struct Fig3;

impl Figure for Fig3 {
    fn id(&self) -> &'static str {
        "fig3"
    }
    fn title(&self) -> &'static str {
        "Optimal phase retrieval: MMSE and AMP error vs alpha, alpha_IT and alpha_AMP"
    }
    fn paper(&self) -> &'static str {
        "Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019 (arXiv:1708.03395)"
    }
    fn run(&self, ctx: &Ctx) -> Result<Output> {
        let spec: Spec = ctx.spec()?;
        let (prior, channel) = spec.model.build()?;
        let sim: &SimSpec = pick(ctx, &spec.quick, &spec.default, &spec.full);
        if ctx.progress {
            eprintln!("fig3: thresholds…");
        }
        let th = thresholds(&prior, &channel, &spec.thresholds)
            .map_err(|e| err(format!("thresholds: {e}")))?;
        let alpha_amp = th.alpha_amp.unwrap_or(f64::NAN);
        let alpha_it = th.alpha_it.unwrap_or(f64::NAN);
        // Points just either side of each threshold, so the table and the plot show the jumps.
        let extra: Vec<f64> = [th.alpha_it, th.alpha_amp]
            .into_iter()
            .flatten()
            .flat_map(|a| [a * (1.0 - 1e-6), a * (1.0 + 1e-6)])
            .collect();
        let run = BayesVsGamp::run(
            ctx,
            "fig3",
            &spec.model,
            sim,
            &extra,
            &spec.se,
            &spec.gamp,
            spec.seed,
        )?;
        let (grid, theory, sweep) = (&run.grid, &run.theory, &run.sweep);

        let mut table = Table::new(&[
            "alpha",
            "mmse",
            "mse_amp",
            "mse_gamp_mean",
            "mse_gamp_stderr",
            "m_amp",
            "m_gamp_mean",
            "m_gamp_stderr",
            "gamp_iterations_mean",
            "status",
        ]);
        let (mut mmse_line, mut amp_line, mut gamp_pts, mut gamp_err) =
            (vec![], vec![], vec![], vec![]);
        let (mut all, mut away) = (vec![], vec![]);
        for (k, &alpha) in grid.iter().enumerate() {
            let (mmse, mse_amp, m_amp, tstatus) = match &theory[k] {
                Ok(p) => (p.mmse, p.mse_amp, p.m_amp, se_status(&p.status)),
                Err(e) => (f64::NAN, f64::NAN, f64::NAN, format!("failed: {e}")),
            };
            mmse_line.push((alpha, mmse));
            amp_line.push((alpha, mse_amp));
            let s = run.sim_at(sim, k);
            if let Some(p) = s {
                let (mean, se) = (p.mean("mse"), p.stderr("mse"));
                gamp_pts.push((alpha, mean));
                gamp_err.push(se);
                all.push((mse_amp, mean, se));
                if (alpha - alpha_amp).abs() > spec.transition_window {
                    away.push((mse_amp, mean, se));
                }
            }
            table.push(vec![
                Cell::Num(alpha),
                Cell::Num(mmse),
                Cell::Num(mse_amp),
                opt(s.map(|p| p.mean("mse"))),
                opt(s.map(|p| p.stderr("mse"))),
                Cell::Num(m_amp),
                opt(s.map(|p| p.mean("m"))),
                opt(s.map(|p| p.stderr("m"))),
                opt(s.map(|p| p.mean("iterations"))),
                merge_status(&tstatus, s.map(|p| p.status.as_str())),
            ]);
        }

        let mut summary = toml::Table::new();
        let mut t = toml::Table::new();
        t.insert("alpha_it".into(), alpha_it.into());
        t.insert("alpha_amp".into(), alpha_amp.into());
        t.insert("it_kind".into(), format!("{:?}", th.it_kind).into());
        t.insert("literature_alpha_it".into(), 1.0.into());
        t.insert(
            "literature_alpha_amp".into(),
            "1.128 (SE data: jump between 1.1270 and 1.1285)".into(),
        );
        summary.insert("thresholds".into(), t.into());
        summary.insert(
            "simulation".into(),
            gamp_summary(sim, spec.seed, &spec.gamp, sweep)?.into(),
        );
        let mut a = agreement(all, SIM_RESOLUTION);
        a.insert(
            "compared".into(),
            "mse_amp (SE from a small overlap) vs GAMP mean MSE".into(),
        );
        summary.insert("agreement".into(), a.into());
        let mut a = agreement(away, SIM_RESOLUTION);
        a.insert(
            "window".into(),
            format!("|alpha - alpha_amp| > {}", spec.transition_window).into(),
        );
        summary.insert("agreement_away_from_transition".into(), a.into());

        let plot = Plot {
            title: "Phase retrieval, Gaussian prior: Bayes-optimal and AMP error".into(),
            x_label: "alpha = n/d".into(),
            y_label: "mean squared error".into(),
            vlines: vec![
                (alpha_it, format!("alpha_IT = {alpha_it:.4}")),
                (alpha_amp, format!("alpha_AMP = {alpha_amp:.4}")),
            ],
            series: vec![
                Series::line("MMSE (global max of f_RS)", mmse_line),
                Series::line("AMP (SE from small m)", amp_line),
                Series::points(
                    &format!("GAMP, d = {}, {} seeds", sim.d, sim.seeds),
                    gamp_pts,
                    gamp_err,
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
