//! # gardner-theory: the large-d theory
