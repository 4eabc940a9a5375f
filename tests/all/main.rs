//! Cross-crate tests: theory against simulation at moderate d, and snapshots of the
//! `--quick` figure tables. One binary (faer is monomorphised once).

mod bayes;
mod dmft;
mod erm;
mod gd;
mod render;
mod snapshots;
mod tidy;
