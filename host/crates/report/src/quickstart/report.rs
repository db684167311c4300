//! `write_report`: the run directory's `metrics.json`, `report.md`, `report.html` and
//! `plots/*.png`, all from one [`QuickstartResults`].

use std::fs;
use std::path::{Path, PathBuf};

use super::analysis::{
    COLLAPSE_MAX, HACKING_MIN, HEALTHY_MIN, Reading, base_model, category_names, chance_accuracy,
    dpo_on, eval_questions, findings, is_dpo, limits, reward_summary,
};
use super::doc::{Doc, Table};
use super::error::ReportError;
use super::format::{MISSING, duration, num, opt_pct, pct, pp};
use super::plots::{self, DrawnPlot, PlotKind};
use super::results::QuickstartResults;
use crate::stats::LONG_TOKENS;

/// Where [`write_report`] put each file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    pub metrics_json: PathBuf,
    pub report_md: PathBuf,
    pub report_html: PathBuf,
    /// The PNGs drawn, in report order. The two reward plots are left out when no model
    /// logged DPO rewards.
    pub plots: Vec<PathBuf>,
}

/// Writes `dir/metrics.json` (the record, pretty JSON), the plots under `dir/plots/`, then
/// `dir/report.md` and `dir/report.html` (which reference the plots relatively). Creates
/// `dir` if needed; overwrites earlier reports.
pub fn write_report(dir: &Path, results: &QuickstartResults) -> Result<ReportFiles, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let metrics_json = dir.join("metrics.json");
    let json = serde_json::to_string_pretty(results).map_err(|source| ReportError::Json {
        path: metrics_json.clone(),
        source,
    })?;
    write(&metrics_json, json + "\n")?;

    let drawn = plots::draw_all(dir, results)?;
    let doc = build(results, &drawn);
    let report_md = dir.join("report.md");
    write(&report_md, doc.to_markdown())?;
    let report_html = dir.join("report.html");
    write(&report_html, doc.to_html())?;
    tracing::info!(dir = %dir.display(), plots = drawn.len(), "quickstart report written");
    Ok(ReportFiles {
        metrics_json,
        report_md,
        report_html,
        plots: drawn.into_iter().map(|p| p.path).collect(),
    })
}

fn write(path: &Path, text: String) -> Result<(), ReportError> {
    fs::write(path, text).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The report as a document (shared by the Markdown and HTML renderings).
pub fn build(r: &QuickstartResults, drawn: &[DrawnPlot]) -> Doc {
    let mut doc = Doc::new("vapr quickstart report");
    doc.para(format!(
        "`vapr quickstart` (vapr {}): scale `{}`, seed {}, device `{}`, wall time {}.",
        r.vapr_version,
        r.scale,
        r.seed,
        r.device,
        duration(r.wall_seconds)
    ));
    what_was_run(&mut doc, r);
    evaluation(&mut doc, r);
    results_table(&mut doc, r);
    by_category(&mut doc, r, drawn);
    yes_bias(&mut doc, r, drawn);
    pair_sets(&mut doc, r);
    diagnostic(&mut doc, r, drawn);
    doc.h2("What this shows");
    doc.list(findings(r));
    doc.h2("What this does not show");
    doc.list(limits(r));
    doc
}

fn embed(doc: &mut Doc, drawn: &[DrawnPlot], kind: PlotKind) {
    if let Some(p) = drawn.iter().find(|p| p.kind == kind) {
        doc.image(p.relative.clone(), kind.title());
    }
}

fn what_was_run(doc: &mut Doc, r: &QuickstartResults) {
    doc.h2("What was run");
    doc.para("Models, all evaluated on the same held-out questions:");
    doc.list(
        r.models
            .iter()
            .map(|m| format!("`{}`: {}", m.name, m.description))
            .collect(),
    );
    doc.para("Pair sets, built from the same training questions:");
    doc.list(
        r.pair_sets
            .iter()
            .map(|s| {
                format!(
                    "`{}` ({} pairs, `{}`): {}",
                    s.name, s.pairs, s.path, s.description
                )
            })
            .collect(),
    );
    if !r.step_seconds.is_empty() {
        let mut steps: Vec<(&String, &f64)> = r.step_seconds.iter().collect();
        steps.sort_by_key(|(name, _)| step_rank(name));
        let mut t = Table::new(["step", "time", "share of wall time"]);
        for (name, secs) in steps {
            let share = (r.wall_seconds > 0.0).then(|| secs / r.wall_seconds);
            t.row(vec![name.clone(), duration(*secs), opt_pct(share)]);
        }
        doc.h3("Step times");
        doc.table(t);
    }
    let settings = flatten_settings(&r.settings);
    if !settings.is_empty() {
        let mut t = Table::new(["setting", "value"]).text_columns(&[1]);
        for (k, v) in settings {
            t.row(vec![format!("`{k}`"), v]);
        }
        doc.h3("Settings");
        doc.table(t);
    }
}

/// Pipeline order for the step-time table; unknown steps go last, alphabetically (the
/// sort is stable over the map's alphabetical order).
fn step_rank(name: &str) -> usize {
    const ORDER: [&str; 9] = [
        "synth",
        "tokenizer",
        "sft",
        "pairs",
        "controls",
        "dpo",
        "sft-on-chosen",
        "eval",
        "report",
    ];
    ORDER
        .iter()
        .position(|o| name == *o || (*o == "dpo" && name.starts_with("dpo")))
        .unwrap_or(ORDER.len())
}

/// `{"model": {"layers": 2}}` → `model.layers = 2`; arrays and scalars as JSON text.
fn flatten_settings(v: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            serde_json::Value::Null if prefix.is_empty() => {}
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

fn evaluation(doc: &mut Doc, r: &QuickstartResults) {
    doc.h2("How the models were scored");
    doc.para(method_sentence(&r.eval_method));
    let mut split = format!(
        "Held-out split: {} binary (yes/no) questions with a true yes-rate of {}, and {} \
         short-answer questions; {} questions in all, the same for every model.",
        r.eval.binary_questions,
        pct(r.eval.true_yes_rate),
        r.eval.short_questions,
        eval_questions(r)
    );
    if let Some(chance) = chance_accuracy(r) {
        split += &format!(
            " Answering uniformly at random among each question's candidates would score {}.",
            pct(chance)
        );
    }
    doc.para(split);
}

/// The run's method as a sentence: a lower-case fragment ("likelihood ranking over ...")
/// becomes "Answers were chosen by likelihood ranking over ...".
fn method_sentence(method: &str) -> String {
    let method = method.trim();
    let mut s = if method.starts_with(|c: char| c.is_lowercase()) {
        format!("Answers were chosen by {method}")
    } else {
        method.to_string()
    };
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

fn final_reward(m: &super::results::ModelResult) -> String {
    opt_pct(reward_summary(&m.train_log).map(|s| s.final_accuracy))
}

fn results_table(doc: &mut Doc, r: &QuickstartResults) {
    doc.h2("Results");
    let mut t = Table::new([
        "model",
        "trained on",
        "overall",
        "binary",
        "short",
        "yes-rate",
        "final reward acc.",
    ])
    .text_columns(&[1]);
    for m in &r.models {
        t.row(vec![
            m.name.clone(),
            m.trained_on.clone().unwrap_or_else(|| MISSING.to_string()),
            pct(m.accuracy),
            pct(m.binary_accuracy),
            pct(m.short_accuracy),
            pct(m.yes_rate),
            final_reward(m),
        ]);
    }
    doc.table(t);
    doc.para(format!(
        "Accuracies are shares of the held-out questions (overall = binary and short together). \
         The true yes-rate is {}. Final reward accuracy is the mean over the last tenth of the \
         logged DPO steps ({MISSING} for models not trained with DPO).",
        pct(r.eval.true_yes_rate)
    ));
}

fn by_category(doc: &mut Doc, r: &QuickstartResults, drawn: &[DrawnPlot]) {
    doc.h2("Accuracy by category");
    let mut header = vec!["category".to_string()];
    header.extend(r.models.iter().map(|m| m.name.clone()));
    let mut t = Table::new(header);
    for c in category_names(r) {
        let mut row = vec![c.clone()];
        row.extend(
            r.models
                .iter()
                .map(|m| opt_pct(m.accuracy_by_category.get(&c).copied())),
        );
        t.row(row);
    }
    let mut overall = vec!["overall".to_string()];
    overall.extend(r.models.iter().map(|m| pct(m.accuracy)));
    t.row(overall);
    doc.table(t);
    embed(doc, drawn, PlotKind::AccuracyByCategory);
}

fn yes_bias(doc: &mut Doc, r: &QuickstartResults, drawn: &[DrawnPlot]) {
    doc.h2("Yes-bias");
    doc.para(
        "How often each model answered yes on the binary questions, against how often yes was \
         the true answer (the paper reports base models saying yes when the answer is no).",
    );
    let truth = r.eval.true_yes_rate;
    let mut t = Table::new(["model", "yes-rate", "true yes-rate", "difference"]);
    for m in &r.models {
        t.row(vec![
            m.name.clone(),
            pct(m.yes_rate),
            pct(truth),
            pp(m.yes_rate - truth),
        ]);
    }
    doc.table(t);
    embed(doc, drawn, PlotKind::YesRate);
}

fn pair_sets(doc: &mut Doc, r: &QuickstartResults) {
    doc.h2("Pair sets and their bias statistics");
    doc.para(format!(
        "The paper's bias statistics (`vapr stats`) of each pair set, beside the DPO model \
         trained on it. Tokens are words, numbers and punctuation; Levenshtein distance counts \
         the same tokens; short answers have fewer than {LONG_TOKENS} tokens."
    ));
    let mut t = Table::new([
        "pair set",
        "pairs",
        "% chosen longer",
        "% chosen shorter",
        "mean LD",
        "DPO model",
        "overall",
        "final reward acc.",
    ])
    .text_columns(&[5]);
    for s in &r.pair_sets {
        let model = dpo_on(r, &s.name);
        t.row(vec![
            s.name.clone(),
            s.pairs.to_string(),
            num(s.stats.pct_chosen_longer.all, 1),
            num(s.stats.pct_chosen_shorter.all, 1),
            num(s.stats.mean_levenshtein.all, 2),
            model.map_or_else(|| MISSING.to_string(), |m| m.name.clone()),
            model.map_or_else(|| MISSING.to_string(), |m| pct(m.accuracy)),
            model.map_or_else(|| MISSING.to_string(), final_reward),
        ]);
    }
    doc.table(t);
    for s in &r.pair_sets {
        match dpo_on(r, &s.name) {
            Some(m) => doc.h3(format!("`{}` pairs → `{}`", s.name, m.name)),
            None => doc.h3(format!("`{}` pairs", s.name)),
        }
        doc.para(format!(
            "{} ({} pairs in `{}`)",
            s.description.trim_end_matches('.'),
            s.pairs,
            s.path
        ));
        if let Some(t) = Table::from_markdown(&s.stats.to_markdown()) {
            doc.table(t);
        }
    }
}

fn diagnostic(doc: &mut Doc, r: &QuickstartResults, drawn: &[DrawnPlot]) {
    doc.h2("DPO reward accuracy over training");
    doc.para(
        "The paper (VaPR §7, DPO dynamics) tracks reward accuracy, the share of pairs whose \
         implicit reward ranks chosen above rejected: it stays near 50% when chosen and \
         rejected are barely separable (DPO collapse), jumps to about 100% when they differ by \
         surface cues (reward hacking), and climbs gradually to about 90% without saturating on \
         VaPR's hard negatives (healthy). The reading below says which of these shapes each \
         run's final value is closest to: a reading of the numbers, not a verdict on the run.",
    );
    doc.para(format!(
        "Cut-offs on the final value: collapse-like up to {}, healthy-like from {} to below \
         {}, hacking-like from {}; between {} and {} the reading says so.",
        pct(COLLAPSE_MAX),
        pct(HEALTHY_MIN),
        pct(HACKING_MIN),
        pct(HACKING_MIN),
        pct(COLLAPSE_MAX),
        pct(HEALTHY_MIN)
    ));
    let runs: Vec<_> = r
        .models
        .iter()
        .filter(|m| is_dpo(m))
        .map(|m| (m, reward_summary(&m.train_log)))
        .collect();
    if runs.is_empty() {
        doc.para("No model in this run was trained with DPO.");
        return;
    }
    let mut t = Table::new([
        "run",
        "pair set",
        "steps logged",
        "first",
        "final",
        "max",
        "final margin",
        "reading",
    ])
    .text_columns(&[1, 7]);
    let mut readings = Vec::new();
    for (m, s) in &runs {
        let trained_on = m.trained_on.clone().unwrap_or_else(|| MISSING.to_string());
        match s {
            Some(s) => {
                let reading = Reading::of(s.final_accuracy);
                t.row(vec![
                    m.name.clone(),
                    trained_on,
                    s.points.to_string(),
                    pct(s.first_accuracy),
                    pct(s.final_accuracy),
                    pct(s.max_accuracy),
                    num(s.final_margin, 3),
                    reading.label().to_string(),
                ]);
                readings.push(format!(
                    "`{}` ends at {}: {}.",
                    m.name,
                    pct(s.final_accuracy),
                    reading.meaning()
                ));
            }
            None => {
                let mut row = vec![m.name.clone(), trained_on, "0".to_string()];
                row.extend((0..5).map(|_| MISSING.to_string()));
                t.row(row);
                readings.push(format!("`{}` logged no reward accuracy.", m.name));
            }
        }
    }
    doc.table(t);
    doc.list(readings);
    if let (Some(base), Some(v)) = (base_model(r), dpo_on(r, "vapr")) {
        // Ties the training signal to the held-out outcome, so neither is read alone.
        doc.para(format!(
            "For scale: held-out accuracy moved from {} (`{}`) to {} (`{}`).",
            pct(base.accuracy),
            base.name,
            pct(v.accuracy),
            v.name
        ));
    }
    embed(doc, drawn, PlotKind::RewardAccuracy);
    embed(doc, drawn, PlotKind::RewardMargins);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_flatten_to_dotted_keys() {
        let v =
            serde_json::json!({"model": {"layers": 2, "name": "tiny"}, "lr": 1e-3, "tags": [1, 2]});
        let mut flat = flatten_settings(&v);
        flat.sort();
        assert_eq!(
            flat,
            [
                ("lr".to_string(), "0.001".to_string()),
                ("model.layers".to_string(), "2".to_string()),
                ("model.name".to_string(), "tiny".to_string()),
                ("tags".to_string(), "[1,2]".to_string()),
            ]
        );
        assert!(flatten_settings(&serde_json::Value::Null).is_empty());
    }

    #[test]
    fn method_fragments_become_sentences() {
        assert_eq!(
            method_sentence("likelihood ranking over the candidates"),
            "Answers were chosen by likelihood ranking over the candidates."
        );
        assert_eq!(method_sentence("Greedy decoding."), "Greedy decoding.");
    }

    #[test]
    fn steps_sort_in_pipeline_order() {
        let mut names = ["eval", "dpo-vapr", "synth", "zzz", "sft", "tokenizer"];
        names.sort_by_key(|n| step_rank(n));
        assert_eq!(
            names,
            ["synth", "tokenizer", "sft", "dpo-vapr", "eval", "zzz"]
        );
    }
}
