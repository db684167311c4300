//! Whole-run tests on the fakes: order, resume after every kind of crash, summaries.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use vapr_core::{Category, PreferenceRecord, QaUnit};

use crate::categorise::CategoriseSettings;
use crate::edit::EditSettings;
use crate::ledger::{Ledger, LedgerRow};
use crate::run::{InputCounts, NoProgress, Rooms, RunSettings, run, summary_path};
use crate::testkit::{FakeEditor, FakePlugins, FakeTemplates};

fn units(n: usize) -> Vec<QaUnit> {
    let answers = [
        ("How many dogs are there?", "There are three dogs."),
        ("What color is the car?", "The car is red."),
        ("Is there a cat?", "Yes, there is a cat."),
        ("What is he holding?", "He is holding a kite."),
        ("What is shown?\nA. cat\nB. dog", "B"),
        ("How many chairs?", "ALWAYSLONG chairs."),
        ("Describe it.", "LONGFIRST two boats sail."),
    ];
    (0..n)
        .map(|i| {
            let (q, a) = answers[i % answers.len()];
            QaUnit {
                id: format!("s{i}#0"),
                image: Some(format!("img/{i}.jpg")),
                question: q.into(),
                answer: a.into(),
                source: format!("in.json:{}", i + 1),
                category_hint: None,
            }
        })
        .collect()
}

fn settings(output: &Path, concurrency: usize) -> RunSettings {
    RunSettings {
        output: output.to_path_buf(),
        inputs: vec!["in.json".into()],
        seed: 7,
        concurrency,
        limit: None,
        categories: None,
        categorise: CategoriseSettings::default(),
        edit: EditSettings {
            max_retries: 1,
            ..Default::default()
        },
        crash_hook: None,
        max_consecutive_editor_errors: 5,
    }
}

fn rooms(editor: bool) -> Rooms {
    let plugins = Arc::new(FakePlugins::standard());
    Rooms {
        injectors: plugins.clone(),
        validators: plugins,
        templates: Arc::new(FakeTemplates),
        editor: editor.then(|| Arc::new(FakeEditor::default()) as _),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn records(path: &Path) -> Vec<PreferenceRecord> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn writes_in_input_order_with_provenance_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let s = block_on(run(
        rooms(false),
        settings(&out, 4),
        units(14),
        InputCounts {
            units_read: 14,
            ..Default::default()
        },
        &mut NoProgress,
    ))
    .unwrap();
    assert_eq!(s.dropped["multiple_choice"], 2);
    assert_eq!(s.eligible, 12);
    assert_eq!((s.written, s.failed), (10, 2));
    assert_eq!(s.failures["validation:length-gap"], 2);
    assert_eq!(s.retried, 2);
    let recs = records(&out);
    let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "s0#0", "s1#0", "s2#0", "s3#0", "s6#0", "s7#0", "s8#0", "s9#0", "s10#0", "s13#0"
        ]
    );
    let r = &recs[0];
    assert_eq!(r.category, Some(Category::Counting));
    assert_eq!(r.editor.as_deref(), Some("rule"));
    assert_eq!(r.plugin.as_deref(), Some("counting"));
    assert_eq!(r.plugin_version.as_deref(), Some("1.0.0"));
    assert_eq!(r.source.as_deref(), Some("in.json:1"));
    assert_eq!(r.validator["length-gap"]["pass"], true);
    assert_eq!(r.extra["category_decided_by"], "fit:counting=0.90");
    assert_ne!(r.rejected, r.chosen);
    let on_disk: crate::Summary =
        serde_json::from_str(&std::fs::read_to_string(summary_path(&out)).unwrap()).unwrap();
    assert_eq!(on_disk, s);
    let failures = std::fs::read_to_string(crate::run::failures_path(&out)).unwrap();
    assert_eq!(failures.lines().count(), 2);
    assert!(failures.contains("\"id\":\"s5#0\""), "{failures}");
}

#[test]
fn output_does_not_depend_on_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl");
    let b = dir.path().join("b.jsonl");
    block_on(run(
        rooms(false),
        settings(&a, 1),
        units(30),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    block_on(run(
        rooms(false),
        settings(&b, 8),
        units(30),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn resume_after_a_crash_window_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    let full_summary = block_on(run(
        rooms(false),
        settings(&full, 3),
        units(20),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    // Simulate the crash states a kill can leave: a line written but not committed, and a
    // partial line. Build them from a prefix run plus manual damage.
    for damage in ["uncommitted", "partial"] {
        let out = dir.path().join(format!("{damage}.jsonl"));
        let mut s = settings(&out, 3);
        s.limit = Some(9);
        block_on(run(
            rooms(false),
            s,
            units(20),
            InputCounts::default(),
            &mut NoProgress,
        ))
        .unwrap();
        let full_lines: Vec<String> = std::fs::read_to_string(&full)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let have = std::fs::read_to_string(&out).unwrap().lines().count();
        let extra = match damage {
            "uncommitted" => format!("{}\n", full_lines[have]),
            _ => full_lines[have][..10].to_string(),
        };
        std::fs::OpenOptions::new()
            .append(true)
            .open(&out)
            .map(|mut f| std::io::Write::write_all(&mut f, extra.as_bytes()))
            .unwrap()
            .unwrap();
        let resumed = block_on(run(
            rooms(false),
            settings(&out, 2),
            units(20),
            InputCounts::default(),
            &mut NoProgress,
        ))
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(&full).unwrap(),
            "{damage}"
        );
        assert_eq!(resumed, full_summary, "{damage}");
    }
}

#[test]
fn resume_skips_done_samples_and_refuses_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    block_on(run(
        rooms(false),
        settings(&out, 2),
        units(10),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    let rows: Vec<LedgerRow> = Ledger::open(&out, &settings(&out, 2).fingerprint("rule"))
        .unwrap()
        .rows()
        .unwrap();
    assert_eq!(rows.len(), 9);
    // A second run over the same input does no work and changes nothing.
    let before = std::fs::read(&out).unwrap();
    let plugins = Arc::new(FakePlugins::standard());
    let r = Rooms {
        injectors: plugins.clone(),
        validators: plugins.clone(),
        templates: Arc::new(FakeTemplates),
        editor: None,
    };
    block_on(run(
        r,
        settings(&out, 2),
        units(10),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    assert_eq!(
        plugins
            .rule_calls
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let mut other = settings(&out, 2);
    other.seed = 8;
    let err = block_on(run(
        rooms(false),
        other,
        units(10),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
    // A changed input is refused too.
    let mut changed = units(10);
    changed[1].id = "other#0".into();
    let err = block_on(run(
        rooms(false),
        settings(&out, 2),
        changed,
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("input changed"), "{err}");
}

#[test]
fn category_selection_skips_and_model_mode_records_template_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let mut s = settings(&out, 2);
    s.categories = Some(BTreeSet::from([Category::Counting]));
    s.categorise = CategoriseSettings {
        trust_hint: true,
        ..Default::default()
    };
    let summary = block_on(run(
        rooms(true),
        s,
        units(7),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    assert_eq!(summary.editor, "fake-model");
    assert_eq!(summary.skips["category_not_selected"], 2);
    assert_eq!(summary.failures["refused"], 3);
    let recs = records(&out);
    assert_eq!(recs[0].chosen, "There are three dogs.");
    assert_eq!(recs[0].rejected, "There are three cats.");
    assert_eq!(recs[0].template_sha256.as_deref(), Some("sha-counting"));
    assert_eq!(recs[0].editor.as_deref(), Some("fake-model"));
}

#[test]
fn a_dead_editor_stops_the_run_without_marking_samples_done() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let plugins = Arc::new(FakePlugins::standard());
    let dead = Rooms {
        injectors: plugins.clone(),
        validators: plugins.clone(),
        templates: Arc::new(FakeTemplates),
        editor: Some(Arc::new(FakeEditor {
            fail: true,
            ..Default::default()
        })),
    };
    let err = block_on(run(
        dead,
        settings(&out, 2),
        units(20),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("last 5 samples all failed on the editor"),
        "{err}"
    );
    let fp = settings(&out, 2).fingerprint("fake-model");
    assert_eq!(Ledger::open(&out, &fp).unwrap().rows().unwrap().len(), 0);
    // The endpoint is back: the same command does every sample.
    let s = block_on(run(
        rooms(true),
        settings(&out, 2),
        units(20),
        InputCounts::default(),
        &mut NoProgress,
    ))
    .unwrap();
    assert_eq!(s.failures.get("editor_error"), None);
    assert_eq!(s.written + s.failed, s.eligible);
}
