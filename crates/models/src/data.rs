//! Teacher data of the generalised linear model.
//!
//! Convention (shared by every crate): X_{μi} ~ N(0, 1/d) i.i.d., n = round(α d), w*_i ~ P_w i.i.d.,
//! z = X w* (so Var z_μ = ρ), y_μ ~ P_out(· | z_μ). Draw order from the stream: w* (d draws),
//! then X column by column, then the label noise (n draws if the channel is noisy).

use crate::channel::Channel;
use crate::error::{self, Error};
use crate::prior::Prior;
use crate::rng::Rng;
use faer::{Accum, Mat, Par};
use rand::RngExt;
use rand_distr::StandardNormal;

/// One teacher–student data set.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Inputs X (n × d, column-major), entries N(0, 1/d).
    pub x: Mat<f64>,
    /// Teacher weights w* (length d).
    pub w_star: Vec<f64>,
    /// Teacher pre-activations z = X w* (length n).
    pub z: Vec<f64>,
    /// Labels y (length n).
    pub y: Vec<f64>,
}

impl Dataset {
    /// Number of samples n.
    pub fn n(&self) -> usize {
        self.x.nrows()
    }
    /// Dimension d.
    pub fn d(&self) -> usize {
        self.x.ncols()
    }
    /// α = n/d.
    pub fn alpha(&self) -> f64 {
        self.n() as f64 / self.d() as f64
    }
}

/// n = round(α d), validated (α > 0, d ≥ 1, n ≥ 1).
pub fn sample_count(alpha: f64, d: usize) -> Result<usize, Error> {
    error::positive("alpha", alpha)?;
    if d == 0 {
        return Err(Error::InvalidParameter {
            name: "d",
            value: 0.0,
            bound: ">= 1",
        });
    }
    let n = (alpha * d as f64).round();
    if n < 1.0 {
        return Err(Error::InvalidParameter {
            name: "alpha",
            value: alpha,
            bound: "large enough that round(alpha d) >= 1",
        });
    }
    Ok(n as usize)
}

/// Gaussian matrix n × d with i.i.d. N(0, 1/d) entries, filled column by column.
pub fn gaussian_matrix(n: usize, d: usize, rng: &mut Rng) -> Mat<f64> {
    let s = 1.0 / (d as f64).sqrt();
    let mut x = Mat::<f64>::zeros(n, d);
    for j in 0..d {
        for v in x.col_mut(j).iter_mut() {
            *v = s * rng.sample::<f64, _>(StandardNormal);
        }
    }
    x
}

/// Draw w*, X and y for the model (P_w, P_out) at dimension d and sample ratio α.
pub fn teacher_data(
    prior: &impl Prior,
    channel: &impl Channel,
    d: usize,
    alpha: f64,
    rng: &mut Rng,
) -> Result<Dataset, Error> {
    let n = sample_count(alpha, d)?;
    let w_star: Vec<f64> = (0..d).map(|_| prior.sample(rng)).collect();
    let x = gaussian_matrix(n, d, rng);
    let mut z = vec![0.0; n];
    matvec(&x, &w_star, &mut z, Par::Seq);
    let y = z.iter().map(|&zi| channel.sample(zi, rng)).collect();
    Ok(Dataset { x, w_star, z, y })
}

/// out = X v (faer kernel, no allocation).
pub fn matvec(x: &Mat<f64>, v: &[f64], out: &mut [f64], par: Par) {
    faer::linalg::matmul::matmul(
        faer::ColMut::from_slice_mut(out),
        Accum::Replace,
        x.as_ref(),
        faer::ColRef::from_slice(v),
        1.0,
        par,
    );
}

/// out = Xᵀ u (faer kernel, no allocation).
pub fn matvec_t(x: &Mat<f64>, u: &[f64], out: &mut [f64], par: Par) {
    faer::linalg::matmul::matmul(
        faer::ColMut::from_slice_mut(out),
        Accum::Replace,
        x.transpose(),
        faer::ColRef::from_slice(u),
        1.0,
        par,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Abs, Probit};
    use crate::prior::Gaussian;
    use crate::rng::stream;

    #[test]
    fn shapes_normalisation_and_determinism() {
        let p = Gaussian::new(1.0).unwrap();
        let a = teacher_data(&p, &Abs, 500, 1.5, &mut stream(5, 0)).unwrap();
        let b = teacher_data(&p, &Abs, 500, 1.5, &mut stream(5, 0)).unwrap();
        assert_eq!((a.n(), a.d()), (750, 500));
        assert_eq!(a.y, b.y);
        // Var z ≈ ρ = 1 and E X² = 1/d
        let vz = a.z.iter().map(|z| z * z).sum::<f64>() / a.n() as f64;
        assert!((vz - 1.0).abs() < 0.15, "{vz}");
        let ex2 = a.x.col(0).iter().map(|v| v * v).sum::<f64>() / a.n() as f64 * a.d() as f64;
        assert!((ex2 - 1.0).abs() < 0.15, "{ex2}");
        assert!(a.y.iter().zip(&a.z).all(|(y, z)| *y == z.abs()));
        let s = teacher_data(&p, &Probit::sign(), 100, 2.0, &mut stream(5, 1)).unwrap();
        assert!(s.y.iter().zip(&s.z).all(|(y, z)| *y == z.signum()));
    }

    #[test]
    fn bad_alpha_and_d() {
        let e = sample_count(-1.0, 10).unwrap_err().to_string();
        assert!(e.contains("alpha") && e.contains("-1"), "{e}");
        assert!(sample_count(1.0, 0).is_err());
        assert!(sample_count(1e-3, 10).is_err());
        assert!(sample_count(f64::NAN, 10).is_err());
    }
}
