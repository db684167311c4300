//! End-to-end tests: eval_cli. They drive the real `vapr eval` binary on files written here
//! (VLMEvalKit-style TSVs, generations.jsonl files in the layout `vapr eval` writes) and on the
//! tiny fixture models of every family (tests/fixtures/{qwen2_vl,qwen2_5_vl,llava}).

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{repo_root, run_ok, vapr};

/// NaturalBench yes/no generations for `groups` groups; the model answers the gold except in
/// the first `wrong_groups` groups, where it always says "Yes".
fn naturalbench_generations(path: &Path, model: &str, groups: usize, wrong_groups: usize) {
    let golds = ["yes", "no", "no", "yes"];
    let mut text = String::new();
    for g in 0..groups {
        for (slot, gold) in golds.iter().enumerate() {
            let output = if g < wrong_groups {
                "Yes, it is."
            } else if *gold == "yes" {
                "Yes"
            } else {
                "No."
            };
            let rec = json!({
                "id": (g * 4 + slot).to_string(),
                "bench": "naturalbench",
                "protocol": "naturalbench/official-v1",
                "model": model,
                "prompt": "Is it? Please answer Yes or No.",
                "n_images": 1,
                "gold": gold,
                "info": {"group": g, "slot": slot, "question_type": "yes_no"},
                "output": output,
            });
            text.push_str(&rec.to_string());
            text.push('\n');
        }
    }
    std::fs::write(path, text).unwrap();
}

fn score(gens: &Path, out: &Path) -> String {
    let o = run_ok(
        vapr()
            .args(["eval", "score", "--bench", "naturalbench", "--generations"])
            .arg(gens)
            .arg("--out")
            .arg(out),
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn test_score_compare_and_bias_on_generations() {
    let dir = tempfile::tempdir().unwrap();
    let (ga, gb) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    naturalbench_generations(&ga, "dpo", 200, 0);
    naturalbench_generations(&gb, "base", 200, 60);
    let (ra, rb) = (dir.path().join("run_a"), dir.path().join("run_b"));
    let summary = score(&ga, &ra);
    assert!(
        summary.contains("naturalbench (naturalbench/official-v1), 800 items, g_acc 100.00%"),
        "{summary}"
    );
    score(&gb, &rb);

    let metrics: Value = serde_json::from_str(
        &std::fs::read_to_string(rb.join("naturalbench/metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(metrics["protocol"], "naturalbench/official-v1");
    // 60 always-yes groups: G-Acc 140/200, Acc (800 - 120)/800; an always-yes group gets
    // neither question nor image right, so Q-Acc = I-Acc = 280/400.
    assert_eq!(metrics["metrics"]["g_acc"], 0.7);
    assert_eq!(metrics["metrics"]["acc"], 0.85);
    assert_eq!(metrics["metrics"]["q_acc"], 0.7);
    assert_eq!(metrics["metrics"]["i_acc"], 0.7);
    assert_eq!(metrics["yes_bias"][0]["incorrect_yes"], 120);
    assert!(rb.join("naturalbench/generations.jsonl").exists());
    assert!(rb.join("naturalbench/scores.jsonl").exists());
    assert!(rb.join("naturalbench/yes_bias.png").exists());

    // Known difference of 0.30 in G-Acc: the interval covers it and excludes 0.
    let o = run_ok(vapr().args(["eval", "compare"]).arg(&ra).arg(&rb).args([
        "--resamples",
        "1000",
        "--json",
    ]));
    let cmp: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cmp["resamples"], 1000);
    let bench = &cmp["benches"][0];
    assert_eq!(bench["bench"], "naturalbench");
    assert_eq!(bench["units"], 200);
    let g = bench["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "g_acc")
        .unwrap();
    let (delta, lo, hi) = (
        g["delta"].as_f64().unwrap(),
        g["lo"].as_f64().unwrap(),
        g["hi"].as_f64().unwrap(),
    );
    assert!((delta - 0.3).abs() < 1e-12);
    assert!(lo > 0.0 && lo < 0.3 && hi > 0.3, "{g}");
    assert_eq!(g["significant"], true);
    assert!((cmp["average"]["delta"].as_f64().unwrap() - 0.3).abs() < 1e-12);

    // Same seed, same interval; the table marks the significant rows.
    let o2 = run_ok(vapr().args(["eval", "compare"]).arg(&ra).arg(&rb).args([
        "--resamples",
        "1000",
        "--json",
    ]));
    assert_eq!(o.stdout, o2.stdout);
    let o = run_ok(
        vapr()
            .args(["eval", "compare"])
            .arg(&ra)
            .arg(&rb)
            .args(["--resamples", "1000"]),
    );
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("g_acc") && table.contains("+30.00*"),
        "{table}"
    );
    assert!(table.contains("groups of 4"), "{table}");

    // No difference: a run against itself covers 0.
    let o = run_ok(vapr().args(["eval", "compare"]).arg(&rb).arg(&rb).args([
        "--resamples",
        "500",
        "--json",
    ]));
    let cmp: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(cmp["average"]["significant"], false);

    // Yes-bias over both runs.
    let plot = dir.path().join("bias.png");
    let o = run_ok(
        vapr()
            .args(["eval", "bias"])
            .arg(&ra)
            .arg(&rb)
            .arg("--plot")
            .arg(&plot),
    );
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("run_b: naturalbench yes/no | 800 | 50.0% | 65.0% | 120 | 0 | 0 |"),
        "{table}"
    );
    assert!(std::fs::metadata(&plot).unwrap().len() > 1000);
}

#[test]
fn test_eval_with_model_fails_clearly_after_checking_data() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("POPE.tsv");
    std::fs::write(
        &tsv,
        "index\timage\tquestion\tanswer\tcategory\n1\taGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=\tIs there a dog?\tno\trandom\n",
    )
    .unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let run = |model: &Path, device: &str| {
        vapr()
            .args(["eval", "--model"])
            .arg(model)
            .args(["--bench", "pope", "--device", device, "--data"])
            .arg(&tsv)
            .arg("--out")
            .arg(dir.path().join("out"))
            .output()
            .unwrap()
    };
    // A folder without a model: the data is checked first, then the loader names the file.
    let o = run(&model, "cpu");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pope: 1 items ready"), "{err}");
    assert!(err.contains("config.json"), "{err}");
    assert!(!dir.path().join("out/pope/generations.jsonl").exists());
    if !cfg!(feature = "cuda") {
        let o = run(&repo_root().join("tests/fixtures/qwen2_vl/flat"), "cuda");
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("--features cuda"), "{err}");
    }
}

/// Standard base64 (the VLMEvalKit TSV image encoding).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A VLMEvalKit POPE.tsv with the fixture images: base64 images, a short cell reusing row 1's
/// image, a comma-listed category exploded into one item per split (5 items).
fn write_pope_tsv(dir: &Path) -> std::path::PathBuf {
    let fixtures = repo_root().join("tests/fixtures/qwen2_vl");
    let a = base64(&std::fs::read(fixtures.join("images/a.png")).unwrap());
    let b = base64(&std::fs::read(fixtures.join("images/b.png")).unwrap());
    let tsv = dir.join("POPE.tsv");
    let rows = [
        format!("1\t{a}\tIs there a red cube in the image?\tyes\trandom"),
        format!("2\t{b}\tIs there a dog?\tno\trandom"),
        "3\t1\tIs there a sphere left of the cylinder in the image?\tno\tpopular,adversarial"
            .to_string(),
        format!("4\t{b}\tIs there a bus?\tyes\tpopular"),
    ];
    std::fs::write(
        &tsv,
        format!(
            "index\timage\tquestion\tanswer\tcategory\n{}\n",
            rows.join("\n")
        ),
    )
    .unwrap();
    tsv
}

#[test]
fn test_eval_generates_with_the_tiny_model_batched_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo_root().join("tests/fixtures/qwen2_vl/flat");
    let tsv = write_pope_tsv(dir.path());
    let eval = |out: &Path, batch: &str| {
        run_ok(
            vapr()
                .args(["eval", "--model"])
                .arg(&model)
                .args(["--bench", "pope", "--max-new-tokens", "6", "--batch", batch])
                .arg("--data")
                .arg(&tsv)
                .arg("--out")
                .arg(out),
        )
    };
    let (batched, single) = (dir.path().join("batched"), dir.path().join("single"));
    eval(&batched, "4");
    let gens_path = batched.join("pope/generations.jsonl");
    let gens = lines(&gens_path);
    let ids: Vec<&str> = gens.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "random/1",
            "random/2",
            "popular/3",
            "adversarial/3",
            "popular/4"
        ]
    );
    let model_id = std::fs::canonicalize(&model).unwrap().display().to_string();
    for g in &gens {
        assert_eq!(g["model"], model_id.as_str());
        assert_eq!(g["protocol"], "pope/official-v1");
        assert_eq!(g["n_images"], 1);
        assert!(g["output"].is_string(), "{g}");
    }
    assert!(
        gens.iter()
            .any(|g| !g["output"].as_str().unwrap().is_empty())
    );
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(batched.join("pope/metrics.json")).unwrap())
            .unwrap();
    assert_eq!(metrics["items"], 5);
    assert_eq!(metrics["model"], model_id.as_str());
    assert_eq!(metrics["protocol"], "pope/official-v1");
    assert!(metrics["metrics"]["f1"].is_number(), "{metrics}");
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(batched.join("pope/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["gen_params"]["max_new_tokens"], 6);

    // One prompt per batch gives the same outputs (padding changes nothing).
    eval(&single, "1");
    let outputs = |g: &[Value]| g.iter().map(|g| g["output"].clone()).collect::<Vec<_>>();
    assert_eq!(
        outputs(&lines(&single.join("pope/generations.jsonl"))),
        outputs(&gens)
    );

    // A second run resumes: nothing is generated again, the file is untouched.
    let before = std::fs::read(&gens_path).unwrap();
    let o = eval(&batched, "4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(0 generated now, 5 resumed)"), "{err}");
    assert_eq!(std::fs::read(&gens_path).unwrap(), before);

    // A run killed after 3 items continues with the other 2, which come out the same.
    let text = String::from_utf8(before.clone()).unwrap();
    let kept: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&gens_path, format!("{}\n", kept.join("\n"))).unwrap();
    let o = eval(&batched, "4");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("(2 generated now, 3 resumed)"), "{err}");
    assert_eq!(outputs(&lines(&gens_path)), outputs(&gens));

    // Sampling is an option: seeded, independent of the batch, and part of the model id, so a
    // greedy run does not resume with it.
    let sampled = |out: &Path, batch: &str| {
        vapr()
            .args(["eval", "--model"])
            .arg(&model)
            .args(["--bench", "pope", "--max-new-tokens", "6", "--batch", batch])
            .args(["--temperature", "1.0", "--top-p", "0.9", "--seed", "5"])
            .arg("--data")
            .arg(&tsv)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let o = sampled(&batched, "4");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("model") && err.contains("sampled"), "{err}");
    let (s4, s1) = (dir.path().join("s4"), dir.path().join("s1"));
    assert!(sampled(&s4, "4").status.success());
    assert!(sampled(&s1, "1").status.success());
    let s4 = lines(&s4.join("pope/generations.jsonl"));
    assert_eq!(
        outputs(&s4),
        outputs(&lines(&s1.join("pope/generations.jsonl")))
    );
    assert_eq!(
        s4[0]["model"],
        format!("{model_id} (sampled: temperature 1, top_p 0.9, seed 5)").as_str()
    );
}

#[test]
fn test_score_rejects_generations_of_another_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let gens = dir.path().join("g.jsonl");
    naturalbench_generations(&gens, "m", 1, 0);
    let o = vapr()
        .args(["eval", "score", "--bench", "pope", "--generations"])
        .arg(&gens)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("naturalbench") && err.contains("expected \"pope\""),
        "{err}"
    );
}

#[test]
fn test_eval_runs_qwen2_5_vl_and_llava_batched_like_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = write_pope_tsv(dir.path());
    for (k, model) in ["qwen2_5_vl/flat", "llava/published"].iter().enumerate() {
        let model = repo_root().join("tests/fixtures").join(model);
        let mut outputs = Vec::new();
        for batch in ["3", "1"] {
            let out = dir.path().join(format!("{k}-{batch}"));
            run_ok(
                vapr()
                    .args(["eval", "--model"])
                    .arg(&model)
                    .args(["--bench", "pope", "--max-new-tokens", "5", "--batch", batch])
                    .arg("--data")
                    .arg(&tsv)
                    .arg("--out")
                    .arg(&out),
            );
            let gens = lines(&out.join("pope/generations.jsonl"));
            assert_eq!(gens.len(), 5, "{}", model.display());
            outputs.push(
                gens.iter()
                    .map(|g| g["output"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(
            outputs[0],
            outputs[1],
            "{}: --batch 3 vs --batch 1",
            model.display()
        );
    }
}
