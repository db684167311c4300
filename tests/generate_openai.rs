//! End-to-end tests: generate_openai.

mod support;
