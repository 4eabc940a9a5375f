//! The xtask's one-line error, and the figure registry of `gardner_sim` it drives.

pub use gardner_sim::registry::{Ctx, Figure, Output, Table, all, parse_toml};
use std::fmt;

/// One-line error of the xtask (printed as `error: …`, exit code 1).
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Build an [`Error`] from anything displayable.
pub fn err(msg: impl fmt::Display) -> Error {
    Error(msg.to_string())
}

macro_rules! from_display {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self { Error(e.to_string()) }
        }
    )*};
}
from_display!(
    std::io::Error,
    csv::Error,
    toml::ser::Error,
    gardner_sim::Error,
    String
);

/// Result of the xtask.
pub type Result<T> = std::result::Result<T, Error>;
