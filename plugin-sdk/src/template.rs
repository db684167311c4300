//! Prompt-template filling: the default `build-prompt` of every injector.
//!
//! Syntax (documented for template authors in docs/plugins.md):
//! - `{question}`, `{answer}`, `{category}`, `{id}`, `{feedback}`: the sample's fields
//!   (empty text when absent); `{penalty}`: the banned substitutes joined by `, `;
//!   `{param.NAME}`: the sample parameter `NAME` (empty when absent).
//! - `{?NAME}…{/NAME}`: the section is kept only when `NAME` is non-empty;
//!   `{!NAME}…{/NAME}`: kept only when it is empty. Sections nest.
//! - `{{` and `}}` are literal braces.
//!
//! Unknown placeholders and unbalanced sections are errors naming the line, so a typo in
//! `configs/prompts/*.txt` fails loudly instead of reaching the editor model.

use crate::{PluginError, Sample};

/// Fills `template` with the fields of `sample`.
pub fn fill_template(template: &str, sample: &Sample) -> Result<String, PluginError> {
    let mut out =
        String::with_capacity(template.len() + sample.answer.len() + sample.question.len());
    let mut stack: Vec<(String, bool)> = Vec::new();
    let mut rest = template;
    let mut line = 1;
    let emitting = |stack: &[(String, bool)]| stack.iter().all(|(_, on)| *on);
    while let Some(pos) = rest.find(['{', '}']) {
        let (text, tail) = rest.split_at(pos);
        if emitting(&stack) {
            out.push_str(text);
        }
        line += text.matches('\n').count();
        if let Some(after) = tail.strip_prefix("{{") {
            if emitting(&stack) {
                out.push('{');
            }
            rest = after;
            continue;
        }
        if let Some(after) = tail.strip_prefix("}}") {
            if emitting(&stack) {
                out.push('}');
            }
            rest = after;
            continue;
        }
        if tail.starts_with('}') {
            return Err(bad(line, "stray `}` (write `}}` for a literal brace)"));
        }
        let close = tail.find('}').ok_or_else(|| {
            bad(
                line,
                "`{` without a closing `}` (write `{{` for a literal brace)",
            )
        })?;
        let tag = &tail[1..close];
        rest = &tail[close + 1..];
        if let Some(name) = tag.strip_prefix('?').or_else(|| tag.strip_prefix('!')) {
            let value = field(name, sample).ok_or_else(|| unknown(line, name))?;
            let wanted_nonempty = tag.starts_with('?');
            stack.push((name.to_string(), value.trim().is_empty() != wanted_nonempty));
        } else if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some((open, _)) if open == name => {}
                Some((open, _)) => {
                    return Err(bad(line, &format!("`{{/{name}}}` closes section `{open}`")));
                }
                None => {
                    return Err(bad(
                        line,
                        &format!("`{{/{name}}}` without an opening `{{?{name}}}`"),
                    ));
                }
            }
        } else {
            let value = field(tag, sample).ok_or_else(|| unknown(line, tag))?;
            if emitting(&stack) {
                out.push_str(&value);
            }
        }
    }
    if emitting(&stack) {
        out.push_str(rest);
    }
    if let Some((open, _)) = stack.pop() {
        return Err(PluginError::BadTemplate(format!(
            "section `{{?{open}}}` is never closed with `{{/{open}}}`"
        )));
    }
    Ok(out)
}

/// The value of a placeholder, `None` when the name is unknown.
fn field(name: &str, sample: &Sample) -> Option<String> {
    Some(match name {
        "question" => sample.question.clone(),
        "answer" => sample.answer.clone(),
        "id" => sample.id.clone(),
        "category" => sample.category.clone().unwrap_or_default(),
        "feedback" => sample.feedback.clone().unwrap_or_default(),
        "penalty" => sample.penalty.join(", "),
        _ => match name.strip_prefix("param.") {
            Some(key) if !key.is_empty() => sample.param(key).unwrap_or_default().to_string(),
            _ => return None,
        },
    })
}

fn bad(line: usize, what: &str) -> PluginError {
    PluginError::BadTemplate(format!("line {line}: {what}"))
}

fn unknown(line: usize, name: &str) -> PluginError {
    bad(
        line,
        &format!(
            "unknown placeholder `{{{name}}}` (known: question, answer, category, id, penalty, feedback, param.NAME)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        Sample::new("s#0", "How many cats?", "There are three cats.").with_category("counting")
    }

    #[test]
    fn fills_plain_placeholders_and_escapes() {
        let t = "Q: {question}\nA: {answer} [{category}] {{literal}}";
        assert_eq!(
            fill_template(t, &sample()).unwrap(),
            "Q: How many cats?\nA: There are three cats. [counting] {literal}"
        );
    }

    #[test]
    fn conditional_sections_follow_emptiness() {
        let t = "x{?feedback} Last time: {feedback}.{/feedback}{!penalty} no bans{/penalty}{?penalty} Avoid {penalty}.{/penalty}";
        assert_eq!(fill_template(t, &sample()).unwrap(), "x no bans");
        let s = sample()
            .with_feedback("too long")
            .with_penalty("five")
            .with_penalty("two");
        assert_eq!(
            fill_template(t, &s).unwrap(),
            "x Last time: too long. Avoid five, two."
        );
    }

    #[test]
    fn nested_sections_and_params() {
        let t =
            "{?category}cat={category}{?param.style} style={param.style}{/param.style}{/category}";
        assert_eq!(fill_template(t, &sample()).unwrap(), "cat=counting");
        assert_eq!(
            fill_template(t, &sample().with_param("style", "terse")).unwrap(),
            "cat=counting style=terse"
        );
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let err = fill_template("ok\n{qestion}", &sample()).unwrap_err();
        assert!(
            matches!(&err, PluginError::BadTemplate(m) if m.starts_with("line 2:") && m.contains("{qestion}")),
            "{err}"
        );
        let err = fill_template("{?feedback} open", &sample()).unwrap_err();
        assert!(err.to_string().contains("never closed"), "{err}");
        let err = fill_template("{?feedback}{/penalty}", &sample()).unwrap_err();
        assert!(
            err.to_string().contains("closes section `feedback`"),
            "{err}"
        );
        assert!(fill_template("a } b", &sample()).is_err());
        assert!(fill_template("a { b", &sample()).is_err());
    }
}
