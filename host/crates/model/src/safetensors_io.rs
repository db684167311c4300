//! Reading and writing safetensors files without pulling whole shards into memory: headers are
//! parsed to build a name → location index over one file or a sharded folder
//! (`model.safetensors.index.json`), and each tensor is read on demand and decoded to f32.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::error::{ModelError, Result};

/// Where one tensor lives.
#[derive(Debug, Clone)]
pub struct TensorEntry {
    pub file: PathBuf,
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Absolute byte range in the file.
    pub start: u64,
    pub end: u64,
}

/// All tensors of a model folder by name.
#[derive(Debug, Clone, Default)]
pub struct WeightIndex {
    pub files: Vec<PathBuf>,
    pub entries: BTreeMap<String, TensorEntry>,
}

#[derive(serde::Deserialize)]
struct ShardIndex {
    weight_map: HashMap<String, String>,
}

#[derive(serde::Deserialize)]
struct HeaderEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: (u64, u64),
}

impl WeightIndex {
    /// Indexes `dir`: `model.safetensors.index.json` if present, else `model.safetensors`, else
    /// every `*.safetensors` file (sorted).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let index_path = dir.join("model.safetensors.index.json");
        let files: Vec<PathBuf> = if index_path.exists() {
            let text =
                std::fs::read_to_string(&index_path).map_err(|e| ModelError::io(&index_path, e))?;
            let idx: ShardIndex = serde_json::from_str(&text).map_err(|e| ModelError::Json {
                path: index_path.clone(),
                message: e.to_string(),
            })?;
            let mut names: Vec<String> = idx.weight_map.into_values().collect();
            names.sort();
            names.dedup();
            names.into_iter().map(|n| dir.join(n)).collect()
        } else if dir.join("model.safetensors").exists() {
            vec![dir.join("model.safetensors")]
        } else {
            let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| ModelError::io(dir, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
                .collect();
            v.sort();
            v
        };
        if files.is_empty() {
            return Err(ModelError::io(
                dir.join("model.safetensors"),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no safetensors weight files in the folder",
                ),
            ));
        }
        Self::from_files(files)
    }

    /// Indexes the given files (names must be unique across them).
    pub fn from_files(files: Vec<PathBuf>) -> Result<Self> {
        let mut index = WeightIndex::default();
        for file in &files {
            for (name, entry) in read_header(file)? {
                if let Some(prev) = index.entries.get(&name) {
                    return Err(ModelError::Safetensors {
                        path: file.clone(),
                        message: format!("tensor `{name}` also appears in {}", prev.file.display()),
                    });
                }
                index.entries.insert(name, entry);
            }
        }
        index.files = files;
        Ok(index)
    }

    /// Reads one tensor and decodes it to f32 (row-major, in the file's shape).
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>> {
        let e = self
            .entries
            .get(name)
            .ok_or_else(|| ModelError::Safetensors {
                path: self.files.first().cloned().unwrap_or_default(),
                message: format!("no tensor `{name}`"),
            })?;
        let mut f = File::open(&e.file).map_err(|err| ModelError::io(&e.file, err))?;
        f.seek(SeekFrom::Start(e.start))
            .map_err(|err| ModelError::io(&e.file, err))?;
        let mut bytes = vec![0u8; (e.end - e.start) as usize];
        f.read_exact(&mut bytes)
            .map_err(|err| ModelError::io(&e.file, err))?;
        decode_f32(&bytes, &e.dtype).ok_or_else(|| ModelError::UnsupportedDtype {
            path: e.file.clone(),
            name: name.to_string(),
            dtype: e.dtype.clone(),
        })
    }
}

fn read_header(path: &Path) -> Result<Vec<(String, TensorEntry)>> {
    let bad = |message: String| ModelError::Safetensors {
        path: path.to_path_buf(),
        message,
    };
    let mut f = File::open(path).map_err(|e| ModelError::io(path, e))?;
    let file_len = f.metadata().map_err(|e| ModelError::io(path, e))?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|e| ModelError::io(path, e))?;
    let n = u64::from_le_bytes(n);
    if n > 100_000_000 || 8 + n > file_len {
        return Err(bad(format!(
            "header length {n} does not fit a {file_len}-byte file"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| ModelError::io(path, e))?;
    let map: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
    let base = 8 + n;
    let mut out = Vec::new();
    for (name, v) in map {
        if name == "__metadata__" {
            continue;
        }
        let h: HeaderEntry =
            serde_json::from_value(v).map_err(|e| bad(format!("tensor `{name}`: {e}")))?;
        let (s, e) = h.data_offsets;
        if e < s || base + e > file_len {
            return Err(bad(format!(
                "tensor `{name}` has byte range {s}..{e} past the end"
            )));
        }
        out.push((
            name,
            TensorEntry {
                file: path.to_path_buf(),
                dtype: h.dtype,
                shape: h.shape,
                start: base + s,
                end: base + e,
            },
        ));
    }
    Ok(out)
}

/// Decodes little-endian F32/F16/BF16/F64 bytes to f32.
pub fn decode_f32(bytes: &[u8], dtype: &str) -> Option<Vec<f32>> {
    Some(match dtype {
        "F32" => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        "BF16" => bytes
            .chunks_exact(2)
            .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        "F16" => bytes
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        "F64" => bytes
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
        _ => return None,
    })
}

/// Storage dtype of saved tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveDtype {
    F32,
    BF16,
    F16,
}

impl SaveDtype {
    fn encode(self, values: &[f32]) -> (Dtype, Vec<u8>) {
        match self {
            Self::F32 => (
                Dtype::F32,
                values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            Self::BF16 => (
                Dtype::BF16,
                values
                    .iter()
                    .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
                    .collect(),
            ),
            Self::F16 => (
                Dtype::F16,
                values
                    .iter()
                    .flat_map(|v| f16::from_f32(*v).to_le_bytes())
                    .collect(),
            ),
        }
    }
}

/// Writes named f32 tensors as one safetensors file (`format: pt` metadata), via a temporary
/// file renamed into place so a crash never leaves a half-written file under `path`.
pub fn write_safetensors(
    path: &Path,
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    dtype: SaveDtype,
) -> Result<()> {
    let encoded: Vec<(String, Vec<usize>, Dtype, Vec<u8>)> = tensors
        .iter()
        .map(|(n, s, v)| {
            let (d, b) = dtype.encode(v);
            (n.clone(), s.clone(), d, b)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = encoded
        .iter()
        .map(|(n, s, d, b)| {
            let view = TensorView::new(*d, s.clone(), b).map_err(|e| ModelError::Safetensors {
                path: path.to_path_buf(),
                message: format!("tensor `{n}`: {e}"),
            })?;
            Ok((n.clone(), view))
        })
        .collect::<Result<_>>()?;
    let tmp = path.with_extension("safetensors.tmp");
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(meta), &tmp).map_err(|e| {
        ModelError::Safetensors {
            path: tmp.clone(),
            message: e.to_string(),
        }
    })?;
    std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e))
}

/// Feeds parameters from a [`WeightIndex`] to [`load_params`](crate::common::params::load_params)
/// for any family: `hf_name` maps a parameter path to its checkpoint key (`None` keeps the
/// parameter), linear weights (`is_linear`) are transposed from `[out, in]`, and the
/// `flattened` parameter (a patch embedding) may be stored with its trailing dims unflattened.
/// Records which keys were used, so unused tensors can be reported.
pub(crate) struct IndexSource<'a, N> {
    pub index: &'a WeightIndex,
    pub dir: &'a Path,
    pub hf_name: N,
    pub is_linear: fn(&str, usize) -> bool,
    pub flattened: &'a str,
    pub used: std::collections::BTreeSet<String>,
}

impl<N: Fn(&str) -> Option<String>> crate::common::params::ParamSource for IndexSource<'_, N> {
    type Error = ModelError;

    fn provide(
        &mut self,
        path: &str,
        expected: &[usize],
    ) -> Result<crate::common::params::Provided> {
        let Some(name) = (self.hf_name)(path) else {
            return Ok(crate::common::params::Provided::Keep);
        };
        let linear = (self.is_linear)(path, expected.len());
        // Shape the file must have, in Hugging Face's layout.
        let file_shape: Vec<usize> = if linear {
            vec![expected[1], expected[0]]
        } else {
            expected.to_vec()
        };
        let entry = self
            .index
            .entries
            .get(&name)
            .ok_or_else(|| ModelError::MissingTensor {
                name: name.clone(),
                expected: file_shape.clone(),
                dir: self.dir.to_path_buf(),
            })?;
        let found = &entry.shape;
        let matches = if path == self.flattened {
            found.first() == Some(&file_shape[0])
                && found[1..].iter().product::<usize>() == file_shape[1]
        } else {
            *found == file_shape
        };
        if !matches {
            return Err(ModelError::ShapeMismatch {
                path: entry.file.clone(),
                name,
                expected: file_shape,
                found: found.clone(),
            });
        }
        let mut values = self.index.read_f32(&name)?;
        if linear {
            values = transpose(&values, file_shape[0], file_shape[1]);
        }
        self.used.insert(name);
        Ok(crate::common::params::Provided::Data(
            burn::tensor::TensorData::new(values, expected.to_vec()),
        ))
    }
}

impl<N> IndexSource<'_, N> {
    /// Errors when the files hold tensors that were neither loaded nor deliberately `ignored`.
    pub(crate) fn check_all_used(&self, ignored: &[String]) -> Result<()> {
        let unused: Vec<&String> = self
            .index
            .entries
            .keys()
            .filter(|k| !self.used.contains(*k) && !ignored.contains(k))
            .collect();
        if unused.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = unused.iter().take(8).map(|s| s.as_str()).collect();
        Err(ModelError::UnusedTensors {
            dir: self.dir.to_path_buf(),
            count: unused.len(),
            names: shown.join(", "),
        })
    }
}

/// Row-major transpose of a `[rows, cols]` matrix, in cache-sized tiles (checkpoints are
/// transposed on load and save: a 7B model is ~7·10⁹ elements).
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    const TILE: usize = 64;
    let mut out = vec![0f32; values.len()];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = values[r * cols + c];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_transpose_of_a_non_square_matrix_crossing_tiles() {
        let (r, c) = (70, 130);
        let m: Vec<f32> = (0..r * c).map(|i| i as f32).collect();
        let t = transpose(&m, r, c);
        for i in 0..r {
            for j in 0..c {
                assert_eq!(t[j * r + i], m[i * c + j]);
            }
        }
        assert_eq!(transpose(&t, c, r), m);
    }

    #[test]
    fn test_bf16_and_f16_decode_round_trip_through_save_encoding() {
        let v = [1.0f32, -2.5, 0.15625];
        for (d, name) in [
            (SaveDtype::BF16, "BF16"),
            (SaveDtype::F16, "F16"),
            (SaveDtype::F32, "F32"),
        ] {
            let (_, bytes) = d.encode(&v);
            assert_eq!(decode_f32(&bytes, name).unwrap(), v.to_vec(), "{name}");
        }
        assert!(decode_f32(&[0, 0], "I8").is_none());
    }
}
