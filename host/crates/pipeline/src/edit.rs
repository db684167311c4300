//! Stage 3: edit the correct answer with the category's injector, judge the pair with
//! every validator, retry with the rejection reason as feedback, give up with a reason.

use std::collections::BTreeMap;

use vapr_core::Category;

use crate::ports::{
    Edit, EditSample, EditorClient, EditorRequest, Injectors, Templates, Validators, Verdict,
};
use crate::seed::attempt_seed;

/// How rejected answers are produced.
#[derive(Clone, Copy)]
pub enum EditMode<'a> {
    /// The plugin's deterministic rule mode (offline).
    Rule,
    /// Template → plugin prompt → editor LLM → plugin parse.
    Model(&'a dyn EditorClient),
}

/// Stage 3 settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EditSettings {
    /// Extra attempts after a failed validation or a refused edit.
    pub max_retries: u32,
    /// Banned substitutes per category, passed to the plugin with the sample.
    pub penalty: BTreeMap<Category, Vec<String>>,
}

/// A validated rejected answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Edited {
    pub rejected: String,
    pub plugin_version: String,
    /// Hash of the template the prompt came from (model mode only).
    pub template_sha256: Option<String>,
    /// Validator id -> (version, verdict).
    pub verdicts: BTreeMap<String, (String, Verdict)>,
    /// Attempts used (1 = first try).
    pub attempts: u32,
}

/// Why Stage 3 gave up on a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct EditFailure {
    /// Summary key: `validation:<validator>`, `refused`, `editor_error`, `plugin_error`,
    /// `no_template`.
    pub reason: String,
    /// Human-readable detail (validator reasons, error text).
    pub detail: String,
    pub attempts: u32,
}

/// The rooms Stage 3 talks to.
#[derive(Clone, Copy)]
pub struct Stage3<'a> {
    pub injectors: &'a dyn Injectors,
    pub validators: &'a dyn Validators,
    pub templates: &'a dyn Templates,
    pub mode: EditMode<'a>,
    pub settings: &'a EditSettings,
}

impl Stage3<'_> {
    /// Edits `sample` with `plugin` until every validator passes or the retries run out.
    pub async fn run(
        &self,
        mut sample: EditSample,
        plugin: &str,
        seed: u64,
    ) -> Result<Edited, EditFailure> {
        let category = sample
            .category
            .expect("Stage 3 runs on categorised samples");
        sample.penalty = self
            .settings
            .penalty
            .get(&category)
            .cloned()
            .unwrap_or_default();
        let mut last = None;
        for attempt in 0..=self.settings.max_retries {
            let attempts = attempt + 1;
            let fail = |reason: &str, detail: String| EditFailure {
                reason: reason.into(),
                detail,
                attempts,
            };
            let (edit, template_sha256) =
                match self.produce(&sample, category, plugin, seed, attempt).await {
                    Ok(ok) => ok,
                    // Infrastructure failures are not the sample's fault and would
                    // repeat: give up at once.
                    Err((reason, detail)) => return Err(fail(reason, detail)),
                };
            let (rejected, plugin_version) = match edit {
                Edit::Rejected {
                    text,
                    plugin_version,
                } => (text, plugin_version),
                // A rule-mode refusal is about the sample (nothing to edit), not the seed:
                // another try would refuse again.
                Edit::Refused { reason } if matches!(self.mode, EditMode::Rule) => {
                    return Err(fail("refused", reason));
                }
                Edit::Refused { reason } => {
                    sample.feedback = Some(format!("the previous edit was refused: {reason}"));
                    last = Some(fail("refused", reason));
                    continue;
                }
            };
            let verdicts = self
                .judge(&sample, &rejected)
                .map_err(|(r, d)| fail(r, d))?;
            let failed: Vec<(&String, &Verdict)> = verdicts
                .iter()
                .filter(|(_, (_, v))| !v.pass)
                .map(|(id, (_, v))| (id, v))
                .collect();
            if failed.is_empty() {
                return Ok(Edited {
                    rejected,
                    plugin_version,
                    template_sha256,
                    verdicts,
                    attempts,
                });
            }
            let detail = failed
                .iter()
                .map(|(id, v)| format!("{id}: {}", v.reasons.join("; ")))
                .collect::<Vec<_>>()
                .join(" | ");
            tracing::debug!(id = %sample.id, attempt, "validation failed: {detail}");
            sample.feedback = Some(format!(
                "the previous edit `{rejected}` was rejected: {detail}"
            ));
            last = Some(fail(&format!("validation:{}", failed[0].0), detail));
        }
        Err(last.expect("at least one attempt ran"))
    }

    /// One edit attempt; `Err((reason, detail))` for failures that retrying cannot fix.
    async fn produce(
        &self,
        sample: &EditSample,
        category: Category,
        plugin: &str,
        sample_seed: u64,
        attempt: u32,
    ) -> Result<(Edit, Option<String>), (&'static str, String)> {
        let seed = attempt_seed(sample_seed, attempt);
        let plugin_err =
            |e: crate::ports::PortError| ("plugin_error", format!("plugin `{plugin}`: {e}"));
        match self.mode {
            EditMode::Rule => Ok((
                self.injectors
                    .rule_edit(plugin, sample, seed)
                    .map_err(plugin_err)?,
                None,
            )),
            EditMode::Model(editor) => {
                let template = self.templates.get(category.as_str()).ok_or((
                    "no_template",
                    format!(
                        "no prompt template for category `{category}` in the prompts directory"
                    ),
                ))?;
                let prompt = self
                    .injectors
                    .build_prompt(plugin, &template.text, sample)
                    .map_err(plugin_err)?;
                let request = EditorRequest {
                    system: prompt.system,
                    user: prompt.user,
                    attempt,
                };
                let reply = editor
                    .complete(&request)
                    .await
                    .map_err(|e| ("editor_error", format!("editor `{}`: {e}", editor.model())))?;
                let edit = self
                    .injectors
                    .parse_reply(plugin, sample, &reply)
                    .map_err(plugin_err)?;
                Ok((edit, Some(template.sha256)))
            }
        }
    }

    /// Every validator's verdict.
    #[allow(clippy::type_complexity)]
    fn judge(
        &self,
        sample: &EditSample,
        rejected: &str,
    ) -> Result<BTreeMap<String, (String, Verdict)>, (&'static str, String)> {
        let mut out = BTreeMap::new();
        for info in self.validators.list() {
            let verdict = self
                .validators
                .validate(&info.id, sample, rejected)
                .map_err(|e| ("plugin_error", format!("validator `{}`: {e}", info.id)))?;
            out.insert(info.id, (info.version, verdict));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{FakeEditor, FakePlugins, FakeTemplates};

    fn sample(answer: &str, category: Category) -> EditSample {
        EditSample {
            id: "s#0".into(),
            question: "How many dogs are there?".into(),
            answer: answer.into(),
            category: Some(category),
            feedback: None,
            penalty: vec![],
        }
    }

    /// Stage 3 over the fake plugins (as injectors and validators) and fake templates.
    fn stage<'a>(
        plugins: &'a FakePlugins,
        mode: EditMode<'a>,
        settings: &'a EditSettings,
    ) -> Stage3<'a> {
        Stage3 {
            injectors: plugins,
            validators: plugins,
            templates: &FakeTemplates,
            mode,
            settings,
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn rule_edit_passes_validators_on_first_try() {
        let plugins = FakePlugins::standard();
        let settings = EditSettings::default();
        let stage = stage(&plugins, EditMode::Rule, &settings);
        let out = block_on(stage.run(
            sample("There are three dogs.", Category::Counting),
            "counting",
            1,
        ))
        .unwrap();
        assert_eq!(out.attempts, 1);
        assert_ne!(out.rejected, "There are three dogs.");
        assert_eq!(out.plugin_version, "1.0.0");
        assert_eq!(out.template_sha256, None);
        assert!(out.verdicts["length-gap"].1.pass);
    }

    #[test]
    fn failed_validation_is_retried_with_the_reason_as_feedback() {
        // The fake makes a too-long edit until it is given feedback.
        let plugins = FakePlugins::standard();
        let settings = EditSettings {
            max_retries: 2,
            ..Default::default()
        };
        let stage = stage(&plugins, EditMode::Rule, &settings);
        let out = block_on(stage.run(
            sample("LONGFIRST three dogs.", Category::Counting),
            "counting",
            1,
        ))
        .unwrap();
        assert_eq!(out.attempts, 2);
        let seen = plugins.feedback_seen();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].contains("length-gap"), "{seen:?}");
    }

    #[test]
    fn gives_up_after_the_retries_with_the_last_reason() {
        let plugins = FakePlugins::standard();
        let settings = EditSettings {
            max_retries: 1,
            ..Default::default()
        };
        let stage = stage(&plugins, EditMode::Rule, &settings);
        let err = block_on(stage.run(
            sample("ALWAYSLONG dogs.", Category::Counting),
            "counting",
            1,
        ))
        .unwrap_err();
        assert_eq!(err.reason, "validation:length-gap");
        assert_eq!(err.attempts, 2);
        let err = block_on(stage.run(sample("REFUSE dogs.", Category::Counting), "counting", 1))
            .unwrap_err();
        // Rule mode does not retry a refusal: the sample has nothing to edit.
        assert_eq!((err.reason.as_str(), err.attempts), ("refused", 1));
    }

    #[test]
    fn model_mode_retries_an_identical_reply_with_a_fresh_draw() {
        let plugins = FakePlugins::standard();
        // The fake editor only swaps dogs for cats: no dogs, identical reply, refused.
        let editor = FakeEditor::default();
        let settings = EditSettings {
            max_retries: 2,
            ..Default::default()
        };
        let stage = stage(&plugins, EditMode::Model(&editor), &settings);
        let err = block_on(stage.run(sample("Three birds.", Category::Counting), "counting", 1))
            .unwrap_err();
        assert_eq!((err.reason.as_str(), err.attempts), ("refused", 3));
        assert!(err.detail.contains("identical"), "{}", err.detail);
        assert_eq!(editor.prompts().len(), 3);
        assert!(
            editor.prompts()[1].contains("FEEDBACK: the previous edit was refused"),
            "{:?}",
            editor.prompts()
        );
    }

    #[test]
    fn model_mode_uses_template_editor_and_parser() {
        let plugins = FakePlugins::standard();
        let editor = FakeEditor::default();
        let settings = EditSettings::default();
        let stage = stage(&plugins, EditMode::Model(&editor), &settings);
        let out = block_on(stage.run(
            sample("There are three dogs.", Category::Counting),
            "counting",
            1,
        ))
        .unwrap();
        assert_eq!(out.rejected, "There are three cats.");
        assert_eq!(out.template_sha256.as_deref(), Some("sha-counting"));
        let prompts = editor.prompts();
        assert_eq!(prompts.len(), 1);
        assert!(
            prompts[0].starts_with("[counting template] There are three dogs."),
            "{prompts:?}"
        );
    }

    #[test]
    fn editor_errors_are_not_retried() {
        let plugins = FakePlugins::standard();
        let editor = FakeEditor {
            fail: true,
            ..Default::default()
        };
        let settings = EditSettings {
            max_retries: 3,
            ..Default::default()
        };
        let stage = stage(&plugins, EditMode::Model(&editor), &settings);
        let err = block_on(stage.run(sample("Three dogs.", Category::Counting), "counting", 1))
            .unwrap_err();
        assert_eq!((err.reason.as_str(), err.attempts), ("editor_error", 1));
        assert_eq!(editor.prompts().len(), 1);
    }
}
