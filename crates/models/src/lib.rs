//! # gardner-models: the teacher–student setting
//!
//! Priors P_w ([`prior`]), output channels P_out ([`channel`]), teacher data ([`data`]),
//! seeded random streams ([`rng`]), the vocabulary of the gradient dynamics ([`dynamics`]),
//! mean ± standard error ([`stat`]), the run loop of every iterative computation ([`run`]), stable special functions ([`special`]) and checked
//! Gaussian quadrature ([`gauss`]). Each prior and channel is written once, as scalar
//! functions that GAMP applies elementwise and the theory integrates.
//!
//! Conventions (shared by every crate): X_{μi} ~ N(0, 1/d), n = round(α d), z = X w* has
//! variance ρ = E w²; overlaps m = ŵ·w*/d, q = ŵ·ŵ/d.

pub mod brent;
pub mod channel;
pub mod data;
pub mod dynamics;
pub mod error;
pub mod gauss;
pub mod loss;
pub mod overlap;
pub mod prior;
pub mod rng;
pub mod run;
pub mod special;
pub mod stat;
#[cfg(test)]
mod testing;

pub use channel::{Abs, AnyChannel, Channel, ChannelSpec, LabelLaw, Linear, Probit};
pub use data::{Dataset, teacher_data};
pub use dynamics::{Batch, Confinement, ExpectedLoss, Selection, Start, Teacher};
pub use error::Error;
pub use loss::{Loss, LossError, PhaseRetrieval, SampleLoss};
pub use overlap::class_error;
pub use prior::{AnyPrior, GaussBernoulli, Gaussian, Prior, PriorSpec, Rademacher};
pub use rng::{Rng, stream, streams};
pub use run::{Driver, Step, Termination, Trace};
pub use stat::Stat;
