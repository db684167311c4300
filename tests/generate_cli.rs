//! End-to-end tests: generate_cli.

mod support;
