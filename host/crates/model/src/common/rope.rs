//! Rotary position embeddings in the Hugging Face "rotate_half" convention (halves, not
//! adjacent pairs as burn's `RotaryEncoding`), plus the tables for Qwen2-VL's M-RoPE and the
//! vision tower's 2-D rotary.
//!
//! The cos/sin tables depend only on integer positions known on the host, so they are computed
//! here in f32 (the same arithmetic as transformers: `pos.float() * inv_freq`, then cos/sin) and
//! uploaded once per forward; no gradient flows through them.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`Qwen2VLRotaryEmbedding`, `Qwen2VLVisionRotaryEmbedding`, `rotate_half`).

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

/// `inv_freq[i] = 1 / θ^(2i / dim)` for `i < dim / 2`, rounded to f32 like torch.
pub fn inv_freq(theta: f64, dim: usize) -> Vec<f32> {
    (0..dim / 2)
        .map(|i| {
            let exponent = ((2 * i) as f32 / dim as f32) as f64;
            (1.0 / theta.powf(exponent)) as f32
        })
        .collect()
}

/// `cat(-x2, x1)` over the last dimension, where `x1`, `x2` are its halves.
pub fn rotate_half<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let dims = x.dims();
    let half = dims[D - 1] / 2;
    let x1 = x.clone().narrow(D - 1, 0, half);
    let x2 = x.narrow(D - 1, half, half);
    Tensor::cat(vec![x2.neg(), x1], D - 1)
}

/// `x·cos + rotate_half(x)·sin`; `cos`/`sin` broadcast against `x`.
pub fn apply_rotary<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    cos: Tensor<B, D>,
    sin: Tensor<B, D>,
) -> Tensor<B, D> {
    x.clone() * cos + rotate_half(x) * sin
}

/// Host-side cos/sin tables, `[rows, dim]` row-major.
#[derive(Debug, Clone)]
pub struct RopeTable {
    pub rows: usize,
    pub dim: usize,
    pub cos: Vec<f32>,
    pub sin: Vec<f32>,
}

impl RopeTable {
    /// Builds a table from per-row half-angles `[rows, dim/2]`, duplicated to `dim`
    /// (`cat(freqs, freqs)` upstream).
    fn from_half_angles(rows: usize, half: usize, angles: &[f32]) -> Self {
        let dim = half * 2;
        let mut cos = Vec::with_capacity(rows * dim);
        let mut sin = Vec::with_capacity(rows * dim);
        for r in 0..rows {
            let row = &angles[r * half..(r + 1) * half];
            for _ in 0..2 {
                cos.extend(row.iter().map(|a| a.cos()));
                sin.extend(row.iter().map(|a| a.sin()));
            }
        }
        Self {
            rows,
            dim,
            cos,
            sin,
        }
    }

    /// Uploads as two tensors of shape `shape` (whose element count is `rows·dim`).
    pub fn to_tensors<B: Backend, const D: usize>(
        &self,
        shape: [usize; D],
        device: &B::Device,
        dtype: DType,
    ) -> (Tensor<B, D>, Tensor<B, D>) {
        let cos: Tensor<B, D> = Tensor::from_data(
            TensorData::new(self.cos.clone(), shape),
            (device, DType::F32),
        );
        let sin: Tensor<B, D> = Tensor::from_data(
            TensorData::new(self.sin.clone(), shape),
            (device, DType::F32),
        );
        (cos.cast(dtype), sin.cast(dtype))
    }
}

/// M-RoPE table for the text decoder: `positions[axis][row]` for the temporal, height and width
/// axes (`[3, B·S]` flattened), `mrope_section` chunks of the `head_dim/2` frequencies, chunk `i`
/// taken from axis `i % 3` (chunked, not interleaved). With equal axes this is plain RoPE.
#[allow(clippy::needless_range_loop)] // rows index three parallel position vectors
pub fn mrope_table(
    positions: &[Vec<i64>; 3],
    inv_freq: &[f32],
    mrope_section: &[usize],
) -> RopeTable {
    let rows = positions[0].len();
    let half = inv_freq.len();
    let mut axis_of = Vec::with_capacity(half);
    for (i, &len) in mrope_section.iter().enumerate() {
        axis_of.extend(std::iter::repeat_n(i % 3, len));
    }
    axis_of.resize(half, 0);
    let mut angles = Vec::with_capacity(rows * half);
    for r in 0..rows {
        for (f, &axis) in inv_freq.iter().zip(&axis_of) {
            angles.push(positions[axis][r] as f32 * f);
        }
    }
    RopeTable::from_half_angles(rows, half, &angles)
}

/// 2-D rotary table of the vision tower: per patch `(row, col)` ids, `inv_freq` over
/// `head_dim/2`; half-angles are `[row·inv_freq, col·inv_freq]`, duplicated to `head_dim`.
pub fn vision_table(ids: &[(i64, i64)], inv_freq: &[f32]) -> RopeTable {
    let half = inv_freq.len() * 2;
    let mut angles = Vec::with_capacity(ids.len() * half);
    for &(h, w) in ids {
        angles.extend(inv_freq.iter().map(|f| h as f32 * f));
        angles.extend(inv_freq.iter().map(|f| w as f32 * f));
    }
    RopeTable::from_half_angles(ids.len(), half, &angles)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f32>;

    #[test]
    fn test_rotate_half_negates_second_half_first() {
        let device = Default::default();
        let x = Tensor::<B, 1>::from_floats([1.0, 2.0, 3.0, 4.0], &device);
        let y = rotate_half(x).into_data().to_vec::<f32>().unwrap();
        assert_eq!(y, vec![-3.0, -4.0, 1.0, 2.0]);
    }

    #[test]
    fn test_mrope_with_equal_axes_is_plain_rope() {
        let f = inv_freq(10_000.0, 8);
        let pos = vec![0i64, 1, 5];
        let t = mrope_table(&[pos.clone(), pos.clone(), pos], &f, &[1, 2, 1]);
        assert_eq!(t.dim, 8);
        for j in 0..4 {
            assert!((t.cos[2 * 8 + j] - (5.0 * f[j]).cos()).abs() < 1e-6);
            assert_eq!(t.cos[2 * 8 + j], t.cos[2 * 8 + j + 4]);
        }
    }

    #[test]
    fn test_mrope_takes_each_chunk_from_its_axis() {
        let f = vec![1.0f32, 1.0, 1.0, 1.0];
        let t = mrope_table(&[vec![1], vec![2], vec![3]], &f, &[1, 2, 1]);
        let expect = [1.0f32, 2.0, 2.0, 3.0];
        for j in 0..4 {
            assert!((t.sin[j] - expect[j].sin()).abs() < 1e-6);
        }
    }
}
