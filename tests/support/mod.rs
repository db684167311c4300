//! Shared helpers for the end-to-end tests: run the real `vapr` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `vapr` binary cargo built for these tests.
pub fn vapr_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vapr"))
}

/// A `vapr` command with a clean environment for logs.
pub fn vapr() -> Command {
    let mut cmd = Command::new(vapr_bin());
    cmd.env_remove("RUST_LOG");
    cmd
}

/// The repository root (where `plugins/`, `configs/` and `wit/` live).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `cmd` and panics with its stdout/stderr unless it succeeded.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("failed to start vapr");
    assert!(
        out.status.success(),
        "command failed: {cmd:?}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
