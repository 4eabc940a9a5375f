//! # gardner-theory: the large-d theory
pub mod erm;
