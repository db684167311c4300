//! Tokenizer and chat template of a Hugging Face folder: `tokenizer.json` through the
//! `tokenizers` crate, the Jinja chat template (from `chat_template.jinja`,
//! `chat_template.json` or `tokenizer_config.json`, in that order) rendered with minijinja, and
//! the end-of-turn id that closes each completion.
//!
//! Rendering follows transformers' `render_jinja_template`: `trim_blocks` and `lstrip_blocks`
//! on, the special tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`) in the context,
//! `raise_exception`, and Hugging Face's `{% generation %}`…`{% endgeneration %}` blocks (TRL's
//! assistant-mask markers, in llava-hf templates) rendered as their content — the tags become
//! an always-true `if` block, so whitespace control (`{%- generation -%}`) and trimming behave
//! exactly as around the original block tag.
//!
//! # Prompt ids (all families)
//!
//! ```text
//! let ids = chat.prompt_ids(question, placeholder, &counts)?;
//! ```
//! renders one user turn (one image entry per count, then the question) with the generation
//! prompt, expands the `i`-th `placeholder` (`<|image_pad|>` for Qwen2-VL, `<image>` for LLaVA)
//! to `counts[i]` copies, and tokenizes like transformers' processor: with the tokenizer's
//! default special tokens (BOS for Llama tokenizers, nothing for Qwen) unless the rendered text
//! already starts with `bos_token` ([`ChatTokenizer::encode_prompt`]). For LLaVA the counts come
//! from `llava::processor::ImageTokens::for_image`. `tokenizer_config.json`'s `add_bos_token` /
//! `add_eos_token`, when present, rebuild the tokenizer's post-processor as transformers ≥ 5
//! does.

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{Environment, Error as JinjaError, ErrorKind};
use serde_json::json;
use tokenizers::processors::template::TemplateProcessing;

use crate::error::{ModelError, Result};

/// Tokenizer, chat template and the special tokens the trainer needs.
#[derive(Debug, Clone)]
pub struct ChatTokenizer {
    pub tokenizer: tokenizers::Tokenizer,
    /// The template text, `{% generation %}` tags rewritten ([`rewrite_generation_tags`]).
    pub template: String,
    /// Where the template came from (for error messages).
    pub template_path: PathBuf,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub unk_token: Option<String>,
    pub pad_token: Option<String>,
    /// Id appended after every completion: the tokenizer's EOS (e.g. `<|im_end|>` for
    /// Qwen2-VL-Instruct, `</s>` for Llama).
    pub end_of_turn_id: u32,
}

fn special_token(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o
            .get("content")
            .and_then(|c| c.as_str())
            .map(str::to_string),
        _ => None,
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The template text from a `chat_template` value: a string, or a list of `{name, template}`
/// where the one named `default` (else the first) is used.
fn template_from_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(list) => {
            let pick = list
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .or(list.first())?;
            pick.get("template")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        }
        _ => None,
    }
}

/// Rewrites Hugging Face's `{% generation %}` / `{% endgeneration %}` tags (TRL's
/// assistant-mask markers, which plain Jinja engines reject) into `{% if true %}` /
/// `{% endif %}`, keeping their whitespace-control markers (`-`, `+`): the template renders as
/// transformers renders it, the block's content unchanged.
pub fn rewrite_generation_tags(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{%") {
        let Some(len) = rest[start + 2..].find("%}") else {
            break;
        };
        let end = start + 2 + len + 2;
        let body = &rest[start + 2..end - 2];
        let (left, body) = split_marker(body, false);
        let (right, inner) = split_marker(body, true);
        out.push_str(&rest[..start]);
        match inner.trim() {
            "generation" => out.push_str(&format!("{{%{left} if true {right}%}}")),
            "endgeneration" => out.push_str(&format!("{{%{left} endif {right}%}}")),
            _ => out.push_str(&rest[start..end]),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Splits a leading (or trailing) `-`/`+` whitespace-control marker off a tag body.
fn split_marker(body: &str, trailing: bool) -> (&str, &str) {
    let is_marker = |c: char| c == '-' || c == '+';
    if trailing {
        match body.chars().last() {
            Some(c) if is_marker(c) => (&body[body.len() - 1..], &body[..body.len() - 1]),
            _ => ("", body),
        }
    } else {
        match body.chars().next() {
            Some(c) if is_marker(c) => (&body[..1], &body[1..]),
            _ => ("", body),
        }
    }
}

/// transformers ≥ 5 rebuilds a tokenizer's post-processor when `tokenizer_config.json` sets
/// `add_bos_token` or `add_eos_token`: `[bos] $A [eos]` with the flags (a flag whose token is
/// unset or unknown is dropped).
fn apply_bos_eos_flags(
    tokenizer: &mut tokenizers::Tokenizer,
    cfg: &serde_json::Value,
    bos: Option<&str>,
    eos: Option<&str>,
    cfg_path: &Path,
) -> Result<()> {
    let flag = |k: &str| cfg.get(k).and_then(|v| v.as_bool());
    let (add_bos, add_eos) = (flag("add_bos_token"), flag("add_eos_token"));
    if add_bos.is_none() && add_eos.is_none() {
        return Ok(());
    }
    let known = |t: Option<&str>, on: Option<bool>| {
        t.filter(|_| on == Some(true))
            .and_then(|t| tokenizer.token_to_id(t).map(|id| (t.to_string(), id)))
    };
    let (bos, eos) = (known(bos, add_bos), known(eos, add_eos));
    let wrap = |seq: &str, type_id: u32| {
        let mut parts = Vec::new();
        if let Some((b, _)) = &bos {
            parts.push(format!("{b}:{type_id}"));
        }
        parts.push(format!("${seq}:{type_id}"));
        if let Some((e, _)) = &eos {
            parts.push(format!("{e}:{type_id}"));
        }
        parts.join(" ")
    };
    let special: Vec<(String, u32)> = bos.iter().chain(eos.iter()).cloned().collect();
    let err = |message: String| ModelError::Tokenizer {
        path: cfg_path.to_path_buf(),
        message: format!("add_bos_token/add_eos_token: {message}"),
    };
    let template = TemplateProcessing::builder()
        .try_single(wrap("A", 0))
        .map_err(err)?
        .try_pair(format!("{} {}", wrap("A", 0), wrap("B", 1)))
        .map_err(err)?
        .special_tokens(special)
        .build()
        .map_err(|e| err(e.to_string()))?;
    tokenizer.with_post_processor(Some(template));
    Ok(())
}

impl ChatTokenizer {
    /// Loads `tokenizer.json`, the chat template and special tokens from a model folder.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer =
            tokenizers::Tokenizer::from_file(&tok_path).map_err(|e| ModelError::Tokenizer {
                path: tok_path.clone(),
                message: e.to_string(),
            })?;
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg = if cfg_path.exists() {
            read_json(&cfg_path)?
        } else {
            json!({})
        };
        let jinja = dir.join("chat_template.jinja");
        let json_tpl = dir.join("chat_template.json");
        let (template, template_path) = if jinja.exists() {
            (
                std::fs::read_to_string(&jinja).map_err(|e| ModelError::io(&jinja, e))?,
                jinja,
            )
        } else if let Some(t) = json_tpl
            .exists()
            .then(|| read_json(&json_tpl))
            .transpose()?
            .and_then(|v| v.get("chat_template").and_then(template_from_value))
        {
            (t, json_tpl)
        } else if let Some(t) = cfg.get("chat_template").and_then(template_from_value) {
            (t, cfg_path.clone())
        } else {
            return Err(ModelError::Template {
                path: dir.to_path_buf(),
                message: "no chat template (looked for chat_template.jinja, chat_template.json and `chat_template` in tokenizer_config.json)".into(),
            });
        };
        let bos_token = special_token(cfg.get("bos_token"));
        let eos_token = special_token(cfg.get("eos_token"));
        apply_bos_eos_flags(
            &mut tokenizer,
            &cfg,
            bos_token.as_deref(),
            eos_token.as_deref(),
            &cfg_path,
        )?;
        let end_of_turn_id = eos_token
            .as_deref()
            .into_iter()
            .chain(["<|im_end|>", "<|endoftext|>", "</s>"])
            .find_map(|t| tokenizer.token_to_id(t))
            .ok_or_else(|| ModelError::Tokenizer {
                path: cfg_path.clone(),
                message: "no end-of-turn token: `eos_token` is unset and none of <|im_end|>, <|endoftext|>, </s> is in the vocabulary".into(),
            })?;
        let me = Self {
            tokenizer,
            template: rewrite_generation_tags(&template),
            template_path,
            bos_token,
            eos_token,
            unk_token: special_token(cfg.get("unk_token")),
            pad_token: special_token(cfg.get("pad_token")),
            end_of_turn_id,
        };
        // Fail at load time, not at the first sample.
        me.environment()?;
        Ok(me)
    }

    fn environment(&self) -> Result<Environment<'static>> {
        let mut env = Environment::new();
        // transformers renders chat templates with both on.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function(
            "raise_exception",
            |msg: String| -> std::result::Result<Value, JinjaError> {
                Err(JinjaError::new(ErrorKind::InvalidOperation, msg))
            },
        );
        env.set_unknown_method_callback(python_string_methods);
        env.add_template_owned("chat", self.template.clone())
            .map_err(|e| ModelError::Template {
                path: self.template_path.clone(),
                message: e.to_string(),
            })?;
        Ok(env)
    }

    /// Renders one user turn (the images first, then the question) and the generation prompt.
    pub fn render_user_turn(&self, question: &str, n_images: usize) -> Result<String> {
        let mut content: Vec<serde_json::Value> =
            (0..n_images).map(|_| json!({"type": "image"})).collect();
        content.push(json!({"type": "text", "text": question}));
        self.render(&json!([{"role": "user", "content": content}]), true)
    }

    /// Renders `messages` (Hugging Face chat format) with the template.
    pub fn render(
        &self,
        messages: &serde_json::Value,
        add_generation_prompt: bool,
    ) -> Result<String> {
        let env = self.environment()?;
        let tpl = env.get_template("chat").map_err(|e| ModelError::Template {
            path: self.template_path.clone(),
            message: e.to_string(),
        })?;
        tpl.render(minijinja::context! {
            messages => Value::from_serialize(messages),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.clone().unwrap_or_default(),
            eos_token => self.eos_token.clone().unwrap_or_default(),
            unk_token => self.unk_token.clone().unwrap_or_default(),
            pad_token => self.pad_token.clone().unwrap_or_default(),
        })
        .map_err(|e| ModelError::Template {
            path: self.template_path.clone(),
            message: format!("{e:#}"),
        })
    }

    /// Token ids of `text`, with the tokenizer's default special tokens when `special` is set
    /// (e.g. BOS for Llama tokenizers; nothing for Qwen).
    pub fn encode(&self, text: &str, special: bool) -> Result<Vec<u32>> {
        self.tokenizer
            .encode(text, special)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| ModelError::Tokenizer {
                path: PathBuf::from("tokenizer.json"),
                message: e.to_string(),
            })
    }

    /// Token ids of a rendered prompt, as transformers' processor tokenizes an applied chat
    /// template: with the tokenizer's default special tokens (BOS for Llama tokenizers), unless
    /// the text already starts with `bos_token` (a template that writes it itself).
    pub fn encode_prompt(&self, text: &str) -> Result<Vec<u32>> {
        let has_bos = self
            .bos_token
            .as_deref()
            .is_some_and(|b| !b.is_empty() && text.starts_with(b));
        self.encode(text, !has_bos)
    }

    /// Prompt ids of one user turn (`counts.len()` images, then `question`) with the generation
    /// prompt: rendered, the `i`-th `placeholder` expanded to `counts[i]` copies, tokenized by
    /// [`ChatTokenizer::encode_prompt`].
    pub fn prompt_ids(
        &self,
        question: &str,
        placeholder: &str,
        counts: &[usize],
    ) -> Result<Vec<u32>> {
        let text = self.render_user_turn(question, counts.len())?;
        let text = expand_placeholders(&text, placeholder, counts)?;
        self.encode_prompt(&text)
    }

    /// Id of a token in the vocabulary.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.tokenizer.token_to_id(token)
    }
}

/// Replaces the `i`-th occurrence of `placeholder` with `counts[i]` copies of it (the
/// processor's image-token expansion). Errors when the counts and placeholders differ.
pub fn expand_placeholders(text: &str, placeholder: &str, counts: &[usize]) -> Result<String> {
    let parts: Vec<&str> = text.split(placeholder).collect();
    if parts.len() - 1 != counts.len() {
        return Err(ModelError::Input(format!(
            "the prompt has {} {placeholder} placeholder(s) but {} image(s) were given",
            parts.len() - 1,
            counts.len()
        )));
    }
    let mut out =
        String::with_capacity(text.len() + counts.iter().sum::<usize>() * placeholder.len());
    for (i, part) in parts.iter().enumerate() {
        out.push_str(part);
        if let Some(&n) = counts.get(i) {
            out.push_str(&placeholder.repeat(n));
        }
    }
    Ok(out)
}

/// The Python string methods chat templates use most (`strip`, `startswith`, …).
fn python_string_methods(
    _state: &minijinja::State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> std::result::Result<Value, JinjaError> {
    let Some(s) = value.as_str() else {
        return Err(JinjaError::new(
            ErrorKind::UnknownMethod,
            format!("no method {method}"),
        ));
    };
    let arg = |i: usize| args.get(i).and_then(|a| a.as_str()).unwrap_or("");
    Ok(match method {
        "strip" if args.is_empty() => Value::from(s.trim()),
        "strip" => Value::from(s.trim_matches(|c| arg(0).contains(c))),
        "lstrip" if args.is_empty() => Value::from(s.trim_start()),
        "lstrip" => Value::from(s.trim_start_matches(|c| arg(0).contains(c))),
        "rstrip" if args.is_empty() => Value::from(s.trim_end()),
        "rstrip" => Value::from(s.trim_end_matches(|c| arg(0).contains(c))),
        "startswith" => Value::from(s.starts_with(arg(0))),
        "endswith" => Value::from(s.ends_with(arg(0))),
        "lower" => Value::from(s.to_lowercase()),
        "upper" => Value::from(s.to_uppercase()),
        "replace" => Value::from(s.replace(arg(0), arg(1))),
        "split" if args.is_empty() => {
            Value::from(s.split_whitespace().map(Value::from).collect::<Vec<_>>())
        }
        "split" => Value::from(s.split(arg(0)).map(Value::from).collect::<Vec<_>>()),
        _ => {
            return Err(JinjaError::new(
                ErrorKind::UnknownMethod,
                format!("string has no method {method}"),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_generation_tags_become_an_if_block_keeping_whitespace_markers() {
        let t = "a{% generation %}b{%- endgeneration -%}c{%+generation-%}{% if x %}d{% endif %}\
                 {%-  endgeneration  %}{{ '{%' }}";
        assert_eq!(
            rewrite_generation_tags(t),
            "a{% if true %}b{%- endif -%}c{%+ if true -%}{% if x %}d{% endif %}\
             {%- endif %}{{ '{%' }}"
        );
        // Not a generation tag: untouched, including a name that merely starts with it.
        let u = "{% set generation_count = 1 %}{% generations %}";
        assert_eq!(rewrite_generation_tags(u), u);
    }

    /// Renders `template` (after the rewrite) the way `ChatTokenizer::render` does.
    fn render_with(template: &str, messages: serde_json::Value) -> String {
        let dir = folder_with_config(json!({"eos_token": "</s>", "chat_template": template}));
        let chat = ChatTokenizer::from_dir(dir.path()).unwrap();
        chat.render(&messages, false).unwrap()
    }

    #[test]
    fn test_generation_tags_render_in_every_whitespace_form() {
        let msgs = json!([{"role": "assistant", "content": "yes"}]);
        let body = |open: &str, close: &str| {
            format!(
                "{{% for m in messages %}}\n  <{{{{ m.role }}}}>\n  {open}\n   {{{{ m.content }}}}  \n  {close}\n  </>\n{{% endfor %}}"
            )
        };
        // Expected strings: transformers' `render_jinja_template` on the same templates
        // (trim_blocks, lstrip_blocks, its generation extension).
        for (open, close, want) in [
            (
                "{% generation %}",
                "{% endgeneration %}",
                "  <assistant>\n   yes  \n  </>\n",
            ),
            (
                "{%- generation -%}",
                "{%- endgeneration -%}",
                "  <assistant>yes</>\n",
            ),
            (
                "{%- generation %}",
                "{%- endgeneration %}",
                "  <assistant>   yes  </>\n",
            ),
            (
                "{% generation -%}",
                "{% endgeneration -%}",
                "  <assistant>\nyes  \n</>\n",
            ),
            (
                "{%+ generation %}",
                "{%+ endgeneration %}",
                "  <assistant>\n     yes  \n    </>\n",
            ),
        ] {
            assert_eq!(
                render_with(&body(open, close), msgs.clone()),
                want,
                "{open} … {close}"
            );
        }
    }

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/qwen2_vl/nested")
    }

    /// A folder with the fixture tokenizer and the given `tokenizer_config.json`.
    fn folder_with_config(config: serde_json::Value) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            fixture_dir().join("tokenizer.json"),
            dir.path().join("tokenizer.json"),
        )
        .unwrap();
        std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
        dir
    }

    #[test]
    fn test_template_list_in_tokenizer_config_uses_the_default_entry() {
        let dir = folder_with_config(json!({
            "eos_token": {"content": "<|im_end|>"},
            "chat_template": [
                {"name": "tool_use", "template": "TOOLS"},
                {"name": "default", "template": "{% for m in messages %}[{{ m.role }}]{% endfor %}{% if add_generation_prompt %}>{% endif %}"}
            ]
        }));
        let chat = ChatTokenizer::from_dir(dir.path()).unwrap();
        assert_eq!(chat.render_user_turn("q", 1).unwrap(), "[user]>");
        assert_eq!(Some(chat.end_of_turn_id), chat.token_id("<|im_end|>"));
    }

    #[test]
    fn test_generation_tags_raise_exception_and_string_methods_render() {
        let tpl = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system') }}{% endif %}\
                   {% generation %}{{ m.content[-1].text.strip().upper() }}{% endgeneration %}{% endfor %}";
        let dir = folder_with_config(json!({"eos_token": "<|im_end|>", "chat_template": tpl}));
        let chat = ChatTokenizer::from_dir(dir.path()).unwrap();
        assert_eq!(chat.render_user_turn("  hello ", 0).unwrap(), "HELLO");
        let err = chat
            .render(&json!([{"role": "system", "content": "x"}]), false)
            .unwrap_err();
        assert!(err.to_string().contains("no system"), "{err}");
    }

    #[test]
    fn test_missing_template_is_an_error_naming_the_files() {
        let dir = folder_with_config(json!({"eos_token": "<|im_end|>"}));
        let err = ChatTokenizer::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("chat_template.jinja"), "{err}");
    }

    #[test]
    fn test_placeholders_expand_in_order() {
        let out = expand_placeholders("x<p>y<p>z", "<p>", &[2, 1]).unwrap();
        assert_eq!(out, "x<p><p>y<p>z");
        assert!(expand_placeholders("x<p>", "<p>", &[1, 1]).is_err());
    }
}
