//! fig5 — gradient descent on an over-parametrised two-layer network with quadratic
//! activation for phase retrieval (talk, "GD for over-parametrised phase retrieval"; Sarao
//! Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020, arXiv:2006.15459).
//!
//! `gardner_algorithms::overparam` from W(0) ~ N(0, 1) on fresh teacher data for every
//! (d, m, α, seed); success = gen_error = ‖A − A*‖²_F/‖A*‖²_F < 1e-3 within the time budget
//! (convergence is algebraic in time, so success is relative to `max_steps · step`, recorded in
//! the summary). Per (d, m): success rate with Wilson intervals, gen_error mean ± s.e.; α_½ with a
//! bootstrap interval; the theorem's α = 2 for m ≥ d beside it; 1/d extrapolation per width
//! rule when ≥ 3 sizes cross inside the grid.

use super::fig4::{
    BootstrapSpec, check_bootstrap, crossing_table, extrapolation_table, pick, rate_series,
    row_status, success_point, sweep_options,
};
use crate::figure::{Cell, Ctx, Figure, Output, Plot, Result, Table, err};
use gardner_algorithms::Termination;
use gardner_algorithms::gd::{Problem, spherical_teacher};
use gardner_algorithms::overparam;
use gardner_sim::success::{SizeEstimate, SuccessPoint};
use gardner_sim::{Grid, Point, PointSummary, Record, run_sweep};
use serde::{Deserialize, Serialize};

/// A run size: dimensions, width rules, α grid, seeds per (d, m, α).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SizeSpec {
    dims: Vec<usize>,
    /// Width rules: "1", an integer, "d", "2d", "d/4", "0.5d".
    widths: Vec<String>,
    alphas: Vec<f64>,
    seeds: usize,
}

/// GD settings of the spec (m_hidden comes from the width rules).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GdSpec {
    step: f64,
    max_steps: usize,
    loss_tol: f64,
    grad_tol: f64,
    record_every: usize,
    stall_check_time: Option<f64>,
}

/// `papers/fig5.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    seed: u64,
    /// The theorem's threshold for m ≥ d (Theorem 3.1 of 2006.15459).
    theorem_alpha: f64,
    gd: GdSpec,
    bootstrap: BootstrapSpec,
    quick: SizeSpec,
    default: SizeSpec,
    full: SizeSpec,
}

/// m for a width rule at dimension d (at least 1).
fn width(rule: &str, d: usize) -> Result<usize> {
    let r = rule.trim();
    let bad = || {
        err(format!(
            "invalid width rule `{rule}`: expected an integer, \"d\", \"2d\", \"0.5d\" or \"d/4\""
        ))
    };
    let m = if let Some(k) = r.strip_prefix("d/") {
        let k: f64 = k.trim().parse().map_err(|_| bad())?;
        if !(k > 0.0) {
            return Err(bad());
        }
        (d as f64 / k).round()
    } else if let Some(c) = r.strip_suffix('d') {
        let c: f64 = if c.trim().is_empty() {
            1.0
        } else {
            c.trim().parse().map_err(|_| bad())?
        };
        if !(c > 0.0) {
            return Err(bad());
        }
        (c * d as f64).round()
    } else {
        r.parse::<usize>().map_err(|_| bad())? as f64
    };
    Ok((m as usize).max(1))
}

pub struct Fig5;

impl Figure for Fig5 {
    fn id(&self) -> &'static str {
        "fig5"
    }
    fn title(&self) -> &'static str {
        "Over-parametrised two-layer GD on phase retrieval: success vs alpha for several widths m"
    }
    fn paper(&self) -> &'static str {
        "Sarao Mannelli, Vanden-Eijnden, Zdeborová, NeurIPS 2020 (arXiv:2006.15459)"
    }
    fn run(&self, ctx: &Ctx) -> Result<Output> {
        let spec: Spec = ctx.spec()?;
        let section = ctx.mode.name();
        let size: &SizeSpec = pick(ctx, &spec.quick, &spec.default, &spec.full);
        super::fig4::check_size(section, &size.dims, &size.alphas, size.seeds)?;
        check_bootstrap(&spec.bootstrap)?;
        if size.widths.is_empty() {
            return Err(err(format!(
                "invalid parameter `{section}.widths` = []: must be non-empty"
            )));
        }
        let g = &spec.gd;
        let base = overparam::Config {
            m_hidden: 1,
            step: g.step,
            max_steps: g.max_steps,
            loss_tol: g.loss_tol,
            grad_tol: g.grad_tol,
            record_every: g.record_every,
            threads: 1,
            stop_on_success: true,
            stall_check_time: g.stall_check_time,
            halve_on_increase: true,
            max_halvings: 20,
        };
        base.validate()?;

        // points: for each d, each width rule (distinct m), each α
        let mut points = Vec::new();
        let mut groups: Vec<(usize, usize, String)> = Vec::new();
        for &d in &size.dims {
            for rule in &size.widths {
                let m = width(rule, d)?;
                if groups.iter().any(|(gd, gm, _)| *gd == d && *gm == m) {
                    continue;
                }
                groups.push((d, m, rule.clone()));
                points.extend(
                    size.alphas
                        .iter()
                        .map(|&a| Point::new(a, d).with("m_hidden", m as f64)),
                );
            }
        }
        if ctx.progress {
            eprintln!(
                "fig5: over-parametrised GD, (d, m) in {:?}, {} alphas, {} seeds…",
                groups.iter().map(|g| (g.0, g.1)).collect::<Vec<_>>(),
                size.alphas.len(),
                size.seeds
            );
        }
        let grid =
            Grid::from_points(points, size.seeds, spec.seed).map_err(|e| err(e.to_string()))?;
        let sweep = run_sweep(
            "fig5",
            &(&spec.gd, size, "overparam-v2"),
            &grid,
            &sweep_options(ctx),
            |task, rng| {
                let d = task.point.d;
                let m = task
                    .point
                    .params
                    .get("m_hidden")
                    .copied()
                    .ok_or("point without m_hidden")? as usize;
                let data =
                    spherical_teacher(d, task.point.alpha, rng).map_err(|e| e.to_string())?;
                let p = Problem::from_dataset(&data).map_err(|e| e.to_string())?;
                let cfg = overparam::Config {
                    m_hidden: m,
                    ..base.clone()
                };
                let w0 = overparam::random_start(d, m, rng);
                let out = overparam::run_from(&p, &cfg, w0).map_err(|e| e.to_string())?;
                let last = *out.trace.last().ok_or("no step recorded")?;
                // A run stopped by the stall rule keeps the `ok` status it had in the committed
                // tables (it ended by a rule, not by the budget); `stalled` flags it.
                let rec = match &out.trace.termination {
                    Termination::Diverged { quantity, .. } => {
                        return Err(format!(
                            "non-finite loss or gradient at step {} ({quantity})",
                            last.iteration
                        ));
                    }
                    Termination::MaxIterations | Termination::Budget => Record::not_converged(),
                    Termination::Converged | Termination::Stalled => Record::converged(),
                };
                let stalled = out.trace.termination == Termination::Stalled;
                let budget = out.trace.termination == Termination::MaxIterations;
                Ok(rec
                    .with(
                        "success",
                        if overparam::succeeded(&out.trace) {
                            1.0
                        } else {
                            0.0
                        },
                    )
                    .with("gen_error", last.gen_error)
                    .with("train_loss", last.train_loss)
                    .with("time", last.time)
                    .with("stalled", if stalled { 1.0 } else { 0.0 })
                    .with("budget", if budget { 1.0 } else { 0.0 })
                    .with("step_halved", if last.halvings > 0 { 1.0 } else { 0.0 }))
            },
        )
        .map_err(|e| err(e.to_string()))?;

        let mut table = Table::new(&[
            "alpha",
            "d",
            "m_hidden",
            "success_rate",
            "success_lo",
            "success_hi",
            "gen_error_mean",
            "gen_error_stderr",
            "status",
        ]);
        let mut series = Vec::new();
        let mut per_group = Vec::new();
        let mut by_rule: Vec<(String, Vec<SizeEstimate>)> = Vec::new();
        for (k, (d, m, rule)) in groups.iter().enumerate() {
            let pts: Vec<&PointSummary> = sweep
                .points
                .iter()
                .filter(|p| {
                    p.point.d == *d && p.point.params.get("m_hidden").copied() == Some(*m as f64)
                })
                .collect();
            let curve: Vec<SuccessPoint> = pts.iter().map(|p| success_point(p)).collect();
            let count = |name: &str| {
                pts.iter()
                    .map(|p| p.stats.get(name).map_or(0.0, |s| s.mean * s.count as f64))
                    .sum::<f64>()
                    .round() as i64
            };
            for (p, c) in pts.iter().zip(&curve) {
                let (lo, hi) = c.interval();
                table.push(vec![
                    Cell::Num(p.point.alpha),
                    Cell::from(*d),
                    Cell::from(*m),
                    Cell::Num(c.rate()),
                    Cell::Num(lo),
                    Cell::Num(hi),
                    Cell::Num(p.mean("gen_error")),
                    Cell::Num(p.stderr("gen_error")),
                    row_status(p),
                ]);
            }
            let (mut t, est) = crossing_table(
                &curve,
                &size.alphas,
                &spec.bootstrap,
                spec.bootstrap.seed.wrapping_add(k as u64),
            );
            t.insert("d".into(), (*d as i64).into());
            t.insert("m_hidden".into(), (*m as i64).into());
            t.insert("width_rule".into(), rule.clone().into());
            if m >= d {
                t.insert("theorem_alpha".into(), spec.theorem_alpha.into());
            } else {
                t.insert(
                    "theorem_alpha".into(),
                    "none: the theorem (m >= d) does not apply".into(),
                );
            }
            t.insert("runs_stalled".into(), count("stalled").into());
            t.insert("runs_out_of_budget".into(), count("budget").into());
            t.insert("runs_with_step_halving".into(), count("step_halved").into());
            per_group.push(toml::Value::Table(t));
            if let Some((a, s)) = est {
                match by_rule.iter_mut().find(|(r, _)| r == rule) {
                    Some((_, v)) => v.push(SizeEstimate {
                        d: *d,
                        alpha_half: a,
                        sigma: s,
                    }),
                    None => by_rule.push((
                        rule.clone(),
                        vec![SizeEstimate {
                            d: *d,
                            alpha_half: a,
                            sigma: s,
                        }],
                    )),
                }
            }
            series.push(rate_series(&format!("d = {d}, m = {m}"), &curve));
        }
        for rule in &size.widths {
            if !by_rule.iter().any(|(r, _)| r == rule) {
                by_rule.push((rule.clone(), Vec::new()));
            }
        }

        let mut summary = toml::Table::new();
        let mut sim = toml::Table::new();
        sim.insert(
            "dims".into(),
            size.dims
                .iter()
                .map(|&d| d as i64)
                .collect::<Vec<_>>()
                .into(),
        );
        sim.insert("widths".into(), size.widths.clone().into());
        sim.insert("alphas".into(), size.alphas.clone().into());
        sim.insert("seeds".into(), (size.seeds as i64).into());
        sim.insert("base_seed".into(), (spec.seed as i64).into());
        sim.insert(
            "gd".into(),
            toml::Value::try_from(&spec.gd).map_err(|e| err(e.to_string()))?,
        );
        sim.insert("time_budget".into(), (g.step * g.max_steps as f64).into());
        sim.insert(
            "success".into(),
            format!(
                "gen_error = |A - A*|_F^2/|A*|_F^2 < {} within the time budget",
                overparam::SUCCESS_GEN_ERROR
            )
            .into(),
        );
        sim.insert(
            "loss".into(),
            "H = (m/4) sum_mu (y_mu^2 - (1/m) sum_a (X_mu.w_a)^2)^2 (time of the slide's flow of L rescaled by 4/m), W(0) ~ N(0,1)".into(),
        );
        sim.insert(
            "gen_error_note".into(),
            "gen_error columns are at the stopping time: successful runs stop at the first recorded gen_error < 1e-3, so their values sit just below 1e-3 by construction; failures dominate the mean".into(),
        );
        sim.insert(
            "budget_note".into(),
            "runs_out_of_budget counts runs still improving at t_max: with a longer budget alpha_half for m >= d moves down (finite-time effect)".into(),
        );
        sim.insert("tasks_computed".into(), (sweep.computed as i64).into());
        sim.insert("tasks_cached".into(), (sweep.cached as i64).into());
        sim.insert(
            "task_seconds".into(),
            ((sweep.task_seconds() * 10.0).round() / 10.0).into(),
        );
        summary.insert("simulation".into(), sim.into());
        summary.insert("alpha_half".into(), toml::Value::Array(per_group));
        let ext: Vec<toml::Value> = by_rule
            .iter()
            .map(|(rule, est)| {
                let mut t = extrapolation_table(est);
                t.insert("width_rule".into(), rule.clone().into());
                toml::Value::Table(t)
            })
            .collect();
        summary.insert("extrapolation".into(), toml::Value::Array(ext));
        let mut th = toml::Table::new();
        th.insert("theorem_alpha".into(), spec.theorem_alpha.into());
        th.insert(
            "statement".into(),
            "m >= d: for alpha < 2 the zero-loss PSD minimiser is not unique w.p. -> 1; for alpha > 2 it is A* with positive probability (Theorem 3.1, d -> infinity)".into(),
        );
        summary.insert("theory".into(), th.into());

        let plot = Plot {
            title: "Over-parametrised GD: success probability (gen_error < 1e-3)".into(),
            x_label: "alpha = n/d".into(),
            y_label: "success probability (95% Wilson)".into(),
            vlines: vec![(
                spec.theorem_alpha,
                format!("theorem: alpha = {} (m >= d)", spec.theorem_alpha),
            )],
            series,
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

#[cfg(test)]
mod tests {
    use super::width;

    #[test]
    fn width_rules() {
        assert_eq!(width("1", 40).unwrap(), 1);
        assert_eq!(width("d", 40).unwrap(), 40);
        assert_eq!(width("2d", 40).unwrap(), 80);
        assert_eq!(width("0.5d", 40).unwrap(), 20);
        assert_eq!(width("d/4", 40).unwrap(), 10);
        assert_eq!(width("d/100", 40).unwrap(), 1);
        assert!(width("x", 40).is_err() && width("d/0", 40).is_err() && width("-1d", 40).is_err());
    }
}
