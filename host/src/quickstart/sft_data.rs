//! The base model's SFT data: every training answer of `train.json` (full sentences), plus the
//! training scenes' short-answer and yes/no questions asked with LLaVA-1.5's VQA instruction
//! (the instruct mixture of a real base model holds both kinds; without the second kind a
//! model could not be asked the held-out short questions at all). Written as preference JSONL
//! with `rejected = chosen`, which the trainer's SFT mode ignores.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use vapr_core::PreferenceRecord;
use vapr_data::synth::questions::eval_questions;
use vapr_data::synth::train_scene;
use vapr_text::SeededRng;

/// LLaVA-1.5's instruction for short-answer VQA, appended to held-out questions.
pub const SHORT_ANSWER_INSTRUCTION: &str = "Answer the question using a single word or phrase.";

/// The prompt of a short-answer or yes/no question.
pub fn short_prompt(question: &str) -> String {
    format!("{question}\n{SHORT_ANSWER_INSTRUCTION}")
}

/// Salt of the short-question RNG, so it never repeats the scene generator's draws.
const SHORT_SALT: u64 = 0x5348_4f52_545f_5141;

/// One LLaVA record of `train.json`, as (id, image, question, answer).
pub fn read_train_json(path: &Path) -> Result<Vec<(String, String, String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let mut out = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let field =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let turns = r.get("conversations").and_then(|c| c.as_array());
        let (Some(id), Some(image), Some(turns)) = (field(r, "id"), field(r, "image"), turns)
        else {
            bail!(
                "{}: record {i} lacks id, image or conversations",
                path.display()
            );
        };
        let (Some(q), Some(a)) = (
            turns.first().and_then(|t| field(t, "value")),
            turns.get(1).and_then(|t| field(t, "value")),
        ) else {
            bail!(
                "{}: record {i} ({id}) has no question/answer turn pair",
                path.display()
            );
        };
        let q = q.trim_start_matches("<image>").trim_start().to_string();
        out.push((id, image, q, a));
    }
    Ok(out)
}

/// Builds the SFT records: the sentence answers of `train.json` and, for each of the first
/// `train_scenes` training scenes of `seed`, its binary and short questions.
pub fn sft_records(
    train_json: &Path,
    seed: u64,
    train_scenes: usize,
) -> Result<Vec<PreferenceRecord>> {
    let mut out: Vec<PreferenceRecord> = read_train_json(train_json)?
        .into_iter()
        .map(|(id, image, q, a)| PreferenceRecord::new(id, Some(image), q, a.clone(), a))
        .collect();
    for i in 0..train_scenes {
        let (scene, _, _) = train_scene(seed, i);
        let mut rng =
            SeededRng::new(seed ^ SHORT_SALT ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let want: [bool; 10] = std::array::from_fn(|k| (i + k).is_multiple_of(2));
        // A scene that cannot support every held-out question type contributes none.
        let Some(qas) = eval_questions(&scene, &mut rng, want) else {
            continue;
        };
        let image = format!("images/train-{i:06}.png");
        for qa in qas {
            let kind = match qa.kind {
                vapr_data::synth::EvalKind::Binary => "binary",
                vapr_data::synth::EvalKind::Short => "short",
            };
            let mut r = PreferenceRecord::new(
                format!("synth-{i:06}-{}-{kind}", qa.category),
                Some(image.clone()),
                short_prompt(&qa.question),
                qa.answer.clone(),
                qa.answer,
            );
            r.category = Some(qa.category);
            out.push(r);
        }
    }
    Ok(out)
}

/// Writes records as preference JSONL.
pub fn write_jsonl(path: &Path, records: &[PreferenceRecord]) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for r in records {
        serde_json::to_writer(&mut f, r)?;
        f.write_all(b"\n")?;
    }
    f.flush()
        .with_context(|| format!("writing {}", path.display()))
}
