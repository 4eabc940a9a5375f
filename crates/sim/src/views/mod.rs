//! How each figure is shown: one module per figure implementing [`crate::View`] (the plot
//! and the findings against the talk's claim), reading only the committed table and summary
//! (`data/<id>.{csv,toml}`) through a typed digest. What a figure computes is in
//! [`crate::figs`]; the two never share code paths beyond the row types.

pub mod dynamics;
pub mod fig1;
pub mod fig2;
pub mod fig3;
pub mod fig4;
pub mod fig5;
pub mod fig8;
