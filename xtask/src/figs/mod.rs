//! The figure catalogue (DESIGN.md), one module per figure. Register new figures in [`all`].

pub mod common;
pub mod fig1;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;

use crate::figure::Figure;

/// Every reproducible figure, in talk order.
pub fn all() -> Vec<&'static dyn Figure> {
    vec![
        &fig1::Fig1,
        &fig2::Fig2,
        &fig3::Fig3,
        &fig4::Fig4,
        &fig5::Fig5,
    ]
}
