//! Stage 2: assign each unit one of the ten categories and the injector that edits it.
//!
//! Order of precedence:
//! 1. a category hint from the source (the synthetic world knows its question types), when
//!    `trust_hint` is on — it is ground truth, not a guess;
//! 2. the LLM classifier, when enabled (its reply must name one of the ten categories;
//!    otherwise the fit scores decide and the record says so);
//! 3. the injector plugins' fit scores: highest wins; ties go to the category that comes
//!    first in the paper's order, then to the smaller plugin id, so the result never
//!    depends on load order.
//!
//! The decision is recorded as `hint`, `llm:<model>` or `fit:<plugin>=<score>`.

use std::cmp::Ordering;

use vapr_core::Category;

use crate::ports::{EditSample, EditorClient, EditorRequest, InjectorInfo, Injectors, Templates};

/// The name of the classifier template (`configs/prompts/classify.txt`).
pub const CLASSIFY_TEMPLATE: &str = "classify";

/// The outcome of Stage 2 for one unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Categorised {
    pub category: Category,
    /// The injector plugin that will edit the unit.
    pub plugin: String,
    /// How the category was decided: `hint`, `llm:<model>`, `fit:<plugin>=<score>`.
    pub decided_by: String,
}

/// Why a unit could not be categorised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CategoriseError {
    #[error("no injector plugin targets category `{0}`")]
    NoInjector(Category),
    #[error("no injector plugin fits the sample (best fit {best:.2} < minimum {min:.2})")]
    NoFit { best: f64, min: f64 },
    #[error("no injector plugins are loaded")]
    NoPlugins,
    #[error("fit call failed on plugin `{plugin}`: {message}")]
    Plugin { plugin: String, message: String },
}

impl CategoriseError {
    /// The key used in summaries.
    pub fn reason_key(&self) -> &'static str {
        match self {
            CategoriseError::NoInjector(_) => "no_injector",
            CategoriseError::NoFit { .. } | CategoriseError::NoPlugins => "uncategorised",
            CategoriseError::Plugin { .. } => "plugin_error",
        }
    }
}

/// Stage 2 settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoriseSettings {
    /// Use the source's category hint when present.
    pub trust_hint: bool,
    /// A winning fit score must be at least this.
    pub min_fit: f64,
    /// Ask the editor LLM instead of using fit scores.
    pub use_llm: bool,
}

impl Default for CategoriseSettings {
    fn default() -> Self {
        CategoriseSettings {
            trust_hint: true,
            min_fit: 0.05,
            use_llm: false,
        }
    }
}

/// The injector for a known category: the first one (by id) that targets it.
pub fn injector_for(injectors: &[InjectorInfo], category: Category) -> Option<&InjectorInfo> {
    injectors
        .iter()
        .filter(|i| i.categories.contains(&category))
        .min_by(|a, b| a.id.cmp(&b.id))
}

/// Stage 2 by hint and fit scores (no LLM).
pub fn categorise_by_fit(
    injectors: &dyn Injectors,
    sample: &EditSample,
    settings: &CategoriseSettings,
) -> Result<Categorised, CategoriseError> {
    let list = injectors.list();
    if settings.trust_hint
        && let Some(hint) = sample.category
    {
        let plugin = injector_for(&list, hint).ok_or(CategoriseError::NoInjector(hint))?;
        return Ok(Categorised {
            category: hint,
            plugin: plugin.id.clone(),
            decided_by: "hint".into(),
        });
    }
    best_fit(injectors, &list, sample, settings.min_fit)
}

/// The highest-scoring injector, with the stable tie-break described in the module docs.
fn best_fit(
    injectors: &dyn Injectors,
    list: &[InjectorInfo],
    sample: &EditSample,
    min_fit: f64,
) -> Result<Categorised, CategoriseError> {
    let mut best: Option<(f64, Category, &InjectorInfo)> = None;
    for info in list {
        let Some(category) = info.categories.iter().copied().min() else {
            continue;
        };
        let score = injectors
            .fit(&info.id, sample)
            .map_err(|e| CategoriseError::Plugin {
                plugin: info.id.clone(),
                message: e.0,
            })?;
        let score = if score.is_finite() {
            score.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let better = match &best {
            None => true,
            Some((s, c, i)) => match score.partial_cmp(s).unwrap_or(Ordering::Equal) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => (category, &info.id) < (*c, &i.id),
            },
        };
        if better {
            best = Some((score, category, info));
        }
    }
    let (score, category, info) = best.ok_or(CategoriseError::NoPlugins)?;
    if score < min_fit {
        return Err(CategoriseError::NoFit {
            best: score,
            min: min_fit,
        });
    }
    Ok(Categorised {
        category,
        plugin: info.id.clone(),
        decided_by: format!("fit:{}={score:.2}", info.id),
    })
}

/// Stage 2 with the LLM classifier; falls back to fit scores when the classifier
/// template is missing, the call fails or the reply names no category.
pub async fn categorise_by_llm(
    injectors: &dyn Injectors,
    templates: &dyn Templates,
    editor: &dyn EditorClient,
    sample: &EditSample,
    settings: &CategoriseSettings,
) -> Result<Categorised, CategoriseError> {
    if settings.trust_hint && sample.category.is_some() {
        return categorise_by_fit(injectors, sample, settings);
    }
    let list = injectors.list();
    let fallback = |why: &str| {
        tracing::debug!(id = %sample.id, "LLM classifier fell back to fit scores: {why}");
        best_fit(injectors, &list, sample, settings.min_fit).map(|mut c| {
            c.decided_by = format!("{} (llm fallback: {why})", c.decided_by);
            c
        })
    };
    let Some(template) = templates.get(CLASSIFY_TEMPLATE) else {
        return fallback("no classify template");
    };
    let request = EditorRequest {
        system: None,
        user: render_classify(&template.text, sample),
        attempt: 0,
    };
    let reply = match editor.complete(&request).await {
        Ok(reply) => reply,
        Err(e) => return fallback(&format!("editor error: {e}")),
    };
    let Some(category) = parse_category(&reply) else {
        return fallback("reply names no category");
    };
    let plugin = injector_for(&list, category).ok_or(CategoriseError::NoInjector(category))?;
    Ok(Categorised {
        category,
        plugin: plugin.id.clone(),
        decided_by: format!("llm:{}", editor.model()),
    })
}

/// Fills `{question}`, `{answer}` and `{categories}` in the classifier template.
pub fn render_classify(template: &str, sample: &EditSample) -> String {
    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    template
        .replace("{question}", &sample.question)
        .replace("{answer}", &sample.answer)
        .replace("{categories}", &names.join(", "))
}

/// The first of the ten category names that appears as a word in `reply`.
pub fn parse_category(reply: &str) -> Option<Category> {
    let lower = reply.to_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .find_map(|w| match w {
            "colour" => Some(Category::Color),
            other => other.parse().ok(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::FakePlugins;

    fn sample(question: &str, answer: &str) -> EditSample {
        EditSample {
            id: "s#0".into(),
            question: question.into(),
            answer: answer.into(),
            category: None,
            feedback: None,
            penalty: vec![],
        }
    }

    #[test]
    fn highest_fit_wins_and_is_recorded() {
        let plugins = FakePlugins::standard();
        let c = categorise_by_fit(
            &plugins,
            &sample("How many dogs?", "Three dogs."),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(c.category, Category::Counting);
        assert_eq!(c.plugin, "counting");
        assert_eq!(c.decided_by, "fit:counting=0.90");
    }

    #[test]
    fn ties_break_by_category_order_not_load_order() {
        // Every fake scores 0.5 on a neutral sample: counting comes first in the paper's order.
        let mut plugins = FakePlugins::standard();
        plugins.reverse_order();
        let c = categorise_by_fit(&plugins, &sample("Hm?", "Hm."), &Default::default()).unwrap();
        assert_eq!(c.category, Category::Counting);
        assert_eq!(c.decided_by, "fit:counting=0.50");
    }

    #[test]
    fn trusted_hint_beats_fit_and_untrusted_hint_is_ignored() {
        let plugins = FakePlugins::standard();
        let mut s = sample("How many dogs?", "Three dogs.");
        s.category = Some(Category::Color);
        let c = categorise_by_fit(&plugins, &s, &Default::default()).unwrap();
        assert_eq!(
            (c.category, c.decided_by.as_str()),
            (Category::Color, "hint")
        );
        let settings = CategoriseSettings {
            trust_hint: false,
            ..Default::default()
        };
        let c = categorise_by_fit(&plugins, &s, &settings).unwrap();
        assert_eq!(c.category, Category::Counting);
    }

    #[test]
    fn low_fit_is_an_error_with_a_reason() {
        let plugins = FakePlugins::standard();
        let settings = CategoriseSettings {
            min_fit: 0.95,
            ..Default::default()
        };
        let err = categorise_by_fit(&plugins, &sample("How many?", "Two."), &settings).unwrap_err();
        assert_eq!(err.reason_key(), "uncategorised");
        assert!(err.to_string().contains("0.90"), "{err}");
    }

    #[test]
    fn parses_category_from_messy_replies() {
        assert_eq!(
            parse_category("Category: **Counting**."),
            Some(Category::Counting)
        );
        assert_eq!(
            parse_category("I think it's colour."),
            Some(Category::Color)
        );
        assert_eq!(parse_category("\"spatial\""), Some(Category::Spatial));
        assert_eq!(parse_category("no idea"), None);
    }

    #[test]
    fn classify_template_placeholders_are_filled() {
        let out = render_classify(
            "Q: {question}\nA: {answer}\nOne of: {categories}",
            &sample("Why?", "Because."),
        );
        assert!(out.starts_with("Q: Why?\nA: Because.\nOne of: counting, spatial"));
        assert!(out.ends_with("reasoning"));
    }

    /// Replies with a fixed text; a classifier template is served.
    struct Scripted(&'static str);

    impl EditorClient for Scripted {
        fn model(&self) -> String {
            "judge".into()
        }
        fn complete<'a>(
            &'a self,
            request: &'a EditorRequest,
        ) -> crate::ports::BoxFuture<'a, Result<String, crate::ports::PortError>> {
            assert!(
                request.user.contains("Q: How many dogs?"),
                "{}",
                request.user
            );
            Box::pin(async move { Ok(self.0.to_string()) })
        }
    }

    struct ClassifyTemplate;

    impl Templates for ClassifyTemplate {
        fn get(&self, name: &str) -> Option<crate::ports::Template> {
            (name == CLASSIFY_TEMPLATE).then(|| crate::ports::Template {
                text: "Q: {question}".into(),
                sha256: "x".into(),
            })
        }
    }

    fn llm(reply: &'static str, templates: &dyn Templates) -> Categorised {
        let plugins = FakePlugins::standard();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(categorise_by_llm(
            &plugins,
            templates,
            &Scripted(reply),
            &sample("How many dogs?", "Three dogs."),
            &CategoriseSettings {
                use_llm: true,
                ..Default::default()
            },
        ))
        .unwrap()
    }

    #[test]
    fn llm_classifier_decides_and_falls_back_to_fit_with_a_reason() {
        let c = llm("Category: Color", &ClassifyTemplate);
        assert_eq!(
            (c.category, c.plugin.as_str(), c.decided_by.as_str()),
            (Category::Color, "color", "llm:judge")
        );
        let c = llm("I cannot tell.", &ClassifyTemplate);
        assert_eq!(c.category, Category::Counting);
        assert_eq!(
            c.decided_by,
            "fit:counting=0.90 (llm fallback: reply names no category)"
        );
        let c = llm("color", &crate::testkit::FakeTemplates);
        assert_eq!(
            c.decided_by,
            "fit:counting=0.90 (llm fallback: no classify template)"
        );
    }
}
