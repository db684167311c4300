//! End-to-end tests of `vapr plugins list|build|new|run` on the real binary, the bundled
//! plugins and freshly scaffolded crates.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{repo_root, run_ok, vapr};

/// Shared cargo target dir for scaffolded crates: their dependencies compile once.
fn plugin_target() -> PathBuf {
    repo_root().join("target/plugin-tests")
}

/// `vapr` run from the repository root. Without `--no-build` every call builds stale
/// bundled plugins first (cargo serialises concurrent builds), so on a fresh clone the
/// tests do not depend on each other's order.
fn vapr_in_repo() -> Command {
    let mut cmd = vapr();
    cmd.current_dir(repo_root());
    cmd
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn write_sample(dir: &Path, answer: &str) -> PathBuf {
    let path = dir.join("sample.json");
    let sample = serde_json::json!({
        "id": "cli#0",
        "question": "How many cats are on the sofa?",
        "answer": answer,
        "category": "counting",
        "params": {"max-delta": 2},
        "reply": "Answer: There are 4 cats on the sofa.",
        "rejected": "There are five cats on the sofa."
    });
    std::fs::write(&path, sample.to_string()).unwrap();
    path
}

#[test]
fn test_list_json_describes_the_bundled_plugins() {
    let out = run_ok(vapr_in_repo().args(["plugins", "list", "--json"]));
    let list = json(&out);
    let find = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} missing: {list}"))
    };
    let counting = find("counting");
    assert_eq!(counting["kind"], "injector");
    assert_eq!(counting["categories"], serde_json::json!(["counting"]));
    assert_eq!(counting["version"], "0.1.0");
    assert_eq!(counting["api_version"], "0.1.0");
    assert!(
        counting["path"]
            .as_str()
            .unwrap()
            .ends_with("wasm32-wasip2/release/counting.wasm"),
        "{counting}"
    );
    assert!(
        counting["source"]
            .as_str()
            .unwrap()
            .ends_with("plugins/counting"),
        "{counting}"
    );
    assert_eq!(counting["sha256"].as_str().unwrap().len(), 64);
    let length = find("length-edit");
    assert_eq!(length["kind"], "validator");
    assert_eq!(length["categories"], serde_json::json!([]));

    let table = run_ok(vapr_in_repo().args(["plugins", "list", "--no-build"]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("counting") && l.contains("injector")),
        "{text}"
    );
}

#[test]
fn test_run_covers_every_mode_with_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = write_sample(tmp.path(), "There are three cats on the sofa.");
    let sample = sample.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["plugins", "run", "--sample", sample];
        args.extend_from_slice(extra);
        json(&run_ok(vapr_in_repo().args(&args)))
    };
    let a = run(&["counting", "--seed", "5"]);
    let b = run(&["counting", "--seed", "5", "--mode", "rule"]);
    assert_eq!(a["result"], b["result"], "same seed, same edit");
    assert_eq!(
        (
            a["mode"].as_str(),
            a["plugin"].as_str(),
            a["version"].as_str()
        ),
        (Some("rule"), Some("counting"), Some("0.1.0"))
    );
    let rejected = a["result"]["rejected"].as_str().unwrap();
    let words: Vec<&str> = rejected.split(' ').collect();
    assert!(
        ["one", "two", "four", "five"].contains(&words[2]),
        "{rejected}"
    );
    assert_eq!(words[3..], ["cats", "on", "the", "sofa."]);
    assert!(a["elapsed_us"].as_u64().unwrap() > 0);

    let prompt = run(&["counting", "--mode", "prompt"]);
    let text = prompt["result"].as_str().unwrap();
    assert!(text.contains("Question: How many cats are on the sofa?\nCorrect answer: There are three cats on the sofa."), "{text}");
    assert!(!text.contains("{"), "every placeholder filled: {text}");
    let templates = vapr_plugin::TemplateStore::load(repo_root().join("configs/prompts")).unwrap();
    assert_eq!(
        prompt["template_sha256"],
        templates.get("counting").unwrap().sha256
    );

    let parsed = run(&["counting", "--mode", "parse"]);
    assert_eq!(
        parsed["result"]["rejected"],
        "There are 4 cats on the sofa."
    );
    let fit = run(&["counting", "--mode", "fit"]);
    assert_eq!(fit["result"], 1.0);
    let verdict = run(&["length-edit"]);
    assert_eq!(verdict["mode"], "validate");
    assert_eq!(verdict["result"]["pass"], true);
    let too_long = run(&[
        "length-edit",
        "--rejected",
        "There might be five or maybe six small grey cats sitting on that old sofa.",
    ]);
    assert_eq!(too_long["result"]["pass"], false);
    assert!(
        too_long["result"]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("length gap"),
        "{too_long}"
    );
}

#[test]
fn test_run_reports_a_refusal_and_unknown_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = write_sample(tmp.path(), "The cat on the left is grey.");
    let out = vapr_in_repo()
        .args(["plugins", "run", "counting", "--sample"])
        .arg(&sample)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "vapr: plugin counting@0.1.0: rule-edit: refused: the answer contains no count"
        ),
        "{err}"
    );

    let out = vapr_in_repo()
        .args(["plugins", "run", "nope", "--sample"])
        .arg(&sample)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no plugin `nope` loaded") && err.contains("counting"),
        "{err}"
    );
}

#[test]
fn test_help_explains_every_command() {
    for cmd in [
        &["plugins", "--help"][..],
        &["plugins", "list", "--help"],
        &["plugins", "build", "--help"],
        &["plugins", "new", "--help"],
        &["plugins", "run", "--help"],
        &["bench", "plugins", "--help"],
    ] {
        let out = run_ok(vapr().args(cmd));
        assert!(!out.stdout.is_empty());
    }
    let out = run_ok(vapr().args(["plugins", "run", "--help"]));
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--sample", "--mode", "--seed", "--watch", "--plugins-dir"] {
        assert!(text.contains(flag), "{flag} missing from:\n{text}");
    }
}

/// The "Done when" loop: scaffold → its own test passes → build → list shows it → run.
#[test]
fn test_new_plugin_builds_passes_its_test_and_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let target = plugin_target();
    for (name, kind) in [("demo", "injector"), ("demo-check", "validator")] {
        let out = run_ok(
            vapr()
                .args(["plugins", "new", name, "--kind", kind, "--dir"])
                .arg(dir)
                .current_dir(repo_root()),
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains(&format!("created {kind} plugin `{name}`"))
        );
        // Its own unit test passes as generated (natively, plain cargo).
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let test = Command::new(&cargo)
            .args(["test", "--quiet", "--manifest-path"])
            .arg(dir.join(name).join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .unwrap();
        assert!(
            test.status.success(),
            "cargo test of {name} failed:\n{}",
            String::from_utf8_lossy(&test.stderr)
        );
        run_ok(
            vapr()
                .args(["plugins", "build"])
                .arg(dir.join(name))
                .env("VAPR_PLUGIN_TARGET_DIR", &target),
        );
    }
    let out = run_ok(
        vapr()
            .args([
                "plugins",
                "list",
                "--json",
                "--no-default-dirs",
                "--plugins-dir",
            ])
            .arg(dir)
            .env("VAPR_PLUGIN_TARGET_DIR", &target),
    );
    let list = json(&out);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["demo", "demo-check"]);
    assert_eq!(list[0]["kind"], "injector");
    assert_eq!(list[1]["kind"], "validator");
    assert!(
        list[0]["path"]
            .as_str()
            .unwrap()
            .starts_with(target.to_str().unwrap()),
        "found in place, not copied: {}",
        list[0]
    );

    let run = run_ok(
        vapr()
            .args([
                "plugins",
                "run",
                "demo",
                "--no-default-dirs",
                "--plugins-dir",
            ])
            .arg(dir)
            .arg("--sample")
            .arg(dir.join("demo/sample.json"))
            .env("VAPR_PLUGIN_TARGET_DIR", &target),
    );
    assert_eq!(
        json(&run)["result"]["rejected"],
        "The cat is to the right of the dog."
    );
}
