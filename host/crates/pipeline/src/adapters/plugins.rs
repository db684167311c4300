//! [`Injectors`], [`Validators`] and [`Templates`] on `vapr-plugin`'s sandboxed host and
//! hot-reloaded template store.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use vapr_core::Category;
use vapr_plugin::{
    Builder, CallError, GuestError, Limits, PluginHost, PluginKind, Reloader, Sample,
    TemplateStore, discover,
};

use crate::error::PipelineError;
use crate::ports::{
    BuiltPrompt, Edit, EditSample, InjectorInfo, Injectors, PortError, Template, Templates,
    ValidatorInfo, Validators, Verdict,
};

/// How long file events are gathered before a reload.
const RELOAD_DEBOUNCE: Duration = Duration::from_millis(300);

/// The loaded plugins and templates of a run, and (with `watch`) their reload task.
pub struct PluginRooms {
    ports: Arc<PluginPorts>,
    /// Plugin directories searched, in order.
    pub dirs: Vec<PathBuf>,
    _reloader: Option<Reloader>,
}

/// The three ports on one plugin host.
struct PluginPorts {
    host: Arc<PluginHost>,
    templates: Option<Arc<TemplateStore>>,
}

impl PluginRooms {
    /// Loads the plugins of the project (found from the current directory), the user
    /// plugin directory and `extra_dirs`, building stale plugin crates first, and the
    /// templates of `prompts_dir`. With `watch`, plugins and templates hot-reload.
    pub fn open(
        extra_dirs: &[PathBuf],
        prompts_dir: &Path,
        watch: bool,
    ) -> Result<Self, PipelineError> {
        let cwd = std::env::current_dir().map_err(|e| PipelineError::Io {
            path: ".".into(),
            source: e,
        })?;
        let root = discover::find_project_root(&cwd);
        let dirs = discover::default_dirs(root.as_deref(), extra_dirs);
        let host = Arc::new(
            PluginHost::new(Limits::default()).map_err(|e| PipelineError::Setup(e.to_string()))?,
        );
        let report = host.load_dirs(&dirs, Some(&Builder::new()));
        for (path, error) in &report.failed {
            tracing::warn!("plugin {} not loaded: {error}", path.display());
        }
        if host.of_kind(PluginKind::Injector).is_empty() {
            let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
            let failed: Vec<String> = report
                .failed
                .iter()
                .map(|(p, e)| format!("{}: {e}", p.display()))
                .collect();
            return Err(PipelineError::Setup(format!(
                "no injector plugin loaded (searched {}){}",
                searched.join(", "),
                if failed.is_empty() {
                    String::new()
                } else {
                    format!("; failures: {}", failed.join("; "))
                }
            )));
        }
        let prompts = resolve_prompts_dir(prompts_dir, root.as_deref());
        let templates = if prompts.is_dir() {
            Some(Arc::new(
                TemplateStore::load(&prompts).map_err(|e| PipelineError::Setup(e.to_string()))?,
            ))
        } else {
            tracing::warn!(
                "no prompt templates: {} is not a directory",
                prompts.display()
            );
            None
        };
        let reloader = if watch {
            let on_event = |event| tracing::info!("hot reload: {event:?}");
            let r = Reloader::spawn(
                host.clone(),
                templates.clone(),
                dirs.clone(),
                Builder::new(),
                RELOAD_DEBOUNCE,
                on_event,
            )
            .map_err(|e| {
                PipelineError::Setup(format!("cannot watch plugins and templates: {e}"))
            })?;
            Some(r)
        } else {
            None
        };
        Ok(PluginRooms {
            ports: Arc::new(PluginPorts { host, templates }),
            dirs,
            _reloader: reloader,
        })
    }

    pub fn injectors(&self) -> Arc<dyn Injectors> {
        self.ports.clone()
    }

    pub fn validators(&self) -> Arc<dyn Validators> {
        self.ports.clone()
    }

    pub fn templates(&self) -> Arc<dyn Templates> {
        self.ports.clone()
    }
}

/// A relative prompts directory missing under the current directory is looked up under
/// the project root, so `vapr generate` works from any subdirectory.
fn resolve_prompts_dir(dir: &Path, root: Option<&Path>) -> PathBuf {
    match root {
        Some(root) if dir.is_relative() && !dir.is_dir() => root.join(dir),
        _ => dir.to_path_buf(),
    }
}

fn to_sample(s: &EditSample) -> Sample {
    Sample {
        id: s.id.clone(),
        question: s.question.clone(),
        answer: s.answer.clone(),
        category: s.category.map(|c| c.as_str().to_string()),
        params: Vec::new(),
        penalty: s.penalty.clone(),
        feedback: s.feedback.clone(),
    }
}

fn port(e: CallError) -> PortError {
    PortError::new(e.to_string())
}

/// A plugin's refusal or unusable reply is a retryable outcome; anything else (trap,
/// invalid input, internal error) is a plugin failure.
fn edit_result(
    result: Result<vapr_plugin::Called<vapr_plugin::Edit>, CallError>,
) -> Result<Edit, PortError> {
    match result {
        Ok(called) => Ok(Edit::Rejected {
            text: called.value.rejected,
            plugin_version: called.version,
        }),
        Err(e) => match e.guest() {
            Some(GuestError::Refused(why)) => Ok(Edit::Refused {
                reason: format!("refused: {why}"),
            }),
            Some(GuestError::BadReply(why)) => Ok(Edit::Refused {
                reason: format!("bad reply: {why}"),
            }),
            _ => Err(port(e)),
        },
    }
}

impl Injectors for PluginPorts {
    fn list(&self) -> Vec<InjectorInfo> {
        self.host
            .of_kind(PluginKind::Injector)
            .into_iter()
            .map(|info| {
                let categories = info
                    .categories
                    .iter()
                    .filter_map(|c| match c.parse::<Category>() {
                        Ok(c) => Some(c),
                        Err(e) => {
                            tracing::debug!("plugin {}: {e}", info.tag());
                            None
                        }
                    })
                    .collect();
                InjectorInfo {
                    id: info.id,
                    version: info.version,
                    categories,
                }
            })
            .collect()
    }

    fn fit(&self, plugin: &str, sample: &EditSample) -> Result<f64, PortError> {
        self.host
            .fit(plugin, &to_sample(sample))
            .map(|c| f64::from(c.value))
            .map_err(port)
    }

    fn rule_edit(&self, plugin: &str, sample: &EditSample, seed: u64) -> Result<Edit, PortError> {
        edit_result(self.host.rule_edit(plugin, &to_sample(sample), seed))
    }

    fn build_prompt(
        &self,
        plugin: &str,
        template: &str,
        sample: &EditSample,
    ) -> Result<BuiltPrompt, PortError> {
        let called = self
            .host
            .build_prompt(plugin, template, &to_sample(sample))
            .map_err(port)?;
        Ok(BuiltPrompt {
            system: None,
            user: called.value,
        })
    }

    fn parse_reply(
        &self,
        plugin: &str,
        sample: &EditSample,
        reply: &str,
    ) -> Result<Edit, PortError> {
        edit_result(self.host.parse_reply(plugin, reply, &to_sample(sample)))
    }
}

impl Validators for PluginPorts {
    fn list(&self) -> Vec<ValidatorInfo> {
        self.host
            .of_kind(PluginKind::Validator)
            .into_iter()
            .map(|info| ValidatorInfo {
                id: info.id,
                version: info.version,
            })
            .collect()
    }

    fn validate(
        &self,
        validator: &str,
        sample: &EditSample,
        rejected: &str,
    ) -> Result<Verdict, PortError> {
        let called = self
            .host
            .validate(validator, &to_sample(sample), &sample.answer, rejected)
            .map_err(port)?;
        let v = called.value;
        // Through the shortest decimal form, so an f32 0.9166667 is not written as 0.91666668653.
        let score = v.score.to_string().parse().unwrap_or(f64::from(v.score));
        Ok(Verdict {
            pass: v.pass,
            score,
            reasons: v.reasons,
        })
    }
}

impl Templates for PluginPorts {
    fn get(&self, name: &str) -> Option<Template> {
        let t = self.templates.as_ref()?.get(name)?;
        Some(Template {
            text: Arc::from(t.text.as_str()),
            sha256: t.sha256.clone(),
        })
    }
}
