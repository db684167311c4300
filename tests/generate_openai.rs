//! End-to-end tests: `vapr generate --editor openai` against the editor crate's local
//! fault-injecting OpenAI-compatible server (429 with Retry-After, 500, a reply slower
//! than the timeout, malformed JSON, a reply identical to the input). The run completes
//! with every sample written or reported with a reason, and a second run is served by the
//! response cache alone.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::{repo_root, vapr};
use vapr_editor::testing::{ChatRequest, FakeOpenAi, Fault};

const CATEGORIES: [&str; 10] = [
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

const DATASET: &[(&str, &str)] = &[
    (
        "How many planes are visible?",
        "There are four planes in the sky.",
    ),
    (
        "Where is the man relative to the elephant?",
        "The man is standing to the left of the elephant.",
    ),
    (
        "What colors are the flowers?",
        "The flowers are red and yellow.",
    ),
    (
        "Is there a cat on the table?",
        "Yes, there is a cat on the table.",
    ),
    (
        "How many dogs are on the grass?",
        "There are 3 dogs on the grass.",
    ),
    (
        "What color is the bus?",
        "The bus is red with white stripes.",
    ),
    (
        "How big is the dog compared with the child?",
        "The dog is large, bigger than the child.",
    ),
    (
        "How many birds are on the wire?",
        "There are two birds sitting on the wire.",
    ),
];

/// The answer between `<<` and `>>` in the test templates.
fn answer_in(req: &ChatRequest) -> String {
    let start = req.user.find("<<").map_or(0, |i| i + 2);
    let end = req.user[start..]
        .find(">>")
        .map_or(req.user.len(), |i| start + i);
    req.user[start..end].to_string()
}

/// A well-behaved editor: one targeted substitution (two for yes/no).
fn edit(req: &ChatRequest) -> String {
    const SWAPS: &[(&str, &str)] = &[
        ("four", "six"),
        ("two", "five"),
        ("3", "7"),
        ("left", "right"),
        ("red", "blue"),
        ("large", "small"),
        ("bigger", "smaller"),
        ("Yes, there is a", "No, there is no"),
    ];
    let mut text = answer_in(req);
    for (from, to) in SWAPS {
        if text.contains(from) {
            text = text.replacen(from, to, 1);
        }
    }
    // Editors like to wrap their answer; the plugin strips it.
    format!("\"{text}\"")
}

fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    std::fs::write(dir.join("img.png"), b"x").unwrap();
    let lines: Vec<String> = DATASET
        .iter()
        .enumerate()
        .map(|(i, (q, a))| {
            serde_json::json!({"id": format!("q{i}"), "image": "img.png", "conversations": [
                {"from": "human", "value": format!("<image>\n{q}")}, {"from": "gpt", "value": a}]})
            .to_string()
        })
        .collect();
    let input = dir.join("data.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let prompts = dir.join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    for c in CATEGORIES {
        std::fs::write(
            prompts.join(format!("{c}.txt")),
            "Edit the answer ({category}).\nQuestion: {question}\nAnswer: <<{answer}>>\n",
        )
        .unwrap();
    }
    std::fs::write(
        prompts.join("classify.txt"),
        "CLASSIFY {question} | {answer} | one of {categories}\n",
    )
    .unwrap();
    let config = dir.join("gen.toml");
    let text = format!(
        "editor_kind = \"openai\"\nprompts_dir = {:?}\nmax_retries = 2\n[editor]\napi_key_env = \"\"\nrequest_timeout_secs = 1.0\nconcurrency = 4\n[editor.retry]\nbase_delay_secs = 0.05\nmax_delay_secs = 0.2\n",
        prompts.display().to_string()
    );
    std::fs::write(&config, text).unwrap();
    (input, config)
}

fn generate(input: &Path, config: &Path, out: &Path, endpoint: &str) -> std::process::Output {
    vapr()
        .current_dir(repo_root())
        .arg("generate")
        .arg("--input")
        .arg(input)
        .arg("--config")
        .arg(config)
        .arg("--output")
        .arg(out)
        .args(["--endpoint", endpoint, "--model", "fake-gpt", "--seed", "1"])
        .output()
        .expect("failed to start vapr")
}

#[test]
fn test_openai_run_survives_faults_and_reruns_from_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (input, config) = setup(dir.path());
    let server = FakeOpenAi::builder(edit)
        .echo_with(|req| format!("\"{}\"", answer_in(req)))
        .fault_at(
            0,
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        )
        .fault_at(2, Fault::ServerError)
        .fault_at(3, Fault::Slow(Duration::from_millis(1500)))
        .fault_at(5, Fault::MalformedJson)
        .faults_for_prompt("cat on the table", vec![Fault::Echo])
        .start();

    let out = dir.path().join("pairs.jsonl");
    let first = generate(&input, &config, &out, server.base_url());
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let sent = server.request_count();
    // Every scripted fault was met and retried past.
    let faults: Vec<_> = server
        .requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert!(
        faults.contains(&Fault::RateLimited {
            retry_after_secs: 1
        }),
        "{faults:?}"
    );
    assert!(
        faults.contains(&Fault::ServerError) && faults.contains(&Fault::MalformedJson),
        "{faults:?}"
    );
    assert!(faults.contains(&Fault::Echo), "{faults:?}");
    assert!(sent > DATASET.len(), "retries cost requests: {sent}");

    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pairs.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["editor"], "fake-gpt");
    let written = summary["written"].as_u64().unwrap();
    let failed = summary["failed"].as_u64().unwrap();
    assert_eq!(
        written + failed,
        DATASET.len() as u64,
        "every sample written or reported: {summary:#}"
    );
    assert!(written >= 5, "{summary:#}");
    let failures = std::fs::read_to_string(dir.path().join("pairs.jsonl.failures.jsonl")).unwrap();
    for line in failures.lines() {
        let f: Value = serde_json::from_str(line).unwrap();
        assert!(f["reason"].as_str().is_some_and(|r| !r.is_empty()), "{f}");
    }
    let records: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &records {
        assert_eq!(r["editor"], "fake-gpt");
        assert_eq!(r["template_sha256"].as_str().map(str::len), Some(64), "{r}");
        assert_ne!(r["chosen"], r["rejected"]);
        assert!(
            !r["rejected"].as_str().unwrap().starts_with('"'),
            "quotes stripped: {r}"
        );
    }
    // The echoed (identical) reply was refused and retried with a fresh draw.
    if let Some(cat) = records.iter().find(|r| r["id"] == "q3#0") {
        assert!(
            cat["rejected"]
                .as_str()
                .unwrap()
                .starts_with("No, there is no cat"),
            "{cat}"
        );
        assert_eq!(cat["attempts"], 2);
    }

    // Second run into a new output next to the first: the cache answers everything.
    let again = dir.path().join("again.jsonl");
    let second = generate(&input, &config, &again, server.base_url());
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(server.request_count(), sent, "the second run sent requests");
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("0 sent"),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
}

#[test]
fn test_unreachable_editor_reports_every_sample_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let (input, config) = setup(dir.path());
    let server = FakeOpenAi::builder(edit)
        .always(Fault::Status {
            status: 400,
            body: "{\"error\":{\"message\":\"bad model\"}}".into(),
        })
        .start();
    let out = dir.path().join("bad.jsonl");
    let run = generate(&input, &config, &out, server.base_url());
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("bad.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["written"], 0);
    assert_eq!(
        summary["failures"]["editor_error"],
        DATASET.len() as u64,
        "{summary:#}"
    );

    // With a lower limit the run stops instead, leaving the samples to a re-run.
    let strict = dir.path().join("stop.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &strict,
        format!("max_consecutive_editor_errors = 3\n{text}"),
    )
    .unwrap();
    let out = dir.path().join("stop.jsonl");
    let stopped = generate(&input, &strict, &out, server.base_url());
    assert!(!stopped.status.success());
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        stderr.contains("the last 3 samples all failed on the editor"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "");
}

/// The classifier's answer: a category named by keyword, wrapped in chatter; or nothing.
fn classify_or_edit(req: &ChatRequest) -> String {
    let Some(rest) = req.user.strip_prefix("CLASSIFY ") else {
        return edit(req);
    };
    // Only the question: the category list at the end names every cue word.
    let q = rest.split(" | ").next().unwrap_or("").to_lowercase();
    let category = [
        ("how many", "counting"),
        ("color", "color"),
        ("where", "spatial"),
        ("is there", "existence"),
    ]
    .iter()
    .find(|(cue, _)| q.starts_with(cue) || q.contains(&format!("what {cue}")) || q.contains(cue))
    .map(|(_, c)| *c);
    match category {
        Some(c) => format!("Category: **{c}**"),
        None => "I am not sure.".into(),
    }
}

#[test]
fn test_llm_classifier_decides_categories_and_falls_back_to_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (input, config) = setup(dir.path());
    let server = FakeOpenAi::builder(classify_or_edit).start();
    let out = dir.path().join("llm.jsonl");
    let mut cmd = vapr();
    cmd.current_dir(repo_root())
        .arg("generate")
        .arg("--input")
        .arg(&input)
        .arg("--config")
        .arg(&config);
    cmd.arg("--output").arg(&out).args([
        "--endpoint",
        server.base_url(),
        "--model",
        "fake-gpt",
        "--classifier",
        "llm",
    ]);
    let run = cmd.output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |id: &str| records.iter().find(|r| r["id"] == id).cloned();
    let planes = by_id("q0#0").expect("the counting sample is written");
    assert_eq!(
        (
            planes["category"].as_str(),
            planes["category_decided_by"].as_str()
        ),
        (Some("counting"), Some("llm:fake-gpt"))
    );
    if let Some(cat) = by_id("q3#0") {
        assert_eq!(cat["category"], "existence");
        assert_eq!(cat["category_decided_by"], "llm:fake-gpt");
    }
    // "How big is the dog…" names no cue: the classifier is unsure and fit scores decide.
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("llm.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["categorised_by"]["llm_fallback"], 1, "{summary:#}");
    assert_eq!(
        summary["categorised_by"]["llm"],
        DATASET.len() as u64 - 1,
        "{summary:#}"
    );
}
