//! End-to-end tests: generate_resume.

mod support;
