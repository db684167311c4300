//! The quickstart report on a hand-made results record with known numbers: every file is
//! written, the numbers come back as documented, the plots decode and are not blank.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use vapr_report::bias_stats;
use vapr_report::quickstart::{
    EvalSplit, ModelResult, PairSetResult, PlotKind, QuickstartResults, ReportError, StepPoint,
    summary_table, write_report,
};

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

/// A reward curve from `start` to `end` over `n` steps (linear), margins `step / 10`.
fn dpo_log(n: usize, start: f64, end: f64) -> Vec<StepPoint> {
    (0..n)
        .map(|i| StepPoint {
            step: i + 1,
            loss: 0.69 - 0.01 * i as f64,
            rewards_accuracy: Some(start + (end - start) * i as f64 / (n - 1) as f64),
            rewards_margin: Some(i as f64 / 10.0),
        })
        .collect()
}

fn model(
    name: &str,
    trained_on: Option<&str>,
    (accuracy, binary, short, yes): (f64, f64, f64, f64),
    category_offset: f64,
    train_log: Vec<StepPoint>,
) -> ModelResult {
    let accuracy_by_category: BTreeMap<String, f64> = CATEGORIES
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.to_string(),
                (0.3 + 0.05 * i as f64 + category_offset).min(1.0),
            )
        })
        .collect();
    ModelResult {
        name: name.to_string(),
        description: format!("{name} <baseline> & co"),
        trained_on: trained_on.map(str::to_string),
        accuracy,
        binary_accuracy: binary,
        short_accuracy: short,
        accuracy_by_category,
        yes_rate: yes,
        train_log,
    }
}

fn pair_set(name: &str, rejected: &str) -> PairSetResult {
    let pairs = [
        ("There are three red circles.", rejected),
        ("The square is blue.", "The square is green."),
    ];
    PairSetResult {
        name: name.to_string(),
        description: format!("{name} rejections."),
        path: format!("pairs/{name}.jsonl"),
        pairs: pairs.len(),
        stats: bias_stats(pairs),
    }
}

fn results() -> QuickstartResults {
    let sft_log = (1..=5)
        .map(|step| StepPoint {
            step,
            loss: 2.0 / step as f64,
            rewards_accuracy: None,
            rewards_margin: None,
        })
        .collect();
    QuickstartResults {
        vapr_version: "0.1.0".into(),
        scale: "tiny".into(),
        device: "cpu".into(),
        seed: 7,
        wall_seconds: 245.0,
        step_seconds: [
            ("synth", 5.0),
            ("sft", 100.0),
            ("dpo-vapr", 40.0),
            ("eval", 20.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        settings: serde_json::json!({
            "model": {"layers": 2, "hidden": 64},
            "dpo": {"beta": 0.1},
            "chance_accuracy": 0.3
        }),
        eval_method: "Likelihood ranking over the candidate answers.".into(),
        eval: EvalSplit {
            binary_questions: 200,
            short_questions: 200,
            true_yes_rate: 0.5,
        },
        models: vec![
            model("sft-base", None, (0.55, 0.60, 0.50, 0.70), 0.0, sft_log),
            model(
                "sft-on-chosen",
                Some("vapr"),
                (0.57, 0.62, 0.52, 0.66),
                0.02,
                vec![],
            ),
            model(
                "dpo-vapr",
                Some("vapr"),
                (0.64, 0.70, 0.58, 0.56),
                0.1,
                dpo_log(20, 0.5, 0.9),
            ),
            model(
                "dpo-length-biased",
                Some("length-biased"),
                (0.52, 0.55, 0.49, 0.75),
                -0.05,
                dpo_log(20, 1.0, 1.0),
            ),
            model(
                "dpo-style-biased",
                Some("style-biased"),
                (0.54, 0.58, 0.50, 0.72),
                -0.02,
                dpo_log(20, 0.5, 0.5),
            ),
        ],
        pair_sets: vec![
            pair_set("vapr", "There are four red circles."),
            pair_set(
                "length-biased",
                "There are four red circles, drawn with soft edges on a bright background.",
            ),
            pair_set("style-biased", "Four circles, all red, can be seen."),
        ],
    }
}

/// Rows of every Markdown table in `md`, cells trimmed.
fn table_rows(md: &str) -> Vec<Vec<String>> {
    md.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

fn has_row(md: &str, row: &[&str]) -> bool {
    let found = table_rows(md).iter().any(|r| r == row);
    if !found {
        eprintln!("no row {row:?} in:\n{md}");
    }
    found
}

#[test]
fn test_every_file_is_written_and_metrics_parse_back() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &results()).unwrap();
    for f in [&files.metrics_json, &files.report_md, &files.report_html] {
        assert!(std::fs::metadata(f).unwrap().len() > 100, "{}", f.display());
    }
    assert_eq!(files.plots.len(), 4);
    assert_eq!(files.metrics_json, dir.path().join("metrics.json"));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files.metrics_json).unwrap()).unwrap();
    assert_eq!(json["seed"], 7);
    assert_eq!(json["scale"], "tiny");
    assert_eq!(json["eval"]["true_yes_rate"], 0.5);
    assert_eq!(json["models"][2]["name"], "dpo-vapr");
    assert_eq!(json["models"][2]["accuracy"], 0.64);
    assert_eq!(json["models"][2]["train_log"].as_array().unwrap().len(), 20);
    assert_eq!(json["models"][0]["accuracy_by_category"]["counting"], 0.3);
    assert_eq!(json["pair_sets"][1]["stats"]["pairs"]["all"], 2);
    assert_eq!(json["settings"]["dpo"]["beta"], 0.1);
}

#[test]
fn test_plots_decode_at_their_size_and_are_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &results()).unwrap();
    for (path, kind) in files.plots.iter().zip(PlotKind::ALL) {
        assert_eq!(path, &dir.path().join("plots").join(kind.file_name()));
        let img = image::open(path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), kind.size(), "{}", path.display());
        let colours: BTreeSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
        assert!(
            colours.len() >= 8,
            "{}: {} colours",
            path.display(),
            colours.len()
        );
        // Text is drawn: dark pixels (titles, labels) exist beside the white background.
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
        assert!(dark > 500, "{}: {dark} dark pixels", path.display());
        // Each model colour of the bar charts appears (Okabe–Ito blue = model 0).
        if kind == PlotKind::AccuracyByCategory {
            assert!(colours.contains(&[0, 114, 178]) && colours.contains(&[213, 94, 0]));
        }
    }
}

#[test]
fn test_report_tables_carry_the_numbers_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &results()).unwrap();
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    assert!(md.starts_with("# vapr quickstart report\n"));
    assert!(md.contains("scale `tiny`, seed 7, device `cpu`, wall time 4 min 05 s"));
    assert!(md.contains("Likelihood ranking over the candidate answers."));
    // Main table: overall, binary, short, yes-rate, final reward accuracy (mean of the last
    // 2 of 20 logged points: (0.8789... + 0.9) / 2).
    assert!(has_row(
        &md,
        &[
            "model",
            "trained on",
            "overall",
            "binary",
            "short",
            "yes-rate",
            "final reward acc."
        ]
    ));
    assert!(has_row(
        &md,
        &["sft-base", "–", "55.0%", "60.0%", "50.0%", "70.0%", "–"]
    ));
    assert!(has_row(
        &md,
        &[
            "dpo-vapr", "vapr", "64.0%", "70.0%", "58.0%", "56.0%", "88.9%"
        ]
    ));
    assert!(has_row(
        &md,
        &[
            "dpo-length-biased",
            "length-biased",
            "52.0%",
            "55.0%",
            "49.0%",
            "75.0%",
            "100.0%"
        ]
    ));
    // Per category (sft-base 0.30 + 0.05·i, dpo-vapr +0.10) and overall.
    assert!(has_row(
        &md,
        &["counting", "30.0%", "32.0%", "40.0%", "25.0%", "28.0%"]
    ));
    assert!(has_row(
        &md,
        &["reasoning", "75.0%", "77.0%", "85.0%", "70.0%", "73.0%"]
    ));
    assert!(has_row(
        &md,
        &["overall", "55.0%", "57.0%", "64.0%", "52.0%", "54.0%"]
    ));
    // Yes-bias against the true 50%.
    assert!(has_row(&md, &["sft-base", "70.0%", "50.0%", "+20.0 pp"]));
    assert!(has_row(&md, &["dpo-vapr", "56.0%", "50.0%", "+6.0 pp"]));
    // Bias statistics beside the DPO model trained on each set.
    assert!(has_row(
        &md,
        &[
            "length-biased",
            "2",
            "0.0",
            "50.0",
            "5.50",
            "dpo-length-biased",
            "52.0%",
            "100.0%"
        ]
    ));
    assert!(md.contains("### `vapr` pairs → `dpo-vapr`"));
    assert!(has_row(&md, &["% chosen shorter", "50.00%", "50.00%", "–"]));
    // The diagnostic as a reading of the numbers.
    assert!(has_row(
        &md,
        &[
            "dpo-vapr",
            "vapr",
            "20",
            "50.0%",
            "88.9%",
            "90.0%",
            "1.850",
            "near 90%: healthy-like"
        ]
    ));
    assert!(md.contains("| near 100%: hacking-like |"));
    assert!(md.contains("| near 50%: collapse-like |"));
    assert!(md.contains("not a verdict"));
    assert!(md.contains(
        "Cut-offs on the final value: collapse-like up to 65.0%, healthy-like from 80.0% to \
         below 97.0%, hacking-like from 97.0%"
    ));
    // What this shows: computed comparisons (64.0 vs 55.0 on 400 questions: band ±6.9 pp).
    assert!(md.contains(
        "DPO on VaPR pairs beat the SFT base: `dpo-vapr` scored 64.0% overall, higher than \
         `sft-base` (55.0%; +9.0 pp), outside the ±6.9 pp sampling noise of 400 held-out \
         questions."
    ));
    assert!(md.contains("`dpo-vapr` to 56.0%, against a true yes-rate of 50.0%: DPO on VaPR pairs ended 14.0 pp closer to the true rate."));
    assert!(md.contains(
        "Against chance: the best model, `dpo-vapr`, scored 64.0% where a uniform guess among \
         the candidates scores 30.0% (+34.0 pp, ±6.6 pp noise), outside the sampling noise"
    ));
    assert!(md.contains(
        "Answering uniformly at random among each question's candidates would score 30.0%."
    ));
    assert!(md.contains("## What this does not show"));
    // Plots are embedded relatively.
    for kind in PlotKind::ALL {
        assert!(md.contains(&format!("](plots/{})", kind.file_name())));
    }
}

#[test]
fn test_html_is_self_contained_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &results()).unwrap();
    let html = std::fs::read_to_string(&files.report_html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("sft-base &lt;baseline&gt; &amp; co"));
    assert!(!html.contains("<baseline>"));
    assert!(html.contains("<img src=\"plots/accuracy_by_category.png\""));
    assert!(html.contains("<td class=\"num\">64.0%</td>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external resources"
    );
}

#[test]
fn test_summary_table_aligns() {
    let table = summary_table(&results());
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 5);
    let width = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == width), "{table}");
    let header = lines[0];
    assert!(header.starts_with("model"));
    let row = lines.iter().find(|l| l.starts_with("dpo-vapr ")).unwrap();
    // Numbers are right-aligned under their headers.
    for (head, cell) in [
        ("overall", "64.0%"),
        ("short", "58.0%"),
        ("final reward acc", "88.9%"),
    ] {
        let end = |s: &str, pat: &str| {
            s.find(pat)
                .map(|i| s[..i].chars().count() + pat.chars().count())
        };
        assert_eq!(end(header, head), end(row, cell), "{head}\n{table}");
    }
    assert!(row.contains("56.0% vs 50.0%"));
    let base = lines.iter().find(|l| l.starts_with("sft-base ")).unwrap();
    assert!(
        base.ends_with('–'),
        "no reward accuracy without DPO: {base}"
    );
}

#[test]
fn test_runs_without_dpo_skip_the_reward_plots() {
    let mut r = results();
    r.models.retain(|m| !m.name.starts_with("dpo"));
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &r).unwrap();
    assert_eq!(files.plots.len(), 2);
    assert!(!dir.path().join("plots/reward_accuracy.png").exists());
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    assert!(md.contains("No model in this run was trained with DPO."));
    assert!(md.contains("cannot compare DPO on VaPR pairs with the SFT base"));
}

#[test]
fn test_reports_are_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fa = write_report(a.path(), &results()).unwrap();
    let fb = write_report(b.path(), &results()).unwrap();
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&fa.report_md), read(&fb.report_md));
    assert_eq!(read(&fa.report_html), read(&fb.report_html));
    for (pa, pb) in fa.plots.iter().zip(&fb.plots) {
        assert_eq!(read(pa), read(pb), "{}", pa.display());
    }
}

#[test]
fn test_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let err = write_report(&blocker.join("run"), &results()).unwrap_err();
    assert!(matches!(err, ReportError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("blocker"), "{err}");
}

/// Writes the sample report for a look by eye:
/// `VAPR_REPORT_SAMPLE_DIR=/tmp/qs cargo test -p vapr-report --test quickstart_report -- --ignored`.
#[test]
#[ignore = "writes a sample report to $VAPR_REPORT_SAMPLE_DIR for inspection"]
fn write_sample_report() {
    let dir = std::env::var_os("VAPR_REPORT_SAMPLE_DIR").expect("set VAPR_REPORT_SAMPLE_DIR");
    let files = write_report(Path::new(&dir), &results()).unwrap();
    eprintln!("{}\n{files:#?}", summary_table(&results()));
}

#[test]
fn test_missing_values_show_as_dashes_not_zeros() {
    let mut r = results();
    r.models[0].accuracy_by_category.remove("counting");
    r.models[0].yes_rate = f64::NAN;
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &r).unwrap();
    let md = std::fs::read_to_string(&files.report_md).unwrap();
    assert!(has_row(
        &md,
        &["counting", "–", "32.0%", "40.0%", "25.0%", "28.0%"]
    ));
    assert!(has_row(&md, &["sft-base", "–", "50.0%", "–"]));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files.metrics_json).unwrap()).unwrap();
    assert!(json["models"][0]["yes_rate"].is_null());
    assert_eq!(files.plots.len(), 4);
}

#[test]
fn test_many_models_with_long_names_still_draw() {
    let mut r = results();
    let extra: Vec<ModelResult> = (0..7)
        .map(|i| {
            let mut m = r.models[2].clone();
            m.name = format!("dpo-vapr-with-a-rather-long-name-{i}");
            m
        })
        .collect();
    r.models.extend(extra);
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(dir.path(), &r).unwrap();
    for (path, kind) in files.plots.iter().zip(PlotKind::ALL) {
        let img = image::open(path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), kind.size());
    }
    assert_eq!(summary_table(&r).lines().count(), 2 + 12);
}
