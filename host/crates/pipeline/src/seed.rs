//! Per-sample seeds: derived from the run seed and the sample id only, so a sample gets
//! the same edit whatever the concurrency, the input order or a resume in between.

use sha2::{Digest, Sha256};
use vapr_text::SeededRng;

/// The seed of sample `id` in a run seeded with `run_seed`.
pub fn sample_seed(run_seed: u64, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    h.update(id.as_bytes());
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
}

/// The seed of retry `attempt` (0 = first try) of a sample.
pub fn attempt_seed(sample_seed: u64, attempt: u32) -> u64 {
    if attempt == 0 {
        return sample_seed;
    }
    let mut rng =
        SeededRng::new(sample_seed ^ u64::from(attempt).wrapping_mul(0xA24B_AED4_963E_E407));
    rng.next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_run_seed_and_id_only() {
        assert_eq!(sample_seed(7, "a#0"), sample_seed(7, "a#0"));
        assert_ne!(sample_seed(7, "a#0"), sample_seed(8, "a#0"));
        assert_ne!(sample_seed(7, "a#0"), sample_seed(7, "a#1"));
        let s = sample_seed(7, "a#0");
        assert_eq!(attempt_seed(s, 0), s);
        assert_ne!(attempt_seed(s, 1), attempt_seed(s, 2));
        assert_eq!(attempt_seed(s, 2), attempt_seed(s, 2));
    }
}
