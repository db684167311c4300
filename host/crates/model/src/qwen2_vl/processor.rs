//! The Qwen2-VL image processor: `smart_resize`, bicubic resize, rescale, normalise, temporal
//! repeat and patch flattening in exactly the reference order, plus `<|image_pad|>` expansion.
//!
//! The resize reproduces Pillow's `Image.resize(BICUBIC)` (which torchvision's antialiased uint8
//! bicubic also reproduces): separable, horizontal pass first, a = −0.5, support scaled by the
//! downscale factor, 22-bit fixed-point coefficients, uint8 intermediate.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/image_processing_qwen2_vl.py>,
//! Pillow `src/libImaging/Resample.c`.

use std::path::Path;

use serde::Deserialize;

use super::vision::GridThw;
use crate::common::rgb::composite_on_white;
use crate::error::{ModelError, Result};

/// `preprocessor_config.json`, both layouts (`min_pixels`/`max_pixels` or `size`).
#[derive(Debug, Clone, Deserialize)]
struct RawPreprocessor {
    min_pixels: Option<usize>,
    max_pixels: Option<usize>,
    size: Option<RawSize>,
    patch_size: Option<usize>,
    temporal_patch_size: Option<usize>,
    merge_size: Option<usize>,
    image_mean: Option<Vec<f32>>,
    image_std: Option<Vec<f32>>,
    rescale_factor: Option<f32>,
    do_resize: Option<bool>,
    do_rescale: Option<bool>,
    do_normalize: Option<bool>,
    resample: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawSize {
    shortest_edge: Option<usize>,
    longest_edge: Option<usize>,
    min_pixels: Option<usize>,
    max_pixels: Option<usize>,
}

/// Resolved image-processor settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageProcessor {
    pub min_pixels: usize,
    pub max_pixels: usize,
    pub patch_size: usize,
    pub temporal_patch_size: usize,
    pub merge_size: usize,
    pub image_mean: [f32; 3],
    pub image_std: [f32; 3],
    pub rescale_factor: f32,
    pub do_resize: bool,
    pub do_rescale: bool,
    pub do_normalize: bool,
}

/// A processed image.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedImage {
    /// `[t·h·w, C·T·P·P]` row-major.
    pub pixel_values: Vec<f32>,
    /// `[t, h, w]` in patches.
    pub grid: GridThw,
    /// Size after resizing (height, width).
    pub resized: (usize, usize),
}

impl ProcessedImage {
    /// Number of `<|image_pad|>` tokens this image takes.
    pub fn num_tokens(&self, merge: usize) -> usize {
        self.grid[0] * self.grid[1] * self.grid[2] / (merge * merge)
    }
}

// OpenAI CLIP statistics, digits as in transformers' `OPENAI_CLIP_MEAN`/`_STD`.
#[allow(clippy::excessive_precision)]
const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
#[allow(clippy::excessive_precision)]
const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

impl Default for ImageProcessor {
    fn default() -> Self {
        Self {
            min_pixels: 56 * 56,
            max_pixels: 28 * 28 * 1280,
            patch_size: 14,
            temporal_patch_size: 2,
            merge_size: 2,
            image_mean: CLIP_MEAN,
            image_std: CLIP_STD,
            rescale_factor: 1.0 / 255.0,
            do_resize: true,
            do_rescale: true,
            do_normalize: true,
        }
    }
}

fn three(v: Option<Vec<f32>>, default: [f32; 3], path: &Path, field: &str) -> Result<[f32; 3]> {
    match v {
        None => Ok(default),
        Some(v) if v.len() == 3 => Ok([v[0], v[1], v[2]]),
        Some(v) => Err(ModelError::Config {
            path: path.to_path_buf(),
            field: field.into(),
            message: format!("expected 3 values, found {}", v.len()),
        }),
    }
}

impl ImageProcessor {
    /// Reads `preprocessor_config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let raw: RawPreprocessor = serde_json::from_str(&text).map_err(|e| ModelError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let d = Self::default();
        let size = raw.size.as_ref();
        let min_pixels = raw
            .min_pixels
            .or(size.and_then(|s| s.shortest_edge.or(s.min_pixels)))
            .unwrap_or(d.min_pixels);
        let max_pixels = raw
            .max_pixels
            .or(size.and_then(|s| s.longest_edge.or(s.max_pixels)))
            .unwrap_or(d.max_pixels);
        if let Some(r) = raw.resample
            && r != 3
        {
            tracing::warn!(path = %path.display(), resample = r, "only bicubic (3) resampling is implemented; using bicubic");
        }
        let p = Self {
            min_pixels,
            max_pixels,
            patch_size: raw.patch_size.unwrap_or(d.patch_size),
            temporal_patch_size: raw.temporal_patch_size.unwrap_or(d.temporal_patch_size),
            merge_size: raw.merge_size.unwrap_or(d.merge_size),
            image_mean: three(raw.image_mean, CLIP_MEAN, path, "image_mean")?,
            image_std: three(raw.image_std, CLIP_STD, path, "image_std")?,
            rescale_factor: raw.rescale_factor.unwrap_or(d.rescale_factor),
            do_resize: raw.do_resize.unwrap_or(true),
            do_rescale: raw.do_rescale.unwrap_or(true),
            do_normalize: raw.do_normalize.unwrap_or(true),
        };
        if p.min_pixels > p.max_pixels {
            return Err(ModelError::Config {
                path: path.to_path_buf(),
                field: "min_pixels".into(),
                message: format!("{} exceeds max_pixels {}", p.min_pixels, p.max_pixels),
            });
        }
        Ok(p)
    }

    /// Opens, converts to RGB and processes an image file. Transparency is composited onto
    /// white, as transformers' `convert_to_rgb` does (dropping alpha would expose whatever
    /// colour transparent pixels happen to store).
    pub fn process_file(&self, path: &Path) -> Result<ProcessedImage> {
        let img = image::open(path).map_err(|e| ModelError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let rgb = if img.color().has_alpha() {
            composite_on_white(img.to_rgba8().as_raw())
        } else {
            img.to_rgb8().into_raw()
        };
        self.process_rgb(&rgb, h, w).map_err(|e| ModelError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Processes an RGB8 image given as `[height, width, 3]` bytes.
    pub fn process_rgb(&self, rgb: &[u8], height: usize, width: usize) -> Result<ProcessedImage> {
        if rgb.len() != height * width * 3 || height == 0 || width == 0 {
            return Err(ModelError::Input(format!(
                "{height}×{width} RGB image needs {} bytes, got {}",
                height * width * 3,
                rgb.len()
            )));
        }
        let factor = self.patch_size * self.merge_size;
        let (rh, rw) = if self.do_resize {
            smart_resize(height, width, factor, self.min_pixels, self.max_pixels)?
        } else {
            (height, width)
        };
        if rh % factor != 0 || rw % factor != 0 {
            return Err(ModelError::Input(format!(
                "image size {rh}×{rw} is not a multiple of {factor} (resize disabled)"
            )));
        }
        let resized = if (rh, rw) == (height, width) {
            rgb.to_vec()
        } else {
            resize_bicubic(rgb, height, width, rh, rw)
        };
        // Channel-planar floats [3, rh, rw].
        let mut planes = vec![0f32; 3 * rh * rw];
        for y in 0..rh {
            for x in 0..rw {
                for c in 0..3 {
                    let mut v = resized[(y * rw + x) * 3 + c] as f32;
                    if self.do_rescale {
                        v *= self.rescale_factor;
                    }
                    if self.do_normalize {
                        v = (v - self.image_mean[c]) / self.image_std[c];
                    }
                    planes[(c * rh + y) * rw + x] = v;
                }
            }
        }
        let (p, m, tp) = (self.patch_size, self.merge_size, self.temporal_patch_size);
        let (gh, gw) = (rh / p, rw / p);
        let patch_dim = 3 * tp * p * p;
        let mut out = Vec::with_capacity(gh * gw * patch_dim);
        // Patch order: merge blocks row-major, then the m×m patches inside; each patch flattens
        // (channel, time, row, col), the still image repeated `tp` times in time.
        for bh in 0..gh / m {
            for bw in 0..gw / m {
                for ih in 0..m {
                    for iw in 0..m {
                        let (py, px) = ((bh * m + ih) * p, (bw * m + iw) * p);
                        for c in 0..3 {
                            for _ in 0..tp {
                                for y in 0..p {
                                    let row = (c * rh + py + y) * rw + px;
                                    out.extend_from_slice(&planes[row..row + p]);
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(ProcessedImage {
            pixel_values: out,
            grid: [1, gh, gw],
            resized: (rh, rw),
        })
    }
}

fn round_half_even(x: f64) -> f64 {
    // Python's round(): ties to even.
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// Target size: both sides multiples of `factor`, area within `[min_pixels, max_pixels]`,
/// aspect ratio kept as closely as possible (`smart_resize` upstream).
pub fn smart_resize(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize)> {
    let (h, w, f) = (height as f64, width as f64, factor as f64);
    if h.max(w) / h.min(w) > 200.0 {
        return Err(ModelError::Input(format!(
            "absolute aspect ratio must be smaller than 200, got {}",
            h.max(w) / h.min(w)
        )));
    }
    let mut hb = round_half_even(h / f) * f;
    let mut wb = round_half_even(w / f) * f;
    if hb * wb > max_pixels as f64 {
        let beta = (h * w / max_pixels as f64).sqrt();
        hb = f.max((h / beta / f).floor() * f);
        wb = f.max((w / beta / f).floor() * f);
    } else if hb * wb < min_pixels as f64 {
        let beta = (min_pixels as f64 / (h * w)).sqrt();
        hb = (h * beta / f).ceil() * f;
        wb = (w * beta / f).ceil() * f;
    }
    Ok((hb as usize, wb as usize))
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

fn bicubic_filter(x: f64) -> f64 {
    let a = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * a
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: per output pixel, the first input
/// index and fixed-point weights.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 2.0 * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let mut w: Vec<f64> = (xmin..xmax)
                .map(|x| bicubic_filter((x as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = w.iter().sum();
            if total != 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            let fixed = w
                .iter()
                .map(|&v| {
                    let s = v * (1u32 << PRECISION_BITS) as f64;
                    (if v < 0.0 { s - 0.5 } else { s + 0.5 }) as i32
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Bicubic resize of an RGB8 image, bit-exact with Pillow (horizontal pass, then vertical).
pub fn resize_bicubic(rgb: &[u8], h: usize, w: usize, oh: usize, ow: usize) -> Vec<u8> {
    let half = 1i64 << (PRECISION_BITS - 1);
    let tmp = if ow != w {
        let coeffs = coefficients(w, ow);
        let mut tmp = vec![0u8; h * ow * 3];
        for y in 0..h {
            for (x, (xmin, k)) in coeffs.iter().enumerate() {
                for c in 0..3 {
                    let mut acc = half;
                    for (i, kv) in k.iter().enumerate() {
                        acc += rgb[(y * w + xmin + i) * 3 + c] as i64 * *kv as i64;
                    }
                    tmp[(y * ow + x) * 3 + c] = clip8(acc);
                }
            }
        }
        tmp
    } else {
        rgb.to_vec()
    };
    if oh == h {
        return tmp;
    }
    let coeffs = coefficients(h, oh);
    let mut out = vec![0u8; oh * ow * 3];
    for (y, (ymin, k)) in coeffs.iter().enumerate() {
        for x in 0..ow {
            for c in 0..3 {
                let mut acc = half;
                for (i, kv) in k.iter().enumerate() {
                    acc += tmp[((ymin + i) * ow + x) * 3 + c] as i64 * *kv as i64;
                }
                out[(y * ow + x) * 3 + c] = clip8(acc);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_smart_resize_rounds_to_factor_and_respects_bounds() {
        assert_eq!(smart_resize(56, 84, 28, 3136, 1_000_000).unwrap(), (56, 84));
        // 70/28 = 2.5 rounds to even, like Python's round().
        assert_eq!(smart_resize(50, 70, 28, 3136, 1_000_000).unwrap(), (56, 56));
        // Too large: scaled down below max_pixels.
        let (h, w) = smart_resize(1000, 2000, 28, 3136, 28 * 28 * 16).unwrap();
        assert!(
            h * w <= 28 * 28 * 16 && h % 28 == 0 && w % 28 == 0,
            "{h}×{w}"
        );
        // Too small: scaled up to at least min_pixels.
        let (h, w) = smart_resize(10, 10, 28, 3136, 1_000_000).unwrap();
        assert!(h * w >= 3136, "{h}×{w}");
        assert!(smart_resize(1, 300, 28, 1, 1_000_000).is_err());
    }

    #[test]
    fn test_resize_of_constant_image_stays_constant() {
        let img = vec![77u8; 10 * 12 * 3];
        let out = resize_bicubic(&img, 10, 12, 28, 28);
        assert!(out.iter().all(|&v| v == 77));
    }

    #[test]
    fn test_patch_count_and_grid_follow_the_resized_size() {
        let p = ImageProcessor::default();
        let img = vec![0u8; 56 * 84 * 3];
        let out = p.process_rgb(&img, 56, 84).unwrap();
        assert_eq!(out.grid, [1, 4, 6]);
        assert_eq!(out.pixel_values.len(), 24 * 1176);
        assert_eq!(out.num_tokens(2), 6);
    }

    /// Half-transparent (200, 100, 0, α=128) blends onto white as 200·128/255 + 255·127/255
    /// ≈ 227.4 → 227, 177.2 → 177, 127.0 → 127 (Pillow's fixed point truncates); fully
    /// transparent pixels become white whatever colour they store.
    #[test]
    fn test_rgba_file_is_composited_onto_white() {
        let (h, w) = (56usize, 56usize);
        let mut rgba = Vec::with_capacity(h * w * 4);
        let mut want = Vec::with_capacity(h * w * 3);
        for _ in 0..h {
            for x in 0..w {
                if x < w / 2 {
                    rgba.extend_from_slice(&[200, 100, 0, 128]);
                    want.extend_from_slice(&[227, 177, 127]);
                } else {
                    rgba.extend_from_slice(&[9, 9, 9, 0]);
                    want.extend_from_slice(&[255, 255, 255]);
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rgba.png");
        image::RgbaImage::from_raw(w as u32, h as u32, rgba)
            .unwrap()
            .save(&path)
            .unwrap();
        let p = ImageProcessor::default();
        let got = p.process_file(&path).unwrap();
        let expected = p.process_rgb(&want, h, w).unwrap();
        assert_eq!(got.grid, expected.grid);
        assert_eq!(got.pixel_values, expected.pixel_values);
    }
}
