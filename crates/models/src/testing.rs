//! Test helpers shared by the unit tests of this crate.

/// Central first difference with step 1e-5·max(1,|x|).
pub fn fd1(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-5 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

/// Central second difference with step 1e-4·max(1,|x|).
pub fn fd2(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-4 * x.abs().max(1.0);
    (f(x + h) - 2.0 * f(x) + f(x - h)) / (h * h)
}

/// E_z f(z), z ~ N(0,1), panicking on an inaccurate integral.
pub fn expect_normal_err(f: impl Fn(f64) -> f64) -> f64 {
    crate::gauss::expect_normal(f, 1e-10).expect("test integral")
}
