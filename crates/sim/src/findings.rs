//! What a figure found, for the results page (`cargo xtask report` → `data/README.md`): the
//! headline numbers with their intervals, the agreement of theory and simulation, and a
//! verdict against the talk's claim ([`crate::registry::Identity::claim`]). Each figure states its
//! own verdict rule in [`crate::View::findings`], from its committed table and summary.

use std::fmt;

/// A figure's result against the talk's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The claim holds in the committed data, by the figure's stated rule.
    Reproduced,
    /// The data contradict the claim at the sizes (d, times, budgets) computed here; the
    /// claim may still hold in the limit the talk refers to.
    NotReproducedAtTheseSizes,
    /// The data do not decide (e.g. nothing happened within the computed window).
    Open,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::NotReproducedAtTheseSizes => "not reproduced at these sizes",
            Verdict::Open => "open",
        })
    }
}

/// The results of one figure, as lines of text (numbers formatted by the figure).
#[derive(Debug, Clone, PartialEq)]
pub struct Findings {
    /// Headline numbers with their intervals and, where there is one, the literature value.
    pub numbers: Vec<String>,
    /// Theory against simulation (deviations in standard errors).
    pub agreement: Vec<String>,
    pub verdict: Verdict,
    /// Why: the rule applied to the numbers, in one sentence.
    pub reason: String,
}

/// `v` with `digits` significant digits (plain notation between 1e-3 and 1e5).
pub fn sig(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".into();
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-3..5).contains(&mag) {
        return format!("{:.*e}", digits.saturating_sub(1), v);
    }
    let decimals = (digits as i32 - 1 - mag).max(0) as usize;
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::sig;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.441454549, 4), "0.4415");
        assert_eq!(sig(1.128471, 5), "1.1285");
        assert_eq!(sig(2.5e-5, 2), "2.5e-5");
        assert_eq!(sig(123.456, 3), "123");
        assert_eq!(sig(f64::NAN, 3), "NaN");
    }
}
