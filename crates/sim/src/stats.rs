//! Mean and standard error over seeds: [`Stat`] lives on the model floor (shared with the
//! theory's replica averages) and is re-exported here.

pub use gardner_models::Stat;
