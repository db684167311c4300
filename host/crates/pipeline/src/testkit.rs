//! In-process fakes of the plugin runtime, templates and editor for the stage tests.
//!
//! Trigger words in the answer script the fake injector: `REFUSE` (always refuses),
//! `ALWAYSLONG` (always a too-long edit), `LONGFIRST` (too long until feedback arrives),
//! `TRAP` (the plugin call fails).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use vapr_core::Category;
use vapr_text::{SeededRng, token_count};

use crate::ports::*;

/// Ten injectors named after their categories plus two validators (`length-gap`, `no-op`).
pub struct FakePlugins {
    injectors: Vec<InjectorInfo>,
    feedback: Mutex<Vec<String>>,
    pub rule_calls: AtomicUsize,
}

impl FakePlugins {
    pub fn standard() -> Self {
        let injectors = Category::ALL
            .iter()
            .map(|c| InjectorInfo {
                id: c.as_str().into(),
                version: "1.0.0".into(),
                categories: vec![*c],
            })
            .collect();
        FakePlugins {
            injectors,
            feedback: Mutex::new(vec![]),
            rule_calls: AtomicUsize::new(0),
        }
    }

    pub fn reverse_order(&mut self) {
        self.injectors.reverse();
    }

    /// Every feedback text a rule edit was given.
    pub fn feedback_seen(&self) -> Vec<String> {
        self.feedback.lock().unwrap().clone()
    }
}

const NUMBERS: [&str; 6] = ["two", "three", "four", "five", "six", "seven"];

/// Replaces the first number word (or else the last word) with a seeded alternative.
fn fake_edit(answer: &str, seed: u64) -> String {
    let mut rng = SeededRng::new(seed);
    let words: Vec<&str> = answer.split(' ').collect();
    let pos = words
        .iter()
        .position(|w| NUMBERS.contains(&w.trim_matches('.').to_lowercase().as_str()))
        .unwrap_or(words.len() - 1);
    let old = words[pos].trim_end_matches('.');
    let choices: Vec<&str> = NUMBERS
        .iter()
        .copied()
        .filter(|n| *n != old.to_lowercase())
        .collect();
    let new = if NUMBERS.contains(&old.to_lowercase().as_str()) {
        rng.choose(&choices).unwrap().to_string()
    } else {
        format!("{old}x{}", rng.below(10))
    };
    let mut out: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    out[pos] = words[pos].replacen(old, &new, 1);
    out.join(" ")
}

impl Injectors for FakePlugins {
    fn list(&self) -> Vec<InjectorInfo> {
        self.injectors.clone()
    }

    fn fit(&self, plugin: &str, sample: &EditSample) -> Result<f64, PortError> {
        let q = sample.question.to_lowercase();
        Ok(match plugin {
            "counting" if q.contains("how many") => 0.9,
            "color" if q.contains("color") || q.contains("colour") => 0.9,
            "existence" if q.starts_with("is there") => 0.8,
            _ => 0.5,
        })
    }

    fn rule_edit(&self, plugin: &str, sample: &EditSample, seed: u64) -> Result<Edit, PortError> {
        self.rule_calls.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = &sample.feedback {
            self.feedback.lock().unwrap().push(f.clone());
        }
        let a = &sample.answer;
        if a.contains("TRAP") {
            return Err(PortError::new(format!(
                "{plugin} trapped: wasm unreachable"
            )));
        }
        if a.contains("REFUSE") {
            return Ok(Edit::Refused {
                reason: "nothing to edit".into(),
            });
        }
        let long =
            a.contains("ALWAYSLONG") || (a.contains("LONGFIRST") && sample.feedback.is_none());
        let mut text = fake_edit(a, seed);
        if long {
            text.push_str(" and a great many additional words that make it far too long");
        }
        Ok(Edit::Rejected {
            text,
            plugin_version: "1.0.0".into(),
        })
    }

    fn build_prompt(
        &self,
        _plugin: &str,
        template: &str,
        sample: &EditSample,
    ) -> Result<BuiltPrompt, PortError> {
        let mut user = format!("{template} {}", sample.answer);
        if let Some(f) = &sample.feedback {
            user.push_str(&format!("\nFEEDBACK: {f}"));
        }
        Ok(BuiltPrompt {
            system: Some("You edit answers.".into()),
            user,
        })
    }

    fn parse_reply(
        &self,
        _plugin: &str,
        sample: &EditSample,
        reply: &str,
    ) -> Result<Edit, PortError> {
        let text = reply.trim().trim_matches('"').to_string();
        if text == sample.answer {
            return Ok(Edit::Refused {
                reason: "reply identical to the input".into(),
            });
        }
        Ok(Edit::Rejected {
            text,
            plugin_version: "1.0.0".into(),
        })
    }
}

impl Validators for FakePlugins {
    fn list(&self) -> Vec<ValidatorInfo> {
        ["length-gap", "no-op"]
            .iter()
            .map(|id| ValidatorInfo {
                id: id.to_string(),
                version: "0.1.0".into(),
            })
            .collect()
    }

    fn validate(
        &self,
        validator: &str,
        sample: &EditSample,
        rejected: &str,
    ) -> Result<Verdict, PortError> {
        Ok(match validator {
            "length-gap" => {
                let gap = token_count(&sample.answer).abs_diff(token_count(rejected));
                Verdict {
                    pass: gap <= 5,
                    score: 1.0 - gap as f64 / 10.0,
                    reasons: if gap <= 5 {
                        vec![]
                    } else {
                        vec![format!("token gap {gap} > 5")]
                    },
                }
            }
            _ => {
                let same = sample.answer == rejected;
                Verdict {
                    pass: !same,
                    score: if same { 0.0 } else { 1.0 },
                    reasons: if same {
                        vec!["unchanged".into()]
                    } else {
                        vec![]
                    },
                }
            }
        })
    }
}

/// `[<name> template]`, hashed as `sha-<name>`; no classifier template.
pub struct FakeTemplates;

impl Templates for FakeTemplates {
    fn get(&self, name: &str) -> Option<Template> {
        (name != "classify").then(|| Template {
            text: format!("[{name} template]").into(),
            sha256: format!("sha-{name}"),
        })
    }
}

/// Answers a prompt `[... template] ANSWER` with ANSWER where `dogs` became `cats`.
#[derive(Default)]
pub struct FakeEditor {
    pub fail: bool,
    pub prompts: Mutex<Vec<String>>,
}

impl FakeEditor {
    pub fn prompts(&self) -> Vec<String> {
        self.prompts.lock().unwrap().clone()
    }
}

impl EditorClient for FakeEditor {
    fn model(&self) -> String {
        "fake-model".into()
    }

    fn complete<'a>(
        &'a self,
        request: &'a EditorRequest,
    ) -> BoxFuture<'a, Result<String, PortError>> {
        Box::pin(async move {
            self.prompts.lock().unwrap().push(request.user.clone());
            if self.fail {
                return Err(PortError::new("HTTP 500 after 3 retries"));
            }
            let answer = request.user.split_once("] ").map_or("", |(_, a)| a);
            let answer = answer.lines().next().unwrap_or("");
            Ok(format!("\"{}\"", answer.replace("dogs", "cats")))
        })
    }
}
