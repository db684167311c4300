//! Benchmark images as they come out of the files: still encoded (PNG/JPEG bytes) or a path.
//! Decoding is left to the model's image processor (`ImageData::to_rgb` helps), so loading
//! 9,000 POPE rows does not decode 9,000 images up front.

use std::path::PathBuf;

use crate::error::{EvalError, Result};

/// One image of a benchmark item.
#[derive(Clone, PartialEq, Eq)]
pub enum ImageData {
    /// The encoded file (PNG, JPEG, …) as stored in a parquet `{bytes, path}` struct or a
    /// base64 TSV cell.
    Encoded(Vec<u8>),
    /// A file on disk (an HF image struct with `bytes = null`, or MMVP's image folder).
    File(PathBuf),
}

impl std::fmt::Debug for ImageData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageData::Encoded(bytes) => write!(f, "Encoded({} bytes)", bytes.len()),
            ImageData::File(path) => write!(f, "File({})", path.display()),
        }
    }
}

impl ImageData {
    /// The encoded bytes (reads the file for `File`).
    pub fn bytes(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            ImageData::Encoded(bytes) => Ok(std::borrow::Cow::Borrowed(bytes)),
            ImageData::File(path) => std::fs::read(path)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| EvalError::io(path, e)),
        }
    }

    /// Decodes to RGB, as every harness does before preprocessing.
    pub fn to_rgb(&self) -> Result<image::RgbImage> {
        let what = match self {
            ImageData::Encoded(bytes) => format!("({} encoded bytes)", bytes.len()),
            ImageData::File(path) => path.display().to_string(),
        };
        let bytes = self.bytes()?;
        image::load_from_memory(&bytes)
            .map(|img| img.to_rgb8())
            .map_err(|source| EvalError::Image { what, source })
    }
}
