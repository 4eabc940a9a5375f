//! The figures of the talk as experiments (one module each; the catalogue is in the
//! README; how each is shown is in [`crate::views`]). The templates and the pieces they share
//! (α grids, GAMP tasks, GD/SGD/p-SGD on phase retrieval) are in [`crate::kit`]. fig6 and
//! fig7 are two specs of one type ([`dynamics`]).

pub mod dynamics;
pub mod fig1;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod fig8;
