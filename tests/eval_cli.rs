//! End-to-end tests: eval_cli.

mod support;
