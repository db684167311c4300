//! End-to-end tests: model_cli.

mod support;
