//! Theory vs simulation for the Bayes-optimal GLM: state evolution against GAMP at d = 2000,
//! mean over seeds within 3 standard errors (plus a stated resolution where the error is ~0).

use gardner::algorithms::gamp::{self, Config};
use gardner::models::{
    AnyChannel, AnyPrior, ChannelSpec, PriorSpec, data::teacher_data, rng::stream,
};
use gardner::theory::{SeConfig, bayes_point};

const D: usize = 2000;
const SEEDS: u64 = 6;

/// Mean and standard error over seeds of GAMP's final (test error, mse).
fn gamp_stats(
    prior: &AnyPrior,
    channel: &AnyChannel,
    alpha: f64,
    seed: u64,
) -> ((f64, f64), (f64, f64)) {
    let cfg = Config {
        max_iter: 2000,
        ..Config::default()
    };
    let (mut errs, mut mses) = (vec![], vec![]);
    for s in 0..SEEDS {
        let mut rng = stream(seed, s);
        let data = teacher_data(prior, channel, D, alpha, &mut rng).unwrap();
        let problem = gamp::Problem::new(&data, prior, channel);
        let trace = gamp::run(&problem, &cfg, &mut rng).unwrap().trace;
        assert_eq!(
            trace.termination.status(),
            "ok",
            "alpha = {alpha}, seed {s}"
        );
        let last = trace.last().unwrap();
        errs.push(last.test_error);
        mses.push(last.mse);
    }
    (mean_se(&errs), mean_se(&mses))
}

fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

fn within(theory: f64, (mean, se): (f64, f64), floor: f64, what: &str) {
    let sigma = se.max(floor);
    assert!(
        (theory - mean).abs() <= 3.0 * sigma,
        "{what}: theory {theory}, simulation {mean} ± {se}"
    );
}

#[test]
fn perceptron_se_matches_gamp() {
    let prior = PriorSpec::Gaussian { rho: 1.0 }.build().unwrap();
    let channel = ChannelSpec::Sign.build().unwrap();
    for alpha in [1.0, 3.0] {
        let th = bayes_point(&prior, &channel, alpha, &SeConfig::default()).unwrap();
        let (err, mse) = gamp_stats(&prior, &channel, alpha, 11);
        within(
            th.class_error_bayes,
            err,
            0.0,
            &format!("perceptron test error at alpha = {alpha}"),
        );
        within(
            th.mmse,
            mse,
            0.0,
            &format!("perceptron MSE at alpha = {alpha}"),
        );
    }
}

#[test]
fn linear_channel_se_matches_gamp() {
    let prior = PriorSpec::Gaussian { rho: 1.0 }.build().unwrap();
    let channel = ChannelSpec::Linear { delta: 0.1 }.build().unwrap();
    let th = bayes_point(&prior, &channel, 0.7, &SeConfig::default()).unwrap();
    let (_, mse) = gamp_stats(&prior, &channel, 0.7, 12);
    within(th.mmse, mse, 0.0, "linear channel MSE at alpha = 0.7");
}

#[test]
fn phase_retrieval_recovers_above_alpha_amp() {
    let prior = PriorSpec::Gaussian { rho: 1.0 }.build().unwrap();
    let channel = ChannelSpec::Abs.build().unwrap();
    let th = bayes_point(&prior, &channel, 1.6, &SeConfig::default()).unwrap();
    assert_eq!(th.mse_amp, 0.0);
    let (_, mse) = gamp_stats(&prior, &channel, 1.6, 13);
    // GAMP stops at ‖Δa‖²/(dρ) < 1e-10: MSE resolution 1e-6.
    within(th.mse_amp, mse, 1e-6, "phase retrieval MSE at alpha = 1.6");
}
