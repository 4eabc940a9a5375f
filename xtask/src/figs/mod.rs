//! The figure catalogue (DESIGN.md), one module per figure. Register new figures in [`all`].

use crate::figure::Figure;

/// Every reproducible figure, in talk order.
pub fn all() -> Vec<&'static dyn Figure> {
    vec![]
}
