//! End-to-end tests: data_cli.

mod support;
