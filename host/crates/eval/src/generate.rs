//! The seam between the harness and a model: a [`Generator`] turns a batch of prompts with
//! images into texts. The runner owns batching, resuming and scoring; a model only has to
//! decode. The KV-cache decoder of `vapr-model` plugs in here.

use crate::image_data::ImageData;
use crate::item::GenParams;

/// Error type a generator may return; the runner wraps it with the failing item.
pub type GenError = Box<dyn std::error::Error + Send + Sync>;

/// One prompt of a batch.
#[derive(Debug, Clone, Copy)]
pub struct GenRequest<'a> {
    /// The item id (for error messages and logs).
    pub id: &'a str,
    /// The user text; the generator applies its own chat template around it.
    pub prompt: &'a str,
    /// The item's images, placed before the text (as the lmms-eval Qwen classes do).
    pub images: &'a [ImageData],
}

/// A model that answers prompts. Implementations decode greedily unless configured
/// otherwise, stop on EOS, on any of `params.stop` (not included in the output) or after
/// `params.max_new_tokens` tokens.
pub trait Generator {
    /// An identifier of the model recorded with the results (e.g. its directory and revision).
    fn model_id(&self) -> String;

    /// One output per request, in order.
    fn generate(
        &mut self,
        batch: &[GenRequest<'_>],
        params: &GenParams,
    ) -> Result<Vec<String>, GenError>;
}

/// A generator from a closure, for scripted outputs in tests and for wrapping external
/// engines.
pub struct FnGenerator<F> {
    id: String,
    f: F,
}

impl<F> FnGenerator<F>
where
    F: FnMut(&GenRequest<'_>) -> String,
{
    /// A generator called `id` that answers each request with `f`.
    pub fn new(id: impl Into<String>, f: F) -> Self {
        Self { id: id.into(), f }
    }
}

impl<F> Generator for FnGenerator<F>
where
    F: FnMut(&GenRequest<'_>) -> String,
{
    fn model_id(&self) -> String {
        self.id.clone()
    }
    fn generate(
        &mut self,
        batch: &[GenRequest<'_>],
        _params: &GenParams,
    ) -> Result<Vec<String>, GenError> {
        Ok(batch.iter().map(|r| (self.f)(r)).collect())
    }
}

/// Cuts `text` at the first stop string. The runner applies it to every output, so a
/// generator that overshoots a stop string (e.g. one decoded token past it) is still scored
/// as if it had stopped.
pub fn truncate_at_stop<'a>(text: &'a str, stop: &[String]) -> &'a str {
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
        .unwrap_or(text.len());
    &text[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_truncate_at_earliest_stop() {
        let stop = vec!["\n\n".to_string(), "###".to_string()];
        assert_eq!(truncate_at_stop("A\n\nmore ### x", &stop), "A");
        assert_eq!(truncate_at_stop("B ### \n\n", &stop), "B ");
        assert_eq!(truncate_at_stop("C", &stop), "C");
        assert_eq!(truncate_at_stop("C", &[]), "C");
    }
}
