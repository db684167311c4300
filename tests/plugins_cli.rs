//! End-to-end tests: plugins_cli.

mod support;
