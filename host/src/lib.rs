//! The `vapr` command-line tool: thin glue over the room crates.
//!
//! `main.rs` parses arguments; each subcommand lives in its own module under `cli/` and
//! calls into one room crate.

pub mod cli;
pub mod generator;
pub mod quickstart;
