//! Report formats written from findings, beside `report.rs`'s JSON: each writer takes the
//! engine's plain values (no LSP or command-line types) and writes bytes.

pub mod html;
