//! Preference JSONL → encoded pairs. The model side supplies a [`PairEncoder`] (chat template,
//! tokenizer, image processor); this module reads the file, resolves images and reports a bad
//! line as `file:line`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vapr_core::PreferenceRecord;

use crate::batch::EncodedPair;
use crate::error::{BoxError, Result, TrainError};

/// Turns text and images into model tokens.
pub trait PairEncoder {
    /// The preprocessed image (pixels and grid for Qwen2-VL).
    type Image: Clone + Send + Sync;

    /// The prompt: the chat template with one user turn (the image, then `question`) and the
    /// generation prompt, tokenized with the tokenizer's default special tokens, image tokens
    /// expanded. Returns the tokens and the processed image.
    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> std::result::Result<(Vec<u32>, Option<Self::Image>), BoxError>;

    /// The completion: `answer` tokenized without special tokens, then the end-of-turn id.
    fn encode_completion(&self, answer: &str) -> std::result::Result<Vec<u32>, BoxError>;

    /// The id that pads sequences on the right (never a label).
    fn pad_id(&self) -> u32;
}

/// Reads every record of a preference JSONL file (blank lines skipped), with its line number.
pub fn read_records(path: &Path) -> Result<Vec<(usize, PreferenceRecord)>> {
    let file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| TrainError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: PreferenceRecord =
            serde_json::from_str(&line).map_err(|source| TrainError::BadRecord {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })?;
        out.push((i + 1, record));
    }
    if out.is_empty() {
        return Err(TrainError::EmptyDataset {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// Reads and encodes a preference file. Images are resolved against `images_dir` (or the
/// file's own directory) unless absolute.
pub fn load_pairs<E: PairEncoder>(
    path: &Path,
    images_dir: Option<&Path>,
    encoder: &E,
) -> Result<Vec<EncodedPair<E::Image>>> {
    let base: PathBuf = match images_dir {
        Some(d) => d.to_path_buf(),
        None => path.parent().map(Path::to_path_buf).unwrap_or_default(),
    };
    let mut pairs = Vec::new();
    for (line, r) in read_records(path)? {
        let wrap = |source: BoxError| TrainError::Encode {
            path: path.to_path_buf(),
            line,
            id: r.id.clone(),
            source,
        };
        let image = r.image.as_ref().map(|i| base.join(i));
        if let Some(img) = &image
            && !img.is_file()
        {
            return Err(wrap(
                format!("image {} does not exist", img.display()).into(),
            ));
        }
        let (prompt, image) = encoder
            .encode_prompt(&r.prompt, image.as_deref())
            .map_err(wrap)?;
        let chosen = encoder.encode_completion(&r.chosen).map_err(wrap)?;
        let rejected = encoder.encode_completion(&r.rejected).map_err(wrap)?;
        pairs.push(EncodedPair {
            id: r.id,
            prompt,
            chosen,
            rejected,
            image,
        });
    }
    Ok(pairs)
}

/// SHA-256 (hex) of a file's bytes.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).map_err(|e| TrainError::io(path, e))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| TrainError::io(path, e))?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters as tokens; the completion ends with id 1 (the end-of-turn id).
    struct CharEncoder;

    impl PairEncoder for CharEncoder {
        type Image = Vec<f32>;
        fn encode_prompt(
            &self,
            q: &str,
            image: Option<&Path>,
        ) -> std::result::Result<(Vec<u32>, Option<Vec<f32>>), BoxError> {
            let img = image.map(|p| vec![std::fs::read(p).unwrap().len() as f32]);
            Ok((q.bytes().map(u32::from).collect(), img))
        }
        fn encode_completion(&self, a: &str) -> std::result::Result<Vec<u32>, BoxError> {
            if a.is_empty() {
                return Err("empty answer".into());
            }
            Ok(a.bytes().map(u32::from).chain([1]).collect())
        }
        fn pad_id(&self) -> u32 {
            0
        }
    }

    #[test]
    fn encodes_records_and_resolves_images_against_the_images_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("img")).unwrap();
        std::fs::write(dir.path().join("img/a.png"), b"xyz").unwrap();
        let file = dir.path().join("pairs.jsonl");
        std::fs::write(
            &file,
            "{\"id\":\"p1\",\"image\":\"a.png\",\"prompt\":\"Q\",\"chosen\":\"ab\",\"rejected\":\"b\",\"category\":\"color\",\"other\":1}\n\n{\"id\":\"p2\",\"image\":null,\"prompt\":\"R\",\"chosen\":\"c\",\"rejected\":\"d\"}\n",
        )
        .unwrap();
        let pairs = load_pairs(&file, Some(&dir.path().join("img")), &CharEncoder).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].prompt, vec![b'Q' as u32]);
        assert_eq!(pairs[0].chosen, vec![b'a' as u32, b'b' as u32, 1]);
        assert_eq!(pairs[0].image, Some(vec![3.0]));
        assert_eq!(pairs[1].image, None);
    }

    #[test]
    fn a_malformed_line_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pairs.jsonl");
        std::fs::write(
            &file,
            "{\"id\":\"p1\",\"image\":null,\"prompt\":\"Q\",\"chosen\":\"a\",\"rejected\":\"b\"}\n{\"id\":\"p2\",\"prompt\":\"Q\"}\n",
        )
        .unwrap();
        let err = load_pairs(&file, None, &CharEncoder)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pairs.jsonl:2"), "{err}");
        assert!(err.contains("chosen"), "{err}");
    }

    #[test]
    fn encoder_errors_and_missing_images_name_the_record() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pairs.jsonl");
        std::fs::write(
            &file,
            "{\"id\":\"p1\",\"image\":\"nope.png\",\"prompt\":\"Q\",\"chosen\":\"a\",\"rejected\":\"b\"}\n",
        )
        .unwrap();
        let err = load_pairs(&file, None, &CharEncoder)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pairs.jsonl:1") && err.contains("p1") && err.contains("nope.png"),
            "{err}"
        );
        std::fs::write(
            &file,
            "{\"id\":\"p9\",\"image\":null,\"prompt\":\"Q\",\"chosen\":\"\",\"rejected\":\"b\"}\n",
        )
        .unwrap();
        let err = load_pairs(&file, None, &CharEncoder)
            .unwrap_err()
            .to_string();
        assert!(err.contains("p9") && err.contains("empty answer"), "{err}");
    }
}
