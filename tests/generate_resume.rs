//! End-to-end tests: a `vapr generate` run killed midway and resumed writes exactly what
//! an uninterrupted run writes, record for record.
//!
//! Crashes are simulated at the three moments that matter (after a ledger commit, between
//! writing a line and committing it, in the middle of writing a line) with the
//! `VAPR_TEST_CRASH_AFTER` hook, which aborts the process, and once with a real SIGKILL at
//! an arbitrary moment.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{repo_root, run_ok, vapr};

const QA: &[(&str, &str)] = &[
    ("How many {} are there?", "There are {n} {} on the table."),
    ("What color is the {}?", "The {} is bright red."),
    (
        "Is there a {} in the picture?",
        "Yes, there is a {} in the picture.",
    ),
    (
        "Where is the {} relative to the chair?",
        "The {} is to the left of the chair.",
    ),
    (
        "How big is the {}?",
        "The {} is small, about the size of a cup.",
    ),
];
const THINGS: &[&str] = &["cups", "dogs", "apples", "books", "chairs", "birds"];

/// `n` single-turn LLaVA records plus their image, in `dir`.
fn write_dataset(dir: &Path, n: usize) -> PathBuf {
    std::fs::write(dir.join("img.jpg"), b"x").unwrap();
    let mut lines = Vec::new();
    for i in 0..n {
        let (q, a) = QA[i % QA.len()];
        let thing = THINGS[(i / QA.len()) % THINGS.len()];
        let q = q.replace("{}", thing);
        let a = a
            .replace("{n}", &(2 + i % 5).to_string())
            .replace("{}", thing);
        let rec = serde_json::json!({
            "id": format!("r{i}"),
            "image": "img.jpg",
            "conversations": [
                {"from": "human", "value": format!("<image>\n{q}")},
                {"from": "gpt", "value": a},
            ],
        });
        lines.push(rec.to_string());
    }
    let path = dir.join("data.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn generate(input: &Path, out: &Path) -> Command {
    generate_with(input, out, "5", "4")
}

fn generate_with(input: &Path, out: &Path, seed: &str, concurrency: &str) -> Command {
    let mut cmd = vapr();
    cmd.current_dir(repo_root())
        .arg("generate")
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(out);
    cmd.args(["--seed", seed, "--concurrency", concurrency]);
    cmd
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn test_resume_after_each_crash_point_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), 40);
    let full = dir.path().join("full.jsonl");
    run_ok(&mut generate(&input, &full));
    let expected = std::fs::read_to_string(&full).unwrap();
    let expected_summary =
        std::fs::read_to_string(dir.path().join("full.jsonl.summary.json")).unwrap();
    assert!(
        lines(&full) >= 20,
        "the rule editor should write most samples:\n{expected}"
    );

    for (i, hook) in ["7:committed", "12:written", "9:partial"]
        .iter()
        .enumerate()
    {
        let out = dir.path().join(format!("crash{i}.jsonl"));
        let crashed = generate(&input, &out)
            .env("VAPR_TEST_CRASH_AFTER", hook)
            .output()
            .unwrap();
        assert!(
            !crashed.status.success(),
            "{hook}: the hook must abort the run"
        );
        let partial = std::fs::read_to_string(&out).unwrap();
        assert!(
            partial.len() < expected.len(),
            "{hook}: crashed before the end"
        );
        if hook.ends_with("partial") {
            assert!(
                !partial.ends_with('\n'),
                "{hook}: a half-written line is left behind"
            );
        }
        run_ok(&mut generate(&input, &out));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected, "{hook}");
        let summary =
            std::fs::read_to_string(dir.path().join(format!("crash{i}.jsonl.summary.json")))
                .unwrap();
        assert_eq!(summary, expected_summary, "{hook}");
    }
}

#[test]
fn test_resume_after_sigkill_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), 300);
    let full = dir.path().join("full.jsonl");
    run_ok(&mut generate(&input, &full));
    let expected = std::fs::read_to_string(&full).unwrap();

    let out = dir.path().join("killed.jsonl");
    let mut child = generate_with(&input, &out, "5", "1").spawn().unwrap();
    // Kill as soon as a few records are out (or give up waiting and kill anyway).
    let start = Instant::now();
    while lines(&out) < 5 && start.elapsed() < Duration::from_secs(30) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill(); // SIGKILL on Unix
    child.wait().unwrap();
    run_ok(&mut generate(&input, &out));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

#[test]
fn test_resume_refuses_changed_settings_and_unledgered_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_dataset(dir.path(), 10);
    let out = dir.path().join("o.jsonl");
    run_ok(&mut generate(&input, &out));
    let other_seed = generate_with(&input, &out, "6", "4").output().unwrap();
    assert!(!other_seed.status.success());
    assert!(String::from_utf8_lossy(&other_seed.stderr).contains("other settings"));

    let stray = dir.path().join("stray.jsonl");
    std::fs::write(&stray, "{\"id\":\"x\"}\n").unwrap();
    let refused = generate(&input, &stray).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no run ledger"));
    assert_eq!(
        std::fs::read_to_string(&stray).unwrap(),
        "{\"id\":\"x\"}\n",
        "never touched"
    );
}
