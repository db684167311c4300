//! End-to-end tests: plugins_containment.

mod support;
