//! End-to-end tests: train_cli.

mod support;
