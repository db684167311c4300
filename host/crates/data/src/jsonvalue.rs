//! Interpreting one loosely-typed record (a JSON object, or a parquet row turned into one)
//! as a conversation: id, image, turns, category. Shared by every input format so that
//! JSON, JSONL and parquet accept exactly the same field names.

use serde_json::{Map, Value};
use vapr_core::Category;

use crate::report::SkipReason;

/// A record's image as the source gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ImageField {
    None,
    Path(String),
    /// Bytes embedded in the file (parquet `{bytes, path}`), with the original name if any.
    Embedded {
        bytes: Vec<u8>,
        path: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    System,
    Human,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Turn {
    pub role: Role,
    pub text: String,
}

/// A conversation before it is split into units.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRecord {
    pub id: String,
    pub image: ImageField,
    pub turns: Vec<Turn>,
    pub category: Option<Category>,
}

/// Why a record cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bad {
    pub reason: SkipReason,
    pub detail: String,
}

pub(crate) fn bad(reason: SkipReason, detail: impl Into<String>) -> Bad {
    Bad {
        reason,
        detail: detail.into(),
    }
}

/// Reads id, turns and category from `obj`; the image comes from the caller (JSON: see
/// [`image_from_json`]; parquet: the image column).
pub(crate) fn raw_record(
    obj: &Map<String, Value>,
    image: ImageField,
    fallback_id: &str,
) -> Result<RawRecord, Bad> {
    let id = match obj.get("id") {
        None | Some(Value::Null) => fallback_id.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(bad(
                SkipReason::WrongType,
                format!("`id` is {}", kind(other)),
            ));
        }
    };
    let turns = turns(obj)?;
    let category = obj
        .get("category")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Category>().ok());
    Ok(RawRecord {
        id,
        image,
        turns,
        category,
    })
}

/// The `image` field (string, null, `{path}` object) or `images` list (at most one entry).
pub(crate) fn image_from_json(obj: &Map<String, Value>) -> Result<ImageField, Bad> {
    let one = |v: &Value, field: &str| -> Result<ImageField, Bad> {
        match v {
            Value::Null => Ok(ImageField::None),
            Value::String(s) if s.is_empty() => Ok(ImageField::None),
            Value::String(s) => Ok(ImageField::Path(s.clone())),
            Value::Object(m) => match m.get("path").and_then(Value::as_str) {
                Some(p) if !p.is_empty() => Ok(ImageField::Path(p.to_string())),
                _ => Err(bad(
                    SkipReason::WrongType,
                    format!("`{field}` object has no `path`"),
                )),
            },
            other => Err(bad(
                SkipReason::WrongType,
                format!("`{field}` is {}", kind(other)),
            )),
        }
    };
    if let Some(v) = obj.get("image") {
        return one(v, "image");
    }
    match obj.get("images") {
        None | Some(Value::Null) => Ok(ImageField::None),
        Some(Value::Array(items)) => match items.as_slice() {
            [] => Ok(ImageField::None),
            [single] => one(single, "images"),
            many => Err(bad(
                SkipReason::MultipleImages,
                format!("{} images in one record", many.len()),
            )),
        },
        Some(v) => one(v, "images"),
    }
}

/// Turns from `conversations`/`messages` (`from`/`value` or `role`/`content`), from
/// `texts` (`[{user, assistant}]`, The Cauldron), or one turn pair from `question`/`answer`.
fn turns(obj: &Map<String, Value>) -> Result<Vec<Turn>, Bad> {
    let list = obj.get("conversations").or_else(|| obj.get("messages"));
    if let Some(list) = list {
        let Value::Array(items) = list else {
            return Err(bad(
                SkipReason::WrongType,
                format!("`conversations` is {}", kind(list)),
            ));
        };
        return items.iter().enumerate().map(|(i, t)| turn(i, t)).collect();
    }
    // The Cauldron layout: `texts: [{user, assistant}, …]`.
    if let Some(texts) = obj.get("texts") {
        let Value::Array(items) = texts else {
            return Err(bad(
                SkipReason::WrongType,
                format!("`texts` is {}", kind(texts)),
            ));
        };
        let mut out = Vec::with_capacity(items.len() * 2);
        for (i, item) in items.iter().enumerate() {
            match (
                item.get("user").and_then(Value::as_str),
                item.get("assistant").and_then(Value::as_str),
            ) {
                (Some(q), Some(a)) => {
                    out.push(Turn {
                        role: Role::Human,
                        text: q.to_string(),
                    });
                    out.push(Turn {
                        role: Role::Assistant,
                        text: a.to_string(),
                    });
                }
                _ => {
                    return Err(bad(
                        SkipReason::MissingField,
                        format!("`texts` entry {i} needs `user` and `assistant` strings"),
                    ));
                }
            }
        }
        return Ok(out);
    }
    match (obj.get("question"), obj.get("answer")) {
        (Some(Value::String(q)), Some(Value::String(a))) => Ok(vec![
            Turn {
                role: Role::Human,
                text: q.clone(),
            },
            Turn {
                role: Role::Assistant,
                text: a.clone(),
            },
        ]),
        (Some(q), Some(a)) => Err(bad(
            SkipReason::WrongType,
            format!(
                "`question`/`answer` must be strings, got {} and {}",
                kind(q),
                kind(a)
            ),
        )),
        _ => Err(bad(
            SkipReason::MissingField,
            "no `conversations`, `messages` or `question`/`answer` field",
        )),
    }
}

fn turn(index: usize, v: &Value) -> Result<Turn, Bad> {
    let Value::Object(m) = v else {
        return Err(bad(
            SkipReason::WrongType,
            format!("turn {index} is {}", kind(v)),
        ));
    };
    let role = m
        .get("from")
        .or_else(|| m.get("role"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let role = match role.to_ascii_lowercase().as_str() {
        "human" | "user" => Role::Human,
        "gpt" | "assistant" | "bot" | "model" => Role::Assistant,
        "system" => Role::System,
        "" => {
            return Err(bad(
                SkipReason::MissingField,
                format!("turn {index} has no `from`/`role`"),
            ));
        }
        other => {
            return Err(bad(
                SkipReason::UnpairedTurn,
                format!("turn {index} has unknown role `{other}`"),
            ));
        }
    };
    let content = m.get("value").or_else(|| m.get("content"));
    let text = match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts_text(parts),
        _ => {
            return Err(bad(
                SkipReason::MissingField,
                format!("turn {index} has no text `value`/`content`"),
            ));
        }
    };
    Ok(Turn { role, text })
}

/// Text of a multimodal content list (`[{"type":"image"},{"type":"text","text":"…"}]`).
fn parts_text(parts: &[Value]) -> String {
    let texts: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Value::String(s) => Some(s.as_str()),
            Value::Object(m) => m.get("text").and_then(Value::as_str),
            _ => None,
        })
        .collect();
    texts.join("\n")
}

/// The answer text of a `chosen`/`rejected` value in any common preference layout: a
/// string; a message `{from/role, value/content}`; a message list (the last assistant
/// message, or the last message).
pub(crate) fn answer_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => match m
            .get("value")
            .or_else(|| m.get("content"))
            .or_else(|| m.get("text"))
        {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(parts)) => Some(parts_text(parts)),
            _ => None,
        },
        Value::Array(items) => {
            let is_assistant = |m: &Value| {
                let role = m
                    .get("role")
                    .or_else(|| m.get("from"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                matches!(role, "assistant" | "gpt" | "bot" | "model")
            };
            items
                .iter()
                .rev()
                .find(|m| is_assistant(m))
                .or(items.last())
                .and_then(answer_text)
        }
        _ => None,
    }
}

/// The question text of a `prompt`/`question` value (string or message list: the last user
/// message), without the `<image>` placeholder.
pub(crate) fn prompt_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(strip_image_placeholder(s)),
        Value::Array(items) => {
            let is_user = |m: &Value| {
                let role = m
                    .get("role")
                    .or_else(|| m.get("from"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                matches!(role, "user" | "human")
            };
            items
                .iter()
                .rev()
                .find(|m| is_user(m))
                .or(items.last())
                .and_then(answer_text)
                .map(|s| strip_image_placeholder(&s))
        }
        Value::Object(_) => answer_text(v).map(|s| strip_image_placeholder(&s)),
        _ => None,
    }
}

/// Removes LLaVA's `<image>` placeholder and the line break that usually goes with it.
pub fn strip_image_placeholder(text: &str) -> String {
    text.replace("<image>\n", "")
        .replace("\n<image>", "")
        .replace("<image>", "")
        .trim()
        .to_string()
}

pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn reads_llava_and_openai_style_turns() {
        let r = raw_record(
            &obj(json!({"id": 7, "conversations": [
                {"from": "human", "value": "<image>\nWhat?"},
                {"role": "assistant", "content": [{"type": "text", "text": "That."}]}
            ], "category": "color"})),
            ImageField::None,
            "f-0",
        )
        .unwrap();
        assert_eq!(r.id, "7");
        assert_eq!(r.turns[0].role, Role::Human);
        assert_eq!(r.turns[1].text, "That.");
        assert_eq!(r.category, Some(Category::Color));
    }

    #[test]
    fn question_answer_columns_make_one_turn_pair_and_ids_fall_back() {
        let r = raw_record(
            &obj(json!({"question": "Q?", "answer": "A."})),
            ImageField::None,
            "data-3",
        )
        .unwrap();
        assert_eq!(r.id, "data-3");
        assert_eq!(r.turns.len(), 2);
    }

    #[test]
    fn cauldron_texts_become_turn_pairs() {
        let r = raw_record(
            &obj(json!({"texts": [{"user": "Q1?", "assistant": "A1.", "source": "x"}, {"user": "Q2?", "assistant": "A2."}]})),
            ImageField::None,
            "c-0",
        )
        .unwrap();
        let texts: Vec<_> = r.turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["Q1?", "A1.", "Q2?", "A2."]);
        let e = raw_record(
            &obj(json!({"texts": [{"user": "Q"}]})),
            ImageField::None,
            "c",
        )
        .unwrap_err();
        assert_eq!(e.reason, SkipReason::MissingField);
    }

    #[test]
    fn bad_shapes_name_the_problem() {
        let e = raw_record(
            &obj(json!({"id": "a", "conversations": "x"})),
            ImageField::None,
            "f",
        )
        .unwrap_err();
        assert_eq!(e.reason, SkipReason::WrongType);
        let e = raw_record(&obj(json!({"id": "a"})), ImageField::None, "f").unwrap_err();
        assert_eq!(e.reason, SkipReason::MissingField);
        let e = raw_record(
            &obj(json!({"id": "a", "conversations": [{"from": "narrator", "value": "x"}]})),
            ImageField::None,
            "f",
        )
        .unwrap_err();
        assert_eq!(e.reason, SkipReason::UnpairedTurn);
        assert!(e.detail.contains("narrator"));
        let e = image_from_json(&obj(json!({"images": ["a.png", "b.png"]}))).unwrap_err();
        assert_eq!(e.reason, SkipReason::MultipleImages);
    }

    #[test]
    fn answer_text_understands_trl_and_llamafactory_layouts() {
        assert_eq!(answer_text(&json!("plain")).unwrap(), "plain");
        assert_eq!(
            answer_text(&json!({"from": "gpt", "value": "lf"})).unwrap(),
            "lf"
        );
        let trl = json!([{"role": "assistant", "content": [{"type": "text", "text": "trl"}]}]);
        assert_eq!(answer_text(&trl).unwrap(), "trl");
        let prompt = json!([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q?"}]}]);
        assert_eq!(prompt_text(&prompt).unwrap(), "Q?");
        assert_eq!(strip_image_placeholder("<image>\nHow many?"), "How many?");
        assert_eq!(strip_image_placeholder("How many?\n<image>"), "How many?");
    }
}
