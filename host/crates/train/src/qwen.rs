//! Qwen2-VL names of the family-neutral trainer types in [`crate::vlm`], for code that holds
//! the Qwen2-VL-typed [`LoadedModel`] of `vapr_model::load_model_dir`: the lazy pair encoder,
//! [`QwenSetup`] (layout and processor as Qwen2-VL types) and [`QwenPolicy`] (= [`VlmPolicy`]).
//! New code uses [`crate::vlm`] with `vapr_model::load_any_model_dir`, which covers every family.

use std::path::{Path, PathBuf};

use burn::tensor::DType;
use burn::tensor::backend::Backend;
use vapr_model::{AnyImage, AnyProcessor, HfLayout, ImageProcessor, LoadedModel, ModelLayout};

use crate::config::{FreezeSection, LoraSection};
use crate::data::PairEncoder;
use crate::error::BoxError;
pub use crate::vlm::ImageRef;
use crate::vlm::{PolicySetup, VlmPolicy};

/// A Qwen2-VL model as the trainer trains it (the family-neutral policy).
pub type QwenPolicy<B> = VlmPolicy<B>;

/// Encodes pairs with a Qwen2-VL folder, keeping only an [`ImageRef`] per pair.
pub struct QwenLazyEncoder<'a, B: Backend>(pub &'a LoadedModel<B>);

impl<B: Backend> PairEncoder for QwenLazyEncoder<'_, B> {
    type Image = ImageRef;

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<ImageRef>), BoxError> {
        let images = match image {
            Some(p) => vec![self.0.processor.process_file(p)?],
            None => Vec::new(),
        };
        let ids = self.0.prompt_ids(question, &images)?;
        let image = image.zip(images.first()).map(|(path, p)| ImageRef {
            path: path.to_path_buf(),
            grid: AnyImage::Qwen2Vl(p.clone()).grid(self.0.config.vision.patch_size),
        });
        Ok((ids, image))
    }

    fn encode_completion(&self, answer: &str) -> Result<Vec<u32>, BoxError> {
        Ok(self.0.completion_ids(answer)?)
    }

    fn pad_id(&self) -> u32 {
        self.0.chat.end_of_turn_id
    }
}

/// [`PolicySetup`] with the Qwen2-VL layout and processor types.
#[derive(Debug, Clone)]
pub struct QwenSetup {
    pub layout: HfLayout,
    /// The folder the base model came from (side files are copied from it).
    pub source: PathBuf,
    pub dtype: DType,
    pub freeze: FreezeSection,
    pub lora: Option<LoraSection>,
    pub processor: ImageProcessor,
}

impl From<QwenSetup> for PolicySetup {
    fn from(s: QwenSetup) -> Self {
        PolicySetup {
            layout: ModelLayout::Qwen2Vl(s.layout),
            source: s.source,
            dtype: s.dtype,
            freeze: s.freeze,
            lora: s.lora,
            processor: AnyProcessor::Qwen2Vl(s.processor),
        }
    }
}
