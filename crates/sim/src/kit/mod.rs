//! The experiment kit: templates that figures fill in, beside the shared pieces of
//! [`crate::experiment`] (plans, simulations, agreement) and the statistics of
//! [`crate::success`].
//!
//! - [`success_curve`]: success vs α per group (size, width, algorithm): Wilson intervals,
//!   α_½ with bootstrap intervals, finite-size fits (fig4, fig5, fig8).
//! - [`trajectory`]: theory vs simulation over time on a logarithmic grid, agreement in
//!   combined standard errors (fig6, fig7).

pub mod success_curve;
pub mod trajectory;
