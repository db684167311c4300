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

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a JSONL file, one value per line.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Writes `(image, prompt, chosen, rejected)` pairs as preference JSONL `dir/pairs.jsonl`
/// (ids `pair-<i>`, category `counting`), the file `vapr score` / `vapr train` read.
pub fn write_pairs<I: serde::Serialize>(dir: &Path, pairs: &[(I, &str, &str, &str)]) -> PathBuf {
    let path = dir.join("pairs.jsonl");
    let lines: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, (image, prompt, chosen, rejected))| {
            serde_json::json!({
                "id": format!("pair-{i}"),
                "image": image,
                "prompt": prompt,
                "chosen": chosen,
                "rejected": rejected,
                "category": "counting",
            })
            .to_string()
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}
