//! The initial iterate w(0) of a [`Start`] (module docs of [`super`]).

use crate::error::Error;
use crate::gd::random_start;
use crate::kernels::dot;
use gardner_models::dynamics::Start;
use gardner_models::rng::Rng;
use rand::RngExt;
use rand_distr::StandardNormal;

/// Draw w(0) of `start` for the teacher `w_star` (‖w*‖²/d = 1) from `rng` (module docs).
pub fn draw(start: &Start, w_star: &[f64], rng: &mut Rng) -> Result<Vec<f64>, Error> {
    let d = w_star.len();
    let q0 = start.q0();
    if !(q0 > 0.0 && q0.is_finite()) {
        return Err(Error::InvalidParameter {
            name: "q0",
            value: q0,
            bound: "> 0 and finite",
        });
    }
    match *start {
        Start::Random { .. } => {
            let mut w = random_start(d, rng);
            if q0 != 1.0 {
                let s = q0.sqrt();
                w.iter_mut().for_each(|v| *v *= s);
            }
            Ok(w)
        }
        Start::Informed { m0, .. } => {
            if m0.is_nan() || m0 * m0 > q0 {
                return Err(Error::InvalidParameter {
                    name: "m0",
                    value: m0,
                    bound: "m0^2 <= q0",
                });
            }
            let dn = d as f64;
            let mut u: Vec<f64> = (0..d)
                .map(|_| rng.sample::<f64, _>(StandardNormal))
                .collect();
            let c = dot(&u, w_star) / dn;
            u.iter_mut().zip(w_star).for_each(|(ui, si)| *ui -= c * si);
            let s = (dn / dot(&u, &u)).sqrt();
            let r = (q0 - m0 * m0).sqrt() * s;
            Ok(w_star
                .iter()
                .zip(&u)
                .map(|(si, ui)| m0 * si + r * ui)
                .collect())
        }
    }
}
