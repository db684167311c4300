//! A generation run: Stage 1 over all units, then Stages 2 and 3 concurrently, written
//! back strictly in input order so that an interrupted + resumed run produces the same
//! file as an uninterrupted one, record for record.
//!
//! Up to `concurrency` samples are in flight; the writer always waits for the oldest one,
//! so memory stays bounded and the order never depends on timing. Each finished sample is
//! appended to the output (one JSON line) and then committed to the ledger.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use vapr_core::{Category, PreferenceRecord, QaUnit};
use vapr_text::{levenshtein_words, token_count};

use crate::categorise::{self, CategoriseSettings, Categorised};
use crate::edit::{EditMode, EditSettings, Stage3};
use crate::error::PipelineError;
use crate::filter;
use crate::ledger::{Ledger, LedgerRow};
use crate::ports::{EditSample, EditorClient, Injectors, Templates, Validators};
use crate::seed::sample_seed;
use crate::summary::Summary;

/// The rooms a run talks to.
#[derive(Clone)]
pub struct Rooms {
    pub injectors: Arc<dyn Injectors>,
    pub validators: Arc<dyn Validators>,
    pub templates: Arc<dyn Templates>,
    /// `None` = the plugins' rule mode.
    pub editor: Option<Arc<dyn EditorClient>>,
}

/// Where a test crash is simulated (see [`CrashHook`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPhase {
    /// After the ledger commit of the n-th sample.
    Committed,
    /// After the n-th sample's line is written, before its ledger commit.
    Written,
    /// Halfway through writing the n-th sample's line.
    Partial,
}

/// Test hook: abort the process at a chosen point after `after` samples of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashHook {
    pub after: u64,
    pub phase: CrashPhase,
}

impl CrashHook {
    /// Parses `N`, `N:committed`, `N:written` or `N:partial`.
    pub fn parse(text: &str) -> Option<CrashHook> {
        let (n, phase) = text.split_once(':').unwrap_or((text, "committed"));
        let phase = match phase {
            "committed" => CrashPhase::Committed,
            "written" => CrashPhase::Written,
            "partial" => CrashPhase::Partial,
            _ => return None,
        };
        Some(CrashHook {
            after: n.trim().parse().ok()?,
            phase,
        })
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub output: PathBuf,
    /// Input paths as given (part of the resume fingerprint).
    pub inputs: Vec<String>,
    pub seed: u64,
    /// Samples in flight at once.
    pub concurrency: usize,
    /// Process at most this many Stage-1 survivors.
    pub limit: Option<u64>,
    /// Only these categories are edited; the rest are counted as skipped.
    pub categories: Option<BTreeSet<Category>>,
    pub categorise: CategoriseSettings,
    pub edit: EditSettings,
    pub crash_hook: Option<CrashHook>,
    /// Stop the run after this many samples in a row failed on the editor (endpoint down,
    /// key revoked, quota spent). Those samples are left uncommitted, so re-running the
    /// same command retries them; 0 = never stop.
    pub max_consecutive_editor_errors: u64,
}

impl RunSettings {
    /// Everything that changes what a sample becomes; a resume must match it.
    /// Concurrency and the limit are left out: they never change a record.
    pub fn fingerprint(&self, editor: &str) -> String {
        let cats = self.categories.as_ref().map_or("all".to_string(), |c| {
            c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",")
        });
        format!(
            "inputs={} seed={} editor={editor} retries={} categories={cats} classifier={} trust_hint={} min_fit={} penalty={:?}",
            self.inputs.join(","),
            self.seed,
            self.edit.max_retries,
            if self.categorise.use_llm {
                "llm"
            } else {
                "fit"
            },
            self.categorise.trust_hint,
            self.categorise.min_fit,
            self.edit.penalty,
        )
    }
}

/// Receives progress events (the CLI draws a bar).
pub trait Progress: Send {
    /// `total` samples to process, `done` of them finished by an earlier run.
    fn start(&mut self, total: u64, done: u64);
    /// One more sample finished: `written`, `failed` or `skipped`.
    fn finished(&mut self, status: &str);
}

/// No progress output.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: u64, _: u64) {}
    fn finished(&mut self, _: &str) {}
}

/// Counts from reading the inputs, for the summary.
#[derive(Debug, Clone, Default)]
pub struct InputCounts {
    pub units_read: u64,
    /// Problems the readers reported and skipped, by kind.
    pub errors: BTreeMap<String, u64>,
    /// Where the first problems are (`file:line: reason: detail`).
    pub issues: Vec<String>,
}

/// The paths written next to the output.
pub fn summary_path(output: &Path) -> PathBuf {
    sibling(output, ".summary.json")
}

/// One line per failed sample: id, category, reason, detail, attempts.
pub fn failures_path(output: &Path) -> PathBuf {
    sibling(output, ".failures.jsonl")
}

fn sibling(output: &Path, suffix: &str) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    output.with_file_name(name)
}

/// What became of one sample.
enum Outcome {
    Written {
        record: Box<PreferenceRecord>,
        row: LedgerRow,
    },
    Other(LedgerRow),
}

/// Runs (or resumes) generation over `units` and returns the whole run's summary.
pub async fn run(
    rooms: Rooms,
    settings: RunSettings,
    units: Vec<QaUnit>,
    input: InputCounts,
    progress: &mut dyn Progress,
) -> Result<Summary, PipelineError> {
    let editor_name = rooms
        .editor
        .as_ref()
        .map_or("rule".to_string(), |e| e.model());
    let mut summary = Summary {
        editor: editor_name.clone(),
        units_read: input.units_read,
        input_errors: input.errors,
        input_issues: input.issues,
        ..Default::default()
    };

    // Stage 1 is cheap and deterministic: redone on every start, never in the ledger.
    let mut eligible = Vec::new();
    for unit in units {
        match filter::check(&unit) {
            Ok(()) => eligible.push(unit),
            Err(reason) => *summary.dropped.entry(reason.as_str().into()).or_default() += 1,
        }
    }
    if let Some(limit) = settings.limit {
        eligible.truncate(limit.min(usize::MAX as u64) as usize);
    }
    summary.eligible = eligible.len() as u64;

    let output = settings.output.clone();
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| PipelineError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    let mut ledger = Ledger::open(&output, &settings.fingerprint(&editor_name))?;
    let done = ledger.reconcile(&output)?;
    for (seq, id) in ledger.ids()?.into_iter().enumerate() {
        match eligible.get(seq) {
            Some(unit) if unit.id == id => {}
            Some(unit) => {
                return Err(PipelineError::InputChanged {
                    seq: seq as u64,
                    ledger: id,
                    input: unit.id.clone(),
                });
            }
            // A smaller --limit than before: the extra rows stay.
            None => break,
        }
    }
    if done > 0 {
        tracing::info!(
            "resuming {}: {done} sample(s) already done",
            output.display()
        );
    }
    let total = eligible.len() as u64;
    progress.start(total, done.min(total));

    let io = |e: std::io::Error| PipelineError::Io {
        path: output.clone(),
        source: e,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&output)
        .map_err(io)?;
    let mut offset = file.metadata().map_err(io)?.len();

    let shared = Arc::new(Shared {
        rooms,
        settings: settings.clone(),
    });
    let mut queue = eligible.into_iter().enumerate().skip(done as usize);
    let mut in_flight = VecDeque::new();
    let window = settings.concurrency.max(1);
    let mut finished_here = 0u64;
    let mut held: Vec<LedgerRow> = Vec::new();
    loop {
        while in_flight.len() < window {
            let Some((seq, unit)) = queue.next() else {
                break;
            };
            let shared = shared.clone();
            in_flight.push_back(tokio::spawn(async move {
                shared.process(seq as u64, unit).await
            }));
        }
        let Some(task) = in_flight.pop_front() else {
            break;
        };
        let outcome = task
            .await
            .map_err(|e| PipelineError::Setup(format!("sample task panicked: {e}")))?;
        finished_here += 1;
        let crash = settings.crash_hook.filter(|h| h.after == finished_here);
        let row = match outcome {
            Outcome::Written { record, mut row } => {
                let mut line = serde_json::to_string(&record).expect("records serialise");
                line.push('\n');
                if crash.is_some_and(|h| h.phase == CrashPhase::Partial) {
                    file.write_all(&line.as_bytes()[..line.len() / 2])
                        .map_err(io)?;
                    std::process::abort();
                }
                file.write_all(line.as_bytes()).map_err(io)?;
                offset += line.len() as u64;
                if crash.is_some_and(|h| h.phase == CrashPhase::Written) {
                    std::process::abort();
                }
                row.offset_end = offset;
                row
            }
            Outcome::Other(mut row) => {
                row.offset_end = offset;
                row
            }
        };
        // Editor failures are held back while they come in a row: if the endpoint is
        // down they are not committed (a re-run retries them); if the editor recovers they
        // were isolated failures and are committed as such.
        if row.reason.as_deref() == Some("editor_error") && crash.is_none() {
            held.push(row);
            let limit = settings.max_consecutive_editor_errors;
            if limit > 0 && held.len() as u64 >= limit {
                return Err(PipelineError::EditorDown {
                    count: held.len() as u64,
                    last: held
                        .last()
                        .and_then(|r| r.detail.clone())
                        .unwrap_or_default(),
                });
            }
            continue;
        }
        for earlier in held.drain(..) {
            ledger.record(&earlier)?;
            progress.finished(&earlier.status);
        }
        ledger.record(&row)?;
        progress.finished(&row.status);
        if crash.is_some() {
            std::process::abort();
        }
    }
    for row in held.drain(..) {
        ledger.record(&row)?;
        progress.finished(&row.status);
    }
    file.sync_data().map_err(io)?;

    let rows = ledger.rows()?;
    write_failures(&output, &rows)?;
    summary.add_rows(&rows);
    let json = serde_json::to_string_pretty(&summary).expect("summary serialises");
    let path = summary_path(&output);
    std::fs::write(&path, json + "\n").map_err(|e| PipelineError::Io { path, source: e })?;
    Ok(summary)
}

/// Rewrites `OUT.failures.jsonl` from the ledger (so it is complete after a resume).
fn write_failures(output: &Path, rows: &[LedgerRow]) -> Result<(), PipelineError> {
    let mut text = String::new();
    for row in rows.iter().filter(|r| r.status == "failed") {
        let line = json!({
            "id": row.id,
            "category": row.category,
            "reason": row.reason,
            "detail": row.detail,
            "attempts": row.attempts,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let path = failures_path(output);
    std::fs::write(&path, text).map_err(|e| PipelineError::Io { path, source: e })
}

/// What every sample task needs.
struct Shared {
    rooms: Rooms,
    settings: RunSettings,
}

impl Shared {
    /// Stages 2 and 3 for one sample.
    async fn process(&self, seq: u64, unit: QaUnit) -> Outcome {
        let seed = sample_seed(self.settings.seed, &unit.id);
        let sample = EditSample {
            id: unit.id.clone(),
            question: unit.question.clone(),
            answer: unit.answer.clone(),
            category: unit.category_hint,
            feedback: None,
            penalty: Vec::new(),
        };
        let row = |status: &str, category: Option<Category>| LedgerRow {
            seq,
            id: unit.id.clone(),
            status: status.into(),
            category: category.map(|c| c.as_str().to_string()),
            reason: None,
            detail: None,
            offset_end: 0,
            token_gap: None,
            levenshtein: None,
            attempts: 0,
            decided_by: None,
        };
        let rooms = &self.rooms;
        let categorised = match (&rooms.editor, self.settings.categorise.use_llm) {
            (Some(editor), true) => {
                categorise::categorise_by_llm(
                    rooms.injectors.as_ref(),
                    rooms.templates.as_ref(),
                    editor.as_ref(),
                    &sample,
                    &self.settings.categorise,
                )
                .await
            }
            _ => categorise::categorise_by_fit(
                rooms.injectors.as_ref(),
                &sample,
                &self.settings.categorise,
            ),
        };
        let Categorised {
            category,
            plugin,
            decided_by,
        } = match categorised {
            Ok(c) => c,
            Err(e) => {
                let mut r = row("failed", sample.category);
                r.reason = Some(e.reason_key().into());
                r.detail = Some(e.to_string());
                return Outcome::Other(r);
            }
        };
        if self
            .settings
            .categories
            .as_ref()
            .is_some_and(|set| !set.contains(&category))
        {
            let mut r = row("skipped", Some(category));
            r.reason = Some("category_not_selected".into());
            r.decided_by = Some(decided_by);
            return Outcome::Other(r);
        }
        let stage3 = Stage3 {
            injectors: rooms.injectors.as_ref(),
            validators: rooms.validators.as_ref(),
            templates: rooms.templates.as_ref(),
            mode: match &rooms.editor {
                Some(editor) => EditMode::Model(editor.as_ref()),
                None => EditMode::Rule,
            },
            settings: &self.settings.edit,
        };
        let sample = EditSample {
            category: Some(category),
            ..sample
        };
        match stage3.run(sample, &plugin, seed).await {
            Ok(edited) => {
                let mut r = row("written", Some(category));
                r.token_gap =
                    Some(token_count(&unit.answer).abs_diff(token_count(&edited.rejected)) as u64);
                r.levenshtein = Some(levenshtein_words(&unit.answer, &edited.rejected) as u64);
                r.attempts = edited.attempts;
                r.decided_by = Some(decided_by.clone());
                let mut record = PreferenceRecord::new(
                    unit.id,
                    unit.image,
                    unit.question,
                    unit.answer,
                    edited.rejected,
                );
                record.category = Some(category);
                record.source = Some(unit.source);
                record.editor = Some(
                    rooms
                        .editor
                        .as_ref()
                        .map_or("rule".to_string(), |e| e.model()),
                );
                record.plugin = Some(plugin);
                record.plugin_version = Some(edited.plugin_version);
                record.template_sha256 = edited.template_sha256;
                for (id, (version, v)) in edited.verdicts {
                    record.validator.insert(
                        id,
                        json!({ "pass": v.pass, "score": v.score, "reasons": v.reasons, "version": version }),
                    );
                }
                record
                    .extra
                    .insert("category_decided_by".into(), json!(decided_by));
                record
                    .extra
                    .insert("attempts".into(), json!(edited.attempts));
                Outcome::Written {
                    record: Box::new(record),
                    row: r,
                }
            }
            Err(failure) => {
                let mut r = row("failed", Some(category));
                r.reason = Some(failure.reason);
                r.detail = Some(failure.detail);
                r.attempts = failure.attempts;
                r.decided_by = Some(decided_by);
                Outcome::Other(r)
            }
        }
    }
}
