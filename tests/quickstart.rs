//! End-to-end tests: quickstart.

mod support;
