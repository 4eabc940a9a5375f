//! fig2 — Bayes-optimal error vs optimally regularised ERM (logistic, ridge, hinge) and the
//! max-margin classifier for the spherical perceptron (talk slide "Bayes vs logistic
//! regression"; Aubin, Krzakala, Lu, Zdeborová, NeurIPS 2020).
//!
//! Theory: the Bayes-optimal classification error from state evolution
//! ([`gardner_theory::bayes_point`]), and for each loss the ERM fixed point
//! ([`gardner_theory::erm`]) at the λ minimising the test error (bracketed Brent search in
//! ln λ), plus the max-margin limit of the hinge. Simulation: the exact ERM minimiser
//! ([`gardner_algorithms::erm`]) at the theory's optimal λ on `seeds` independent teacher data
//! sets of dimension d; the test error of an estimate is the exact arccos(ŵ·w*/‖ŵ‖‖w*‖)/π.
//!
//! Table columns (status last, as every table): `alpha, gen_error_bayes, lambda_opt_logistic,
//! gen_error_logistic_opt, gen_error_logistic_sim_mean, gen_error_logistic_sim_stderr,
//! gen_error_ridge_opt, gen_error_hinge_opt, gen_error_max_margin, lambda_opt_ridge,
//! gen_error_ridge_sim_mean, gen_error_ridge_sim_stderr, lambda_opt_hinge,
//! gen_error_hinge_sim_mean, gen_error_hinge_sim_stderr, status`. All `gen_error_*` are 0–1
//! classification errors against the teacher's sign (not the squared label error).
//! λ is the coefficient of (λ/2)‖w‖² with natural-log logistic loss (see `gardner_models::loss`).

use crate::figure::{Cell, Ctx, Figure, Mode, Output, Plot, Result, Series, Table, agreement, err};
use gardner_algorithms::erm::{Config as SolverConfig, Problem, metrics, run};
use gardner_models::{Gaussian, Loss, Probit, teacher_data};
use gardner_sim::{Grid, Options, Point, Record, SweepResult, run_sweep};
use gardner_theory::erm::{
    ErmConfig, ErmProblem, FixedPointStatus, LambdaSearch, OptimalLambda, max_margin,
    optimal_lambda,
};
use gardner_theory::{SeConfig, SeStatus, bayes_point};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The figure.
pub struct Fig2;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: Model,
    theory: TheorySpec,
    solver: SolverSpec,
    quick: RunSpec,
    default: RunSpec,
    full: RunSpec,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Model {
    rho: f64,
    probit_delta: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TheorySpec {
    lambda_min: f64,
    lambda_max: f64,
    lambda_grid: usize,
    log_tol: f64,
    large_alpha: f64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SolverSpec {
    /// Newton iterations (logistic) / epochs of dual ascent (hinge) before `not_converged`.
    max_iter: usize,
    hinge_max_epochs: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RunSpec {
    alphas: Vec<f64>,
    d: usize,
    seeds: usize,
    base_seed: u64,
}

const LOSSES: [Loss; 3] = [Loss::Logistic, Loss::Square, Loss::Hinge];

/// Theory at one α.
#[derive(Debug, Clone)]
struct TheoryRow {
    bayes: f64,
    bayes_ok: bool,
    /// per loss in LOSSES order
    opt: Vec<std::result::Result<OptimalLambda, String>>,
    max_margin: std::result::Result<(f64, FixedPointStatus), String>,
}

fn theory_at(alpha: f64, model: &Model, th: &TheorySpec) -> Result<TheoryRow> {
    let prior = Gaussian::new(model.rho)?;
    let channel = Probit::new(model.probit_delta)?;
    let bp = bayes_point(&prior, &channel, alpha, &SeConfig::default())
        .map_err(|e| err(format!("bayes α={alpha}: {e}")))?;
    let search = LambdaSearch {
        lambda_min: th.lambda_min,
        lambda_max: th.lambda_max,
        grid: th.lambda_grid,
        log_tol: th.log_tol,
    };
    let cfg = ErmConfig::default();
    let opt = LOSSES
        .iter()
        .map(|&loss| {
            let p =
                ErmProblem::new(alpha, 1.0, model.rho, loss, channel).map_err(|e| e.to_string())?;
            optimal_lambda(&p, &cfg, &search).map_err(|e| e.to_string())
        })
        .collect();
    let mm = ErmProblem::new(alpha, 0.0, model.rho, Loss::Hinge, channel)
        .and_then(|p| max_margin(&p, &cfg))
        .map(|pt| (pt.test_error, pt.status))
        .map_err(|e| e.to_string());
    Ok(TheoryRow {
        bayes: bp.class_error_bayes,
        bayes_ok: bp.status == SeStatus::Converged,
        opt,
        max_margin: mm,
    })
}

fn opt_error(o: &std::result::Result<OptimalLambda, String>) -> f64 {
    o.as_ref().map_or(f64::NAN, |o| o.point.test_error)
}

fn opt_lambda(o: &std::result::Result<OptimalLambda, String>) -> f64 {
    o.as_ref().map_or(f64::NAN, |o| o.lambda)
}

/// Problems of the theory at one α, as status notes (empty = all fine).
fn theory_notes(row: &TheoryRow) -> Vec<String> {
    let mut notes = Vec::new();
    if !row.bayes_ok {
        notes.push("bayes: not_converged".to_string());
    }
    for (loss, o) in LOSSES.iter().zip(&row.opt) {
        match o {
            Err(e) => notes.push(format!("failed: {loss} theory: {e}")),
            Ok(o) => {
                if o.status != FixedPointStatus::Converged {
                    notes.push(format!("{loss} theory: {}", o.status.status()));
                }
                if o.at_bound {
                    notes.push(format!("{loss} lambda_opt at search bound {:e}", o.lambda));
                }
            }
        }
    }
    match &row.max_margin {
        Err(e) => notes.push(format!("failed: max_margin: {e}")),
        Ok((_, s)) if *s != FixedPointStatus::Converged => {
            notes.push(format!("max_margin: {}", s.status()))
        }
        _ => {}
    }
    notes
}

#[derive(Serialize)]
struct SweepSpec<'a> {
    version: &'static str,
    model: &'a Model,
    loss: &'static str,
    solver: SolverConfig,
}

/// Exact ERM at the theory's optimal λ on every (α, seed).
fn simulate(
    ctx: &Ctx,
    model: &Model,
    solver_spec: &SolverSpec,
    run_spec: &RunSpec,
    loss: Loss,
    lambdas: &[f64],
) -> Result<SweepResult> {
    let points: Vec<Point> = run_spec
        .alphas
        .iter()
        .zip(lambdas)
        .map(|(&a, &l)| Point::new(a, run_spec.d).with("lambda", l))
        .collect();
    let grid = Grid::from_points(points, run_spec.seeds, run_spec.base_seed)
        .map_err(|e| err(e.to_string()))?;
    let max_iter = if loss == Loss::Hinge {
        solver_spec.hinge_max_epochs
    } else {
        solver_spec.max_iter
    };
    let solver = SolverConfig {
        max_iter,
        ..SolverConfig::default()
    };
    let spec = SweepSpec {
        version: "fig2 v1",
        model,
        loss: loss.name(),
        solver,
    };
    let opts = Options {
        threads: ctx.threads,
        cache_dir: ctx.cache_dir.clone(),
        progress: ctx.progress,
    };
    let (rho, delta) = (model.rho, model.probit_delta);
    run_sweep(
        &format!("fig2-{}", loss.name()),
        &spec,
        &grid,
        &opts,
        |task, rng| {
            let lambda = task.point.params["lambda"];
            if !lambda.is_finite() {
                return Err("no optimal lambda from the theory".to_string());
            }
            let prior = Gaussian::new(rho).map_err(|e| e.to_string())?;
            let channel = Probit::new(delta).map_err(|e| e.to_string())?;
            let data = teacher_data(&prior, &channel, task.point.d, task.point.alpha, rng)
                .map_err(|e| e.to_string())?;
            let problem = Problem::from_dataset(&data, loss, lambda).map_err(|e| e.to_string())?;
            let sol = run(&problem, &solver, rng).map_err(|e| e.to_string())?;
            let m = metrics(&data, loss, &sol.w);
            let last = sol.trace.last().copied();
            let rec = if sol.trace.termination == gardner_algorithms::Termination::Converged {
                Record::converged()
            } else {
                Record::not_converged()
            };
            Ok(rec
                .with("gen_error", m.test_error)
                .with("m", m.m)
                .with("q", m.q)
                .with("train_error", m.train_error)
                .with("train_loss", m.train_loss)
                .with("grad_norm", last.map_or(f64::NAN, |s| s.grad_norm))
                .with("iterations", sol.trace.iterations as f64))
        },
    )
    .map_err(|e| err(format!("fig2 {loss} sweep: {e}")))
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| err(e.to_string()))
}

impl Figure for Fig2 {
    fn id(&self) -> &'static str {
        "fig2"
    }
    fn title(&self) -> &'static str {
        "Spherical perceptron: Bayes-optimal vs optimally regularised logistic, ridge and hinge ERM, and max-margin"
    }
    fn paper(&self) -> &'static str {
        "[AKLZ20] Aubin, Krzakala, Lu, Zdeborova, NeurIPS 2020, arXiv:2006.06560"
    }

    fn run(&self, ctx: &Ctx) -> Result<Output> {
        let spec: Spec = ctx.spec()?;
        let run_spec = match ctx.mode {
            Mode::Quick => &spec.quick,
            Mode::Default => &spec.default,
            Mode::Full => &spec.full,
        };
        let (model, th) = (spec.model, spec.theory);
        // Theory at the table's α and at the large-α point, in parallel over α.
        let mut alphas = run_spec.alphas.clone();
        alphas.push(th.large_alpha);
        let theory: Vec<Result<TheoryRow>> = pool(ctx.threads)?.install(|| {
            alphas
                .par_iter()
                .map(|&a| theory_at(a, &model, &th))
                .collect()
        });
        let theory: Vec<TheoryRow> = theory.into_iter().collect::<Result<_>>()?;
        let (large, theory) = theory.split_last().expect("large_alpha row");

        // Simulations at the optimal λ of each loss.
        let mut sims = Vec::new();
        for (k, &loss) in LOSSES.iter().enumerate() {
            let lambdas: Vec<f64> = theory.iter().map(|r| opt_lambda(&r.opt[k])).collect();
            sims.push(simulate(
                ctx,
                &model,
                &spec.solver,
                run_spec,
                loss,
                &lambdas,
            )?);
        }

        let mut table = Table::new(&[
            "alpha",
            "gen_error_bayes",
            "lambda_opt_logistic",
            "gen_error_logistic_opt",
            "gen_error_logistic_sim_mean",
            "gen_error_logistic_sim_stderr",
            "gen_error_ridge_opt",
            "gen_error_hinge_opt",
            "gen_error_max_margin",
            "lambda_opt_ridge",
            "gen_error_ridge_sim_mean",
            "gen_error_ridge_sim_stderr",
            "lambda_opt_hinge",
            "gen_error_hinge_sim_mean",
            "gen_error_hinge_sim_stderr",
            "status",
        ]);
        let mut agree_all = Vec::new();
        let mut agree_loss: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); 3];
        for (i, (&alpha, row)) in run_spec.alphas.iter().zip(theory).enumerate() {
            let mut notes = theory_notes(row);
            let sim = |k: usize| &sims[k].points[i];
            for (k, loss) in LOSSES.iter().enumerate() {
                let s = sim(k);
                if s.status != "ok" {
                    notes.push(format!("{loss} sim: {}", s.status));
                }
                let triple = (
                    opt_error(&row.opt[k]),
                    s.mean("gen_error"),
                    s.stderr("gen_error"),
                );
                agree_all.push(triple);
                agree_loss[k].push(triple);
            }
            let mm = row.max_margin.as_ref().map_or(f64::NAN, |m| m.0);
            let status = if notes.is_empty() {
                "ok".to_string()
            } else {
                notes.join("; ")
            };
            table.push(vec![
                Cell::Num(alpha),
                Cell::Num(row.bayes),
                Cell::Num(opt_lambda(&row.opt[0])),
                Cell::Num(opt_error(&row.opt[0])),
                Cell::Num(sim(0).mean("gen_error")),
                Cell::Num(sim(0).stderr("gen_error")),
                Cell::Num(opt_error(&row.opt[1])),
                Cell::Num(opt_error(&row.opt[2])),
                Cell::Num(mm),
                Cell::Num(opt_lambda(&row.opt[1])),
                Cell::Num(sim(1).mean("gen_error")),
                Cell::Num(sim(1).stderr("gen_error")),
                Cell::Num(opt_lambda(&row.opt[2])),
                Cell::Num(sim(2).mean("gen_error")),
                Cell::Num(sim(2).stderr("gen_error")),
                Cell::Text(status),
            ]);
        }

        // Summary.
        let mut summary = toml::Table::new();
        let mut params = toml::Table::new();
        params.insert("rho".into(), model.rho.into());
        params.insert("probit_delta".into(), model.probit_delta.into());
        params.insert("d".into(), (run_spec.d as i64).into());
        params.insert("seeds".into(), (run_spec.seeds as i64).into());
        params.insert("base_seed".into(), (run_spec.base_seed as i64).into());
        params.insert(
            "lambda_search".into(),
            format!(
                "[{:e}, {:e}], {} grid points, ln-lambda tol {:e}",
                th.lambda_min, th.lambda_max, th.lambda_grid, th.log_tol
            )
            .into(),
        );
        params.insert(
            "lambda_convention".into(),
            "J = sum loss + (lambda/2)|w|^2, natural-log logistic loss".into(),
        );
        params.insert(
            "tasks_cached".into(),
            (sims.iter().map(|s| s.cached).sum::<usize>() as i64).into(),
        );
        params.insert(
            "task_seconds".into(),
            ((sims.iter().map(|s| s.task_seconds()).sum::<f64>() * 10.0).round() / 10.0).into(),
        );
        summary.insert("parameters".into(), params.into());

        let a = th.large_alpha;
        let mut la = toml::Table::new();
        la.insert("alpha".into(), a.into());
        la.insert("alpha_eps_bayes".into(), (a * large.bayes).into());
        la.insert(
            "alpha_eps_logistic_opt".into(),
            (a * opt_error(&large.opt[0])).into(),
        );
        la.insert(
            "lambda_opt_logistic".into(),
            opt_lambda(&large.opt[0]).into(),
        );
        la.insert(
            "logistic_over_bayes".into(),
            (opt_error(&large.opt[0]) / large.bayes).into(),
        );
        la.insert(
            "alpha_eps_ridge_opt".into(),
            (a * opt_error(&large.opt[1])).into(),
        );
        la.insert("lambda_opt_ridge".into(), opt_lambda(&large.opt[1]).into());
        la.insert(
            "alpha_eps_hinge_opt".into(),
            (a * opt_error(&large.opt[2])).into(),
        );
        la.insert("lambda_opt_hinge".into(), opt_lambda(&large.opt[2]).into());
        la.insert(
            "alpha_eps_max_margin".into(),
            (a * large.max_margin.as_ref().map_or(f64::NAN, |m| m.0)).into(),
        );
        let notes = theory_notes(large);
        la.insert(
            "status".into(),
            (if notes.is_empty() {
                "ok".to_string()
            } else {
                notes.join("; ")
            })
            .into(),
        );
        la.insert(
            "literature".into(),
            "Bayes ~ 0.4417/alpha; max-margin ~ 0.50/alpha; optimal logistic close to Bayes (literature.md)".into(),
        );
        summary.insert("large_alpha".into(), la.into());

        let mut ag = agreement(agree_all.iter().copied(), 0.0);
        for (k, loss) in LOSSES.iter().enumerate() {
            ag.insert(
                loss.name().into(),
                agreement(agree_loss[k].iter().copied(), 0.0).into(),
            );
        }
        summary.insert("agreement".into(), ag.into());

        // Plot.
        let col = |k: usize| -> Vec<(f64, f64)> {
            table
                .rows
                .iter()
                .map(|r| match (&r[0], &r[k]) {
                    (Cell::Num(x), Cell::Num(y)) => (*x, *y),
                    _ => (f64::NAN, f64::NAN),
                })
                .collect()
        };
        let errs = |k: usize| -> Vec<f64> { col(k).into_iter().map(|p| p.1).collect() };
        let plot = Plot {
            title: "Perceptron: Bayes vs optimally regularised ERM".into(),
            x_label: "alpha = n/d".into(),
            y_label: "test classification error".into(),
            log_x: false,
            log_y: true,
            vlines: vec![],
            series: vec![
                Series::line("Bayes-optimal", col(1)),
                Series::line("logistic, optimal lambda", col(3)),
                Series::line("ridge, optimal lambda", col(6)),
                Series::line("hinge, optimal lambda", col(7)),
                Series::line("max-margin", col(8)),
                Series::points("logistic (sim)", col(4), errs(5)),
                Series::points("ridge (sim)", col(10), errs(11)),
                Series::points("hinge (sim)", col(13), errs(14)),
            ],
        };
        Ok(Output {
            table,
            summary,
            plot,
            check_rel_tol: 1e-6,
        })
    }
}
