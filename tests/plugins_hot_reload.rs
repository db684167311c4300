//! End-to-end tests: plugins_hot_reload.

mod support;
