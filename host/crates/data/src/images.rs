//! Image helpers: decoding to RGB with errors that name the file, and writing embedded
//! image bytes to an image directory under a stable, content-addressed name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::error::DataError;

/// Decodes the image at `path` (PNG or JPEG) to 8-bit RGB (alpha dropped, grey expanded).
pub fn load_rgb(path: &Path) -> Result<RgbImage, DataError> {
    let bytes = fs::read(path).map_err(|e| DataError::Image {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    decode_rgb(&bytes, path)
}

/// Decodes image bytes to RGB; `name` only labels errors.
pub fn decode_rgb(bytes: &[u8], name: &Path) -> Result<RgbImage, DataError> {
    let img = image::load_from_memory(bytes).map_err(|e| DataError::Image {
        path: name.to_path_buf(),
        detail: format!("cannot decode: {e}"),
    })?;
    Ok(img.to_rgb8())
}

/// File extension for image bytes, from their magic number.
fn extension_of(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "png",
        Ok(image::ImageFormat::Jpeg) => "jpg",
        Ok(image::ImageFormat::WebP) => "webp",
        Ok(image::ImageFormat::Gif) => "gif",
        Ok(image::ImageFormat::Bmp) => "bmp",
        Ok(image::ImageFormat::Tiff) => "tiff",
        _ => "img",
    }
}

/// The stable file name of embedded image bytes: the id made file-safe, then the first 16
/// hex digits of the bytes' SHA-256 (so equal ids with different images never collide),
/// then the format's extension.
pub fn materialised_name(bytes: &[u8], id: &str) -> String {
    let hash = hex::encode(Sha256::digest(bytes));
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{safe}-{}.{}", &hash[..16], extension_of(bytes))
}

/// Writes `bytes` to `dir/<materialised_name>` unless that file already exists (same name
/// means same content), and returns the path. The write goes through a temporary file and
/// a rename, so a killed run never leaves a half-written image under the final name.
pub fn materialise(bytes: &[u8], id: &str, dir: &Path) -> Result<PathBuf, DataError> {
    let path = dir.join(materialised_name(bytes, id));
    if path.is_file() {
        return Ok(path);
    }
    fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(|e| DataError::write(&tmp, e))?;
    f.write_all(bytes).map_err(|e| DataError::write(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| DataError::write(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes() -> Vec<u8> {
        let img = RgbImage::from_pixel(3, 2, image::Rgb([10, 20, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn materialise_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = png_bytes();
        let a = materialise(&bytes, "coco/0001 x", dir.path()).unwrap();
        let b = materialise(&bytes, "coco/0001 x", dir.path()).unwrap();
        assert_eq!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("coco_0001_x-") && name.ends_with(".png"),
            "{name}"
        );
        let img = load_rgb(&a).unwrap();
        assert_eq!(img.get_pixel(2, 1).0, [10, 20, 30]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn corrupt_image_error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("broken.png");
        std::fs::write(&p, b"\x89PNG\r\n\x1a\nnot really").unwrap();
        let err = load_rgb(&p).unwrap_err().to_string();
        assert!(err.contains("broken.png"), "{err}");
        let missing = load_rgb(&dir.path().join("nope.jpg"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.jpg"), "{missing}");
    }
}
