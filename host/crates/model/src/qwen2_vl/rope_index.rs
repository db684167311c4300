//! M-RoPE position ids (`get_rope_index` upstream).
//!
//! Rules: a text token at running position `p` gets `(p, p, p)`; an image whose merged grid is
//! `t × h' × w'` (`h' = h/m`, `w' = w/m`) starting at `p` gets `(p + ti, p + hi, p + wi)` in
//! row-major order; text after it resumes at `p + max(h', w')`. An image is a maximal run of
//! `<|image_pad|>` tokens; runs take the grids in order and must have exactly `t·h'·w'` tokens.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`Qwen2VLModel.get_rope_index`, `get_vision_position_ids`).

use super::vision::GridThw;
use crate::error::{ModelError, Result};

/// Position ids of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct RopeIndex {
    /// `[temporal, height, width]`, each as long as the sequence.
    pub positions: [Vec<i64>; 3],
    /// `max(position) + 1 − len`, what decoding adds to plain positions after the prompt.
    pub rope_delta: i64,
}

/// Computes M-RoPE ids for `ids`, consuming `grids` (all grids of the images in `ids`, in order).
pub fn rope_index(
    ids: &[u32],
    image_token_id: u32,
    grids: &[GridThw],
    merge: usize,
) -> Result<RopeIndex> {
    let mut positions: [Vec<i64>; 3] = Default::default();
    for p in positions.iter_mut() {
        p.reserve(ids.len());
    }
    let mut pos: i64 = 0;
    let mut grid_iter = grids.iter();
    let mut i = 0;
    while i < ids.len() {
        if ids[i] != image_token_id {
            for p in positions.iter_mut() {
                p.push(pos);
            }
            pos += 1;
            i += 1;
            continue;
        }
        let run = ids[i..]
            .iter()
            .take_while(|&&t| t == image_token_id)
            .count();
        let &[t, h, w] = grid_iter.next().ok_or_else(|| {
            ModelError::Input(format!(
                "image token run at position {i} has no image grid left ({} grids given)",
                grids.len()
            ))
        })?;
        let (hm, wm) = (h / merge, w / merge);
        if run != t * hm * wm {
            return Err(ModelError::Input(format!(
                "image at token {i} has {run} <|image_pad|> tokens but its grid {:?} needs {}",
                [t, h, w],
                t * hm * wm
            )));
        }
        for ti in 0..t {
            for hi in 0..hm {
                for wi in 0..wm {
                    positions[0].push(pos + ti as i64);
                    positions[1].push(pos + hi as i64);
                    positions[2].push(pos + wi as i64);
                }
            }
        }
        pos += hm.max(wm) as i64;
        i += run;
    }
    if grid_iter.next().is_some() {
        return Err(ModelError::Input(format!(
            "{} image grids given but the tokens contain fewer image runs",
            grids.len()
        )));
    }
    let max = positions
        .iter()
        .flat_map(|p| p.iter().copied())
        .max()
        .unwrap_or(-1);
    Ok(RopeIndex {
        rope_delta: max + 1 - ids.len() as i64,
        positions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: u32 = 9;

    #[test]
    fn test_text_only_positions_count_up() {
        let r = rope_index(&[1, 2, 3], IMG, &[], 2).unwrap();
        assert_eq!(r.positions[0], vec![0, 1, 2]);
        assert_eq!(r.positions, [vec![0, 1, 2], vec![0, 1, 2], vec![0, 1, 2]]);
        assert_eq!(r.rope_delta, 0);
    }

    #[test]
    fn test_image_block_gets_grid_positions_and_text_resumes_after_longest_side() {
        // 2 text tokens, image grid 1×4×6 → merged 2×3 = 6 tokens, then 1 text token.
        let ids = [1, 2, IMG, IMG, IMG, IMG, IMG, IMG, 3];
        let r = rope_index(&ids, IMG, &[[1, 4, 6]], 2).unwrap();
        assert_eq!(r.positions[0], vec![0, 1, 2, 2, 2, 2, 2, 2, 5]);
        assert_eq!(r.positions[1], vec![0, 1, 2, 2, 2, 3, 3, 3, 5]);
        assert_eq!(r.positions[2], vec![0, 1, 2, 3, 4, 2, 3, 4, 5]);
        assert_eq!(r.rope_delta, 6 - 9);
    }

    #[test]
    fn test_token_count_mismatch_is_an_error() {
        let err = rope_index(&[IMG, IMG], IMG, &[[1, 4, 4]], 2).unwrap_err();
        assert!(err.to_string().contains("needs 4"), "{err}");
    }
}
