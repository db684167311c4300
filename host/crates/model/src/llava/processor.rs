//! The LLaVA-1.5 image processor (transformers' `CLIPImageProcessor`, as llava-hf checkpoints
//! name it) and the `<image>` token count of `LlavaProcessor`.
//!
//! Steps, in the reference order: convert to RGB (transparency composited onto white), optionally
//! pad to a square in the mean colour (the original LLaVA-1.5 `expand2square`, transformers'
//! `LlavaImageProcessor(do_pad=True)`), resize so the shortest edge is `size.shortest_edge`
//! (or to exactly `size.{height,width}`), centre-crop to `crop_size` (zero-padding an image
//! smaller than the crop), rescale (`×rescale_factor`, via f64 like NumPy) and normalise
//! (`(x − mean) / std` in f32). The output is `pixel_values[0]`: CHW f32, `[3, H, W]`.
//!
//! **Which resize.** transformers 5.24 picks the torchvision backend of `CLIPImageProcessor`
//! when torchvision is installed and the PIL backend otherwise. vapr reproduces the PIL backend
//! (Pillow's bicubic, bit-exact; the preprocessing LLaVA was trained with). Measured on the
//! fixtures (`tools/fixtures/make_llava_processor.py`): torch's antialiased uint8 bicubic (the
//! torchvision backend on CPU) differs from Pillow by at most 1 uint8 level (≈0.015 after
//! normalisation), the float path (the torchvision backend on GPU) by up to 4 levels.
//!
//! Upstream: transformers `models/clip/image_processing_pil_clip.py`,
//! `models/llava/image_processing_pil_llava.py`, `models/llava/processing_llava.py`,
//! `image_transforms.py`; haotian-liu/LLaVA `llava/mm_utils.py` (`expand2square`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

pub use crate::common::rgb::composite_on_white;
use crate::error::{ModelError, Result};
use crate::qwen2_vl::resize_bicubic;

// OpenAI CLIP statistics, as transformers' `OPENAI_CLIP_MEAN`/`_STD` (Python floats).
const CLIP_MEAN: [f64; 3] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [f64; 3] = [0.26862954, 0.26130258, 0.27577711];
/// PIL's `Image.BICUBIC`, the only resampling filter implemented.
const BICUBIC: u32 = 3;

/// Target of the resize step (`size` in `preprocessor_config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTarget {
    /// Scale so the shorter side equals this, keeping the aspect ratio (truncating the other).
    ShortestEdge(usize),
    /// Resize to exactly this size.
    Exact { height: usize, width: usize },
}

/// Resolved CLIP image-processor settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipProcessor {
    pub do_resize: bool,
    pub size: ResizeTarget,
    pub do_center_crop: bool,
    /// `(height, width)` of the centre crop.
    pub crop_size: (usize, usize),
    pub do_rescale: bool,
    pub rescale_factor: f64,
    pub do_normalize: bool,
    pub image_mean: [f64; 3],
    pub image_std: [f64; 3],
    /// Composite transparent images onto white before processing (transformers' default).
    pub do_convert_rgb: bool,
    /// Pad to a square in the mean colour (`int(mean × 255)` per channel) before resizing: the
    /// original LLaVA-1.5 preprocessing. Off for llava-hf configs (`CLIPImageProcessor`); on for
    /// `LlavaImageProcessor` configs with `do_pad: true`; settable with
    /// [`ClipProcessor::with_pad_to_square`].
    pub pad_to_square: bool,
}

/// One processed image: `pixels` is `[3, height, width]` row-major (transformers'
/// `pixel_values[0]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClipImage {
    pub pixels: Vec<f32>,
    pub height: usize,
    pub width: usize,
}

impl ClipImage {
    /// Stacks images into transformers' batched `pixel_values`: `[n, 3, h, w]` row-major.
    /// Errors when sizes differ (the CLIP tower takes one fixed size).
    pub fn stack(images: &[ClipImage]) -> Result<(Vec<f32>, [usize; 4])> {
        let Some(first) = images.first() else {
            return Ok((Vec::new(), [0, 3, 0, 0]));
        };
        let (h, w) = (first.height, first.width);
        if let Some((i, o)) = images
            .iter()
            .enumerate()
            .find(|(_, o)| (o.height, o.width) != (h, w))
        {
            return Err(ModelError::Input(format!(
                "image {i} is {}×{} but image 0 is {h}×{w}: processed images must share one size",
                o.height, o.width
            )));
        }
        let values = images
            .iter()
            .flat_map(|i| i.pixels.iter().copied())
            .collect();
        Ok((values, [images.len(), 3, h, w]))
    }
}

impl Default for ClipProcessor {
    /// The settings of llava-hf/llava-1.5-7b-hf (336 px).
    fn default() -> Self {
        Self {
            do_resize: true,
            size: ResizeTarget::ShortestEdge(336),
            do_center_crop: true,
            crop_size: (336, 336),
            do_rescale: true,
            rescale_factor: 1.0 / 255.0,
            do_normalize: true,
            image_mean: CLIP_MEAN,
            image_std: CLIP_STD,
            do_convert_rgb: true,
            pad_to_square: false,
        }
    }
}

/// `preprocessor_config.json` of a CLIP/LLaVA image processor, current and older spellings.
#[derive(Debug, Deserialize)]
struct RawClipConfig {
    image_processor_type: Option<String>,
    feature_extractor_type: Option<String>,
    do_resize: Option<bool>,
    size: Option<Value>,
    resample: Option<u32>,
    do_center_crop: Option<bool>,
    crop_size: Option<Value>,
    do_rescale: Option<bool>,
    rescale_factor: Option<f64>,
    do_normalize: Option<bool>,
    image_mean: Option<Value>,
    image_std: Option<Value>,
    do_convert_rgb: Option<bool>,
    do_pad: Option<bool>,
}

fn config_err(path: &Path, field: &str, message: impl Into<String>) -> ModelError {
    ModelError::Config {
        path: path.to_path_buf(),
        field: field.into(),
        message: message.into(),
    }
}

fn positive(v: &Value, path: &Path, field: &str) -> Result<usize> {
    v.as_u64()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .ok_or_else(|| {
            config_err(
                path,
                field,
                format!("expected a positive integer, found {v}"),
            )
        })
}

/// `size`: an int means the shortest edge (CLIP's `default_to_square = False`); a dict holds
/// `shortest_edge` or `height` + `width`; a list is `[height, width]`.
fn parse_size(v: &Value, path: &Path) -> Result<ResizeTarget> {
    match v {
        Value::Number(_) => Ok(ResizeTarget::ShortestEdge(positive(v, path, "size")?)),
        Value::Array(a) if a.len() == 2 => Ok(ResizeTarget::Exact {
            height: positive(&a[0], path, "size[0]")?,
            width: positive(&a[1], path, "size[1]")?,
        }),
        Value::Object(o) => {
            if o.get("longest_edge").is_some_and(|l| !l.is_null()) {
                return Err(config_err(
                    path,
                    "size.longest_edge",
                    "a longest-edge bound is not supported by the CLIP processor (use shortest_edge, or height and width)",
                ));
            }
            match (o.get("shortest_edge"), o.get("height"), o.get("width")) {
                (Some(s), _, _) if !s.is_null() => Ok(ResizeTarget::ShortestEdge(positive(
                    s,
                    path,
                    "size.shortest_edge",
                )?)),
                (_, Some(h), Some(w)) => Ok(ResizeTarget::Exact {
                    height: positive(h, path, "size.height")?,
                    width: positive(w, path, "size.width")?,
                }),
                _ => Err(config_err(
                    path,
                    "size",
                    format!("expected `shortest_edge` or `height` and `width`, found {v}"),
                )),
            }
        }
        _ => Err(config_err(
            path,
            "size",
            format!("expected an integer, [height, width] or an object, found {v}"),
        )),
    }
}

/// `crop_size`: an int means a square; a dict holds `height` + `width`; a list is
/// `[height, width]`.
fn parse_crop(v: &Value, path: &Path) -> Result<(usize, usize)> {
    match v {
        Value::Number(_) => {
            let s = positive(v, path, "crop_size")?;
            Ok((s, s))
        }
        Value::Array(a) if a.len() == 2 => Ok((
            positive(&a[0], path, "crop_size[0]")?,
            positive(&a[1], path, "crop_size[1]")?,
        )),
        Value::Object(o) => match (o.get("height"), o.get("width")) {
            (Some(h), Some(w)) => Ok((
                positive(h, path, "crop_size.height")?,
                positive(w, path, "crop_size.width")?,
            )),
            _ => Err(config_err(
                path,
                "crop_size",
                format!("expected `height` and `width`, found {v}"),
            )),
        },
        _ => Err(config_err(
            path,
            "crop_size",
            format!("expected an integer, [height, width] or an object, found {v}"),
        )),
    }
}

/// `image_mean` / `image_std`: three numbers, or one number for all channels.
fn parse_three(v: Option<&Value>, default: [f64; 3], path: &Path, field: &str) -> Result<[f64; 3]> {
    let bad = || config_err(path, field, "expected a number or 3 numbers");
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => n.as_f64().map(|x| [x; 3]).ok_or_else(bad),
        Some(Value::Array(a)) if a.len() == 3 => {
            let mut out = [0.0; 3];
            for (o, x) in out.iter_mut().zip(a) {
                *o = x.as_f64().ok_or_else(bad)?;
            }
            Ok(out)
        }
        Some(Value::Array(a)) => Err(config_err(
            path,
            field,
            format!("expected 3 values, found {}", a.len()),
        )),
        Some(_) => Err(bad()),
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl ClipProcessor {
    /// Reads a `preprocessor_config.json` (llava-hf's `CLIPImageProcessor`, a
    /// `LlavaImageProcessor`, or an old `CLIPFeatureExtractor` with integer `size`/`crop_size`).
    /// Missing fields take transformers' CLIP class defaults.
    pub fn from_file(path: &Path) -> Result<Self> {
        let raw: RawClipConfig =
            serde_json::from_value(read_json(path)?).map_err(|e| ModelError::Json {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        if let Some(r) = raw.resample
            && r != BICUBIC
        {
            return Err(config_err(
                path,
                "resample",
                format!("{r} is not supported: only bicubic (3) resampling is implemented"),
            ));
        }
        // transformers' class defaults (shortest edge 224, crop 224) for absent fields.
        let size = raw
            .size
            .as_ref()
            .map(|v| parse_size(v, path))
            .transpose()?
            .unwrap_or(ResizeTarget::ShortestEdge(224));
        let crop_size = raw
            .crop_size
            .as_ref()
            .map(|v| parse_crop(v, path))
            .transpose()?
            .unwrap_or((224, 224));
        // Only `LlavaImageProcessor` reads `do_pad` as pad-to-square; for the CLIP class it
        // pads a batch to a common size, a no-op for the single images processed here.
        let kind = raw
            .image_processor_type
            .as_deref()
            .or(raw.feature_extractor_type.as_deref())
            .unwrap_or("");
        let pad_to_square = kind.starts_with("LlavaImageProcessor") && raw.do_pad == Some(true);
        let me = Self {
            do_resize: raw.do_resize.unwrap_or(true),
            size,
            do_center_crop: raw.do_center_crop.unwrap_or(true),
            crop_size,
            do_rescale: raw.do_rescale.unwrap_or(true),
            rescale_factor: raw.rescale_factor.unwrap_or(1.0 / 255.0),
            do_normalize: raw.do_normalize.unwrap_or(true),
            image_mean: parse_three(raw.image_mean.as_ref(), CLIP_MEAN, path, "image_mean")?,
            image_std: parse_three(raw.image_std.as_ref(), CLIP_STD, path, "image_std")?,
            do_convert_rgb: raw.do_convert_rgb.unwrap_or(true),
            pad_to_square,
        };
        if me.do_normalize
            && let Some(c) = me.image_std.iter().position(|&s| s == 0.0)
        {
            return Err(config_err(
                path,
                "image_std",
                format!("channel {c} is 0 (division by zero)"),
            ));
        }
        Ok(me)
    }

    /// The processor of a model folder: its `preprocessor_config.json`, else the llava-hf
    /// defaults ([`ClipProcessor::default`]).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("preprocessor_config.json");
        if path.exists() {
            Self::from_file(&path)
        } else {
            Ok(Self::default())
        }
    }

    /// Switches the original LLaVA-1.5 pad-to-square preprocessing on or off.
    pub fn with_pad_to_square(mut self, on: bool) -> Self {
        self.pad_to_square = on;
        self
    }

    /// `(height, width)` of the output for an input of this size.
    pub fn output_size(&self, height: usize, width: usize) -> (usize, usize) {
        let (h, w) = if self.pad_to_square {
            let s = height.max(width);
            (s, s)
        } else {
            (height, width)
        };
        let (h, w) = if self.do_resize {
            resized_size(h, w, self.size)
        } else {
            (h, w)
        };
        if self.do_center_crop {
            self.crop_size
        } else {
            (h, w)
        }
    }

    /// Opens an image file, converts it to RGB (transparency onto white) and processes it.
    pub fn process_file(&self, path: &Path) -> Result<ClipImage> {
        let img = image::open(path).map_err(|e| ModelError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let rgb = if self.do_convert_rgb && img.color().has_alpha() {
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
    pub fn process_rgb(&self, rgb: &[u8], height: usize, width: usize) -> Result<ClipImage> {
        if height == 0 || width == 0 || rgb.len() != height * width * 3 {
            return Err(ModelError::Input(format!(
                "{height}×{width} RGB image needs {} bytes, got {}",
                height * width * 3,
                rgb.len()
            )));
        }
        let (mut img, mut h, mut w) = (rgb.to_vec(), height, width);
        if self.pad_to_square && h != w {
            (img, h, w) = (self.pad_square(&img, h, w), h.max(w), h.max(w));
        }
        if self.do_resize {
            let (rh, rw) = resized_size(h, w, self.size);
            if (rh, rw) != (h, w) {
                // Pillow returns an unchanged copy for an equal size: exact pixels.
                img = resize_bicubic(&img, h, w, rh, rw);
                (h, w) = (rh, rw);
            }
        }
        if self.do_center_crop {
            let (ch, cw) = self.crop_size;
            img = center_crop(&img, h, w, ch, cw);
            (h, w) = (ch, cw);
        }
        Ok(ClipImage {
            pixels: self.to_planes(&img, h, w),
            height: h,
            width: w,
        })
    }

    /// `expand2square`: the image centred on a square canvas of `int(mean × 255)`.
    fn pad_square(&self, img: &[u8], h: usize, w: usize) -> Vec<u8> {
        let side = h.max(w);
        let fill = self.image_mean.map(|m| (m * 255.0) as u8);
        let mut out: Vec<u8> = fill.iter().copied().cycle().take(side * side * 3).collect();
        let (top, left) = ((side - h) / 2, (side - w) / 2);
        for y in 0..h {
            let dst = ((top + y) * side + left) * 3;
            out[dst..dst + w * 3].copy_from_slice(&img[y * w * 3..(y + 1) * w * 3]);
        }
        out
    }

    /// HWC uint8 → CHW f32 with rescale (f64, then f32, like NumPy) and normalise (f32).
    fn to_planes(&self, img: &[u8], h: usize, w: usize) -> Vec<f32> {
        let mean = self.image_mean.map(|m| m as f32);
        let std = self.image_std.map(|s| s as f32);
        let mut out = vec![0f32; 3 * h * w];
        for (i, px) in img.chunks_exact(3).enumerate() {
            for c in 0..3 {
                let mut v = if self.do_rescale {
                    (px[c] as f64 * self.rescale_factor) as f32
                } else {
                    px[c] as f32
                };
                if self.do_normalize {
                    v = (v - mean[c]) / std[c];
                }
                out[c * h * w + i] = v;
            }
        }
        out
    }
}

/// Output size of the resize step (transformers' `get_resize_output_image_size` with
/// `default_to_square = False`: the long side is truncated, not rounded).
pub fn resized_size(height: usize, width: usize, target: ResizeTarget) -> (usize, usize) {
    match target {
        ResizeTarget::Exact { height, width } => (height, width),
        ResizeTarget::ShortestEdge(s) => {
            let (short, long) = if width <= height {
                (width, height)
            } else {
                (height, width)
            };
            let new_long = ((s * long) as f64 / short as f64) as usize;
            if width <= height {
                (new_long, s)
            } else {
                (s, new_long)
            }
        }
    }
}

/// Centre crop of an HWC uint8 image; an image smaller than the crop is zero-padded first
/// (transformers' NumPy `center_crop`: the odd pixel of padding goes to the top/left).
pub fn center_crop(img: &[u8], h: usize, w: usize, ch: usize, cw: usize) -> Vec<u8> {
    // Offset of the crop window in the image, floor((size − crop) / 2): negative where the
    // image is smaller than the crop, which centres it with ceil(…) pixels of padding before.
    let offset = |size: usize, crop: usize| (size as i64 - crop as i64).div_euclid(2);
    let (top, left) = (offset(h, ch), offset(w, cw));
    let mut out = vec![0u8; ch * cw * 3];
    for y in 0..ch {
        let sy = top + y as i64;
        if sy < 0 || sy >= h as i64 {
            continue;
        }
        for x in 0..cw {
            let sx = left + x as i64;
            if sx < 0 || sx >= w as i64 {
                continue;
            }
            let (d, s) = ((y * cw + x) * 3, ((sy as usize) * w + sx as usize) * 3);
            out[d..d + 3].copy_from_slice(&img[s..s + 3]);
        }
    }
    out
}

/// How `LlavaProcessor` expands each `<image>` placeholder: `(H / patch)·(W / patch)` patch
/// tokens plus `num_additional_image_tokens` (CLIP's class token), minus one when
/// `vision_feature_select_strategy` is `"default"` (the class token is dropped). For llava-hf
/// 336 px checkpoints: 24·24 + 1 − 1 = 576 = `image_seq_length`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTokens {
    /// The placeholder the chat template writes (`<image>`).
    pub image_token: String,
    pub patch_size: usize,
    pub num_additional_image_tokens: usize,
    /// `vision_feature_select_strategy == "default"`.
    pub drop_cls: bool,
}

impl ImageTokens {
    /// Reads `processor_config.json` (llava-hf: `image_token`, `patch_size`,
    /// `num_additional_image_tokens`, `vision_feature_select_strategy`) with `config.json`
    /// (`vision_config.patch_size`, `vision_feature_select_strategy`) as the fallback for folders
    /// without one (then the class token counts as the one additional token). When
    /// `config.json` has `image_seq_length` and `processor` always produces the same size, the
    /// two must agree: a mismatch is an error here, not a shape error in the model later.
    pub fn from_dir(dir: &Path, processor: &ClipProcessor) -> Result<Self> {
        let read_opt = |name: &str| -> Result<(PathBuf, Value)> {
            let p = dir.join(name);
            let v = if p.exists() {
                read_json(&p)?
            } else {
                Value::Null
            };
            Ok((p, v))
        };
        let (proc_path, proc_cfg) = read_opt("processor_config.json")?;
        let (cfg_path, cfg) = read_opt("config.json")?;
        let image_token = match &proc_cfg["image_token"] {
            Value::Null => "<image>".to_string(),
            Value::String(s) => s.clone(),
            v => {
                return Err(config_err(
                    &proc_path,
                    "image_token",
                    format!("expected a string, found {v}"),
                ));
            }
        };
        let (patch_size, num_additional_image_tokens) = match &proc_cfg["patch_size"] {
            Value::Null => {
                let p = &cfg["vision_config"]["patch_size"];
                if p.is_null() {
                    return Err(config_err(
                        &proc_path,
                        "patch_size",
                        format!(
                            "not set, and {} has no `vision_config.patch_size` either",
                            cfg_path.display()
                        ),
                    ));
                }
                (positive(p, &cfg_path, "vision_config.patch_size")?, 1)
            }
            p => {
                let extra = match &proc_cfg["num_additional_image_tokens"] {
                    Value::Null => 0,
                    v => v.as_u64().ok_or_else(|| {
                        config_err(
                            &proc_path,
                            "num_additional_image_tokens",
                            format!("expected an integer, found {v}"),
                        )
                    })? as usize,
                };
                (positive(p, &proc_path, "patch_size")?, extra)
            }
        };
        let (strategy, strategy_path) = match &proc_cfg["vision_feature_select_strategy"] {
            Value::Null => (&cfg["vision_feature_select_strategy"], &cfg_path),
            v => (v, &proc_path),
        };
        let drop_cls = match strategy {
            Value::Null => true,
            Value::String(s) if s == "default" => true,
            Value::String(s) if s == "full" => false,
            v => {
                return Err(config_err(
                    strategy_path,
                    "vision_feature_select_strategy",
                    format!("expected \"default\" or \"full\", found {v}"),
                ));
            }
        };
        let me = Self {
            image_token,
            patch_size,
            num_additional_image_tokens,
            drop_cls,
        };
        if let Some(n) = cfg["image_seq_length"].as_u64() {
            let (a, b) = (
                processor.output_size(300, 450),
                processor.output_size(450, 300),
            );
            if a == b && me.count(a.0, a.1) != n as usize {
                return Err(config_err(
                    &cfg_path,
                    "image_seq_length",
                    format!(
                        "{n}, but the image processor makes {}×{} images, which give {} `{}` tokens with patch size {}",
                        a.0,
                        a.1,
                        me.count(a.0, a.1),
                        me.image_token,
                        me.patch_size
                    ),
                ));
            }
        }
        Ok(me)
    }

    /// Placeholder tokens for a processed image of `height × width` pixels.
    pub fn count(&self, height: usize, width: usize) -> usize {
        let n = (height / self.patch_size) * (width / self.patch_size)
            + self.num_additional_image_tokens;
        n - usize::from(self.drop_cls && n > 0)
    }

    /// Placeholder tokens for a processed image.
    pub fn for_image(&self, image: &ClipImage) -> usize {
        self.count(image.height, image.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, v: Value) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    }

    #[test]
    fn test_stack_concatenates_same_size_images_and_rejects_others() {
        let img = |v: f32, h: usize, w: usize| ClipImage {
            pixels: vec![v; 3 * h * w],
            height: h,
            width: w,
        };
        let (vals, shape) = ClipImage::stack(&[img(1.0, 2, 2), img(2.0, 2, 2)]).unwrap();
        assert_eq!(shape, [2, 3, 2, 2]);
        assert_eq!((vals[11], vals[12]), (1.0, 2.0));
        let err = ClipImage::stack(&[img(1.0, 2, 2), img(1.0, 2, 3)]).unwrap_err();
        assert!(err.to_string().contains("image 1 is 2×3"), "{err}");
    }

    #[test]
    fn test_resized_size_truncates_the_long_side_like_transformers() {
        let s = ResizeTarget::ShortestEdge(336);
        assert_eq!(resized_size(480, 640, s), (336, 448));
        assert_eq!(resized_size(640, 480, s), (448, 336));
        // 336·500/333 = 504.5…: truncated, not rounded.
        assert_eq!(resized_size(333, 500, s), (336, 504));
        assert_eq!(resized_size(300, 300, s), (336, 336));
        let e = ResizeTarget::Exact {
            height: 10,
            width: 20,
        };
        assert_eq!(resized_size(3, 4, e), (10, 20));
    }

    #[test]
    fn test_center_crop_pads_small_images_with_the_odd_pixel_first() {
        // 1×3 image, crop 4×4: rows padded 2 above (ceil(3/2)) and 1 below, columns 1 | 0.
        let img: Vec<u8> = (1..=9).collect();
        let out = center_crop(&img, 1, 3, 4, 4);
        let row = |y: usize| out[y * 12..(y + 1) * 12].to_vec();
        assert_eq!(row(0), vec![0; 12]);
        assert_eq!(row(1), vec![0; 12]);
        assert_eq!(row(2), vec![0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(row(3), vec![0; 12]);
        // Larger image: floor((h − ch) / 2) from the top.
        let img: Vec<u8> = (0..5 * 3).map(|v| v as u8).collect(); // 5×1
        assert_eq!(center_crop(&img, 5, 1, 2, 1), vec![3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn test_pad_to_square_uses_the_truncated_mean_colour() {
        let p = ClipProcessor {
            do_resize: false,
            do_center_crop: false,
            do_rescale: false,
            do_normalize: false,
            pad_to_square: true,
            ..ClipProcessor::default()
        };
        // 1×3 (h×w) white image → 3×3 with the image in the middle row.
        let out = p.process_rgb(&[255; 9], 1, 3).unwrap();
        assert_eq!((out.height, out.width), (3, 3));
        let at = |c: usize, y: usize, x: usize| out.pixels[c * 9 + y * 3 + x];
        // int(0.48145466 · 255) = 122, int(0.4578275 · 255) = 116, int(0.40821073 · 255) = 104.
        assert_eq!(
            [at(0, 0, 0), at(1, 0, 0), at(2, 2, 2)],
            [122.0, 116.0, 104.0]
        );
        assert_eq!([at(0, 1, 0), at(2, 1, 2)], [255.0, 255.0]);
    }

    #[test]
    fn test_old_integer_spellings_and_llava_do_pad_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "old.json",
            serde_json::json!({"feature_extractor_type": "CLIPFeatureExtractor", "size": 30,
                               "crop_size": 28, "resample": 3, "do_pad": true}),
        );
        let old = ClipProcessor::from_file(&p).unwrap();
        assert_eq!(old.size, ResizeTarget::ShortestEdge(30));
        assert_eq!(old.crop_size, (28, 28));
        assert!(
            !old.pad_to_square,
            "do_pad is pad-to-square only for LlavaImageProcessor"
        );
        let p = write(
            dir.path(),
            "llava.json",
            serde_json::json!({"image_processor_type": "LlavaImageProcessor", "do_pad": true,
                               "size": {"height": 20, "width": 24}, "crop_size": [16, 18]}),
        );
        let l = ClipProcessor::from_file(&p).unwrap();
        assert!(l.pad_to_square);
        assert_eq!(
            l.size,
            ResizeTarget::Exact {
                height: 20,
                width: 24
            }
        );
        assert_eq!(l.crop_size, (16, 18));
    }

    #[test]
    fn test_config_errors_name_the_file_and_field() {
        let dir = tempfile::tempdir().unwrap();
        for (cfg, field) in [
            (serde_json::json!({"resample": 2}), "resample"),
            (serde_json::json!({"size": {"longest_edge": 30}}), "size"),
            (serde_json::json!({"crop_size": {"height": 3}}), "crop_size"),
            (serde_json::json!({"image_mean": [0.5, 0.5]}), "image_mean"),
            (
                serde_json::json!({"image_std": [0.5, 0.0, 0.5]}),
                "image_std",
            ),
        ] {
            let p = write(dir.path(), "preprocessor_config.json", cfg);
            let err = ClipProcessor::from_file(&p).unwrap_err().to_string();
            assert!(
                err.contains("preprocessor_config.json") && err.contains(field),
                "{err}"
            );
        }
    }

    #[test]
    fn test_image_tokens_follow_processor_config_then_model_config() {
        let dir = tempfile::tempdir().unwrap();
        let proc = ClipProcessor::default();
        write(
            dir.path(),
            "config.json",
            serde_json::json!({"image_seq_length": 576, "vision_config": {"patch_size": 14}}),
        );
        // No processor_config.json: patch size from config.json, CLS dropped → 576.
        let t = ImageTokens::from_dir(dir.path(), &proc).unwrap();
        assert_eq!(
            (t.image_token.as_str(), t.count(336, 336)),
            ("<image>", 576)
        );
        write(
            dir.path(),
            "processor_config.json",
            serde_json::json!({"image_token": "<img>", "patch_size": 14,
                               "num_additional_image_tokens": 1,
                               "vision_feature_select_strategy": "full"}),
        );
        // "full" keeps the class token: 577 disagrees with image_seq_length.
        let err = ImageTokens::from_dir(dir.path(), &proc)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("image_seq_length") && err.contains("577"),
            "{err}"
        );
        write(dir.path(), "config.json", serde_json::json!({}));
        let t = ImageTokens::from_dir(dir.path(), &proc).unwrap();
        assert_eq!((t.image_token.as_str(), t.count(336, 336)), ("<img>", 577));
        std::fs::remove_file(dir.path().join("processor_config.json")).unwrap();
        let err = ImageTokens::from_dir(dir.path(), &proc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("patch_size"), "{err}");
    }
}
