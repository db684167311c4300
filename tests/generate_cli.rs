//! End-to-end tests: `vapr generate` with the rule editor on a small LLaVA dataset.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{read_jsonl, repo_root, run_ok, vapr};

/// LLaVA-style records, one per line, covering every category, a multi-turn conversation,
/// Stage 1 drops, and a malformed line (line 6).
const DATASET: &[&str] = &[
    r#"{"id":"c1","image":"a.jpg","conversations":[{"from":"human","value":"<image>\nHow many planes are visible?"},{"from":"gpt","value":"There are four planes in the sky."}]}"#,
    r#"{"id":"s1","image":"a.jpg","conversations":[{"from":"human","value":"Where is the man relative to the elephant?\n<image>"},{"from":"gpt","value":"The man is standing next to the baby elephant."}]}"#,
    r#"{"id":"k1","image":"b.jpg","conversations":[{"from":"human","value":"<image>\nWhat colors are the flowers in the vase?"},{"from":"gpt","value":"The flowers are red, green and purple."},{"from":"human","value":"Is there a cat on the table?"},{"from":"gpt","value":"Yes, there is a cat sitting on the table."}]}"#,
    r#"{"id":"mc","image":"b.jpg","conversations":[{"from":"human","value":"<image>\nWhat is in the sky?\nA. A kite\nB. A plane\nAnswer with the option's letter from the given choices directly."},{"from":"gpt","value":"B"}]}"#,
    r#"{"id":"t1","conversations":[{"from":"human","value":"Tell me about Paris."},{"from":"gpt","value":"Paris is the capital of France."}]}"#,
    r#"{"id":"broken", "image": "a.jpg", "conversations": [ oops"#,
    r#"{"id":"bb","image":"a.jpg","conversations":[{"from":"human","value":"<image>\nPlease provide the bounding box coordinate of the region this sentence describes: the dog."},{"from":"gpt","value":"[0.12, 0.3, 0.5, 0.9]"}]}"#,
    r#"{"id":"z1","image":"b.jpg","conversations":[{"from":"human","value":"<image>\nHow big is the dog compared with the child?"},{"from":"gpt","value":"The dog is large, probably an adult dog of a big breed."}]}"#,
    r#"{"id":"g1","image":"a.jpg","conversations":[{"from":"human","value":"<image>\nWhat kind of lighting does the living room have?"},{"from":"gpt","value":"The living room has warm spot lighting focused on the sofa."}]}"#,
    r#"{"id":"o1","image":"b.jpg","conversations":[{"from":"human","value":"<image>\nWhat kind of airplane is shown?"},{"from":"gpt","value":"It is an old propeller plane hanging in a museum."}]}"#,
    r#"{"id":"cap","image":"a.jpg","conversations":[{"from":"human","value":"<image>\nDescribe the image briefly."},{"from":"gpt","value":"A green jet with white accents flies over tall buildings in the middle of the city."}]}"#,
    r#"{"id":"c2","image":"b.jpg","conversations":[{"from":"human","value":"<image>\nHow many dogs are on the grass?"},{"from":"gpt","value":"There are 3 dogs on the grass."}]}"#,
];

/// Writes the dataset and its images into `dir`.
fn write_dataset(dir: &Path) -> std::path::PathBuf {
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for name in ["a.jpg", "b.jpg"] {
        std::fs::write(images.join(name), b"not decoded by the default image check").unwrap();
    }
    let input = dir.join("data.jsonl");
    std::fs::write(&input, DATASET.join("\n") + "\n").unwrap();
    input
}

fn generate(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let input = write_dataset(dir);
    let mut cmd = vapr();
    cmd.current_dir(repo_root())
        .arg("generate")
        .arg("--input")
        .arg(&input);
    cmd.arg("--images")
        .arg(dir.join("images"))
        .arg("--output")
        .arg(out);
    cmd.args(["--seed", "11"]).args(extra);
    cmd.output().expect("failed to start vapr")
}

#[test]
fn test_rule_run_writes_records_with_provenance_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run/pairs.jsonl");
    let output = generate(dir.path(), &out, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The malformed line is reported with file:line and skipped.
    assert!(stderr.contains("data.jsonl:6"), "{stderr}");

    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("run/pairs.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["editor"], "rule");
    assert_eq!(summary["units_read"], 12, "{summary:#}");
    let input_errors: u64 = summary["input_errors"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(input_errors, 1, "{summary:#}");
    assert!(
        summary["input_issues"][0]
            .as_str()
            .unwrap()
            .contains("data.jsonl:6")
    );
    assert_eq!(summary["dropped"]["multiple_choice"], 1);
    assert_eq!(summary["dropped"]["text_only"], 1);
    assert_eq!(summary["dropped"]["bounding_box"], 1);
    assert_eq!(summary["eligible"], 9);
    let (written, failed, skipped) = (
        summary["written"].as_u64().unwrap(),
        summary["failed"].as_u64().unwrap(),
        summary["skipped"].as_u64().unwrap(),
    );
    assert_eq!(written + failed + skipped, 9, "{summary:#}");
    assert!(
        written >= 5,
        "rule mode should edit most samples: {summary:#}"
    );

    let records = read_jsonl(&out);
    assert_eq!(records.len() as u64, written);
    let order = [
        "c1#0", "s1#0", "k1#0", "k1#1", "z1#0", "g1#0", "o1#0", "cap#0", "c2#0",
    ];
    let ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = order
        .iter()
        .copied()
        .filter(|id| ids.contains(id))
        .collect();
    expected.dedup();
    assert_eq!(ids, expected, "records follow input order");
    let names = [
        "counting",
        "spatial",
        "object",
        "color",
        "size",
        "background",
        "existence",
        "referential",
        "captioning",
        "reasoning",
    ];
    for r in &records {
        for field in [
            "id",
            "image",
            "prompt",
            "chosen",
            "rejected",
            "source",
            "plugin",
            "plugin_version",
            "category_decided_by",
        ] {
            assert!(r[field].is_string(), "{field} missing in {r}");
        }
        assert!(names.contains(&r["category"].as_str().unwrap()), "{r}");
        assert_eq!(r["editor"], "rule");
        assert_ne!(r["chosen"], r["rejected"]);
        assert!(!r["prompt"].as_str().unwrap().contains("<image>"));
        let validators = r["validator"].as_object().unwrap();
        assert!(!validators.is_empty(), "{r}");
        assert!(validators.values().all(|v| v["pass"] == true), "{r}");
    }
    // The counting example keeps its sentence and changes the number.
    if let Some(c1) = records.iter().find(|r| r["id"] == "c1#0") {
        assert_eq!(c1["category"], "counting");
        let rejected = c1["rejected"].as_str().unwrap();
        assert!(rejected.ends_with("planes in the sky."), "{rejected}");
        assert!(!rejected.contains("four"), "{rejected}");
    }
    let failures =
        std::fs::read_to_string(dir.path().join("run/pairs.jsonl.failures.jsonl")).unwrap();
    assert_eq!(failures.lines().count() as u64, failed);
    assert!(stdout.contains("mean token gap"), "{stdout}");
}

#[test]
fn test_same_seed_same_output_and_categories_filter() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    let c = dir.path().join("c.jsonl");
    assert!(
        generate(dir.path(), &a, &["--concurrency", "3"])
            .status
            .success()
    );
    assert!(
        generate(dir.path(), &b, &["--concurrency", "1"])
            .status
            .success()
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let out = generate(dir.path(), &c, &["--categories", "counting"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = read_jsonl(&c);
    assert!(
        records.iter().all(|r| r["category"] == "counting"),
        "{records:?}"
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("c.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert!(
        summary["skips"]["category_not_selected"].as_u64().unwrap() >= 1,
        "{summary:#}"
    );
}

#[test]
fn test_strict_turns_a_malformed_line_into_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), &dir.path().join("s.jsonl"), &["--strict"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data.jsonl:6"), "{stderr}");
}

#[test]
fn test_bad_flags_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(
        dir.path(),
        &dir.path().join("x.jsonl"),
        &["--categories", "colour"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"));
    let out = generate(
        dir.path(),
        &dir.path().join("y.jsonl"),
        &["--classifier", "llm"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--editor openai"));
    let help = run_ok(vapr().args(["generate", "--help"]));
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--input",
        "--images",
        "--output",
        "--editor",
        "--endpoint",
        "--model",
        "--concurrency",
        "--limit",
        "--categories",
        "--watch",
        "--strict",
        "--seed",
        "--max-retries",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
