//! The trainer end to end on the toy model: DPO learns, SFT learns, accumulation equals a
//! larger batch, freezing freezes, save → load keeps logits, resume continues exactly.

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::tensor::backend::Backend;
use vapr_train::checkpoint::resolve_resume;
use vapr_train::params::{freeze, named_params};
use vapr_train::refcache::score_pairs;
use vapr_train::tensors::module_tensors;
use vapr_train::toy::{TinyLm, TinyLmConfig};
use vapr_train::{EncodedPair, Mode, Reference, StepMetrics, TrainSettings, Trainer};

type B = NdArray<f32>;
type AB = Autodiff<B>;

/// Eight pairs: the chosen answer's first token depends on the image, the rejected one is a
/// plausible but wrong token.
fn pairs() -> Vec<EncodedPair<Vec<f32>>> {
    (0..8)
        .map(|k| EncodedPair {
            id: format!("p{k}"),
            prompt: vec![2, 3 + (k % 4) as u32],
            chosen: vec![5 + (k % 3) as u32, 8, 1],
            rejected: vec![9 + (k % 3) as u32, 8, 1],
            image: Some(vec![(k % 3) as f32, 1.0, -(k as f32) / 8.0, 0.5]),
        })
        .collect()
}

fn model(seed: u64) -> TinyLm<AB> {
    // The backend's RNG is process-global and tests run on parallel threads: seeding and
    // initialising must not interleave with another test's, or "same seed" gives other weights.
    // burn initialises parameters lazily (on first read), so read them all under the lock too.
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    let device = Default::default();
    AB::seed(&device, seed);
    let m = TinyLmConfig::new(16).init::<AB>(&device);
    let _ = flat(&m);
    m
}

fn settings() -> TrainSettings {
    TrainSettings {
        learning_rate: 5e-2,
        warmup_ratio: 0.0,
        batch_size: 4,
        grad_accum: 1,
        epochs: 20,
        seed: 7,
        ..TrainSettings::default()
    }
}

fn reference(m: &TinyLm<AB>) -> Reference<Vec<f32>> {
    let rows = score_pairs(&m.valid(), &pairs(), 4, 0, |_| {}).unwrap();
    Reference::Precomputed(
        rows.iter()
            .map(|r| [r.chosen_logps, r.rejected_logps])
            .collect(),
    )
}

fn trainer(s: TrainSettings, seed: u64) -> Trainer<AB, TinyLm<AB>> {
    let m = model(seed);
    let r = reference(&m);
    Trainer::new(s, m, pairs(), r, 0).unwrap()
}

fn run(t: &mut Trainer<AB, TinyLm<AB>>, steps: usize) -> Vec<StepMetrics> {
    (0..steps).map(|_| t.step().unwrap()).collect()
}

fn flat(m: &TinyLm<AB>) -> Vec<f32> {
    module_tensors(m)
        .into_values()
        .flat_map(|t| t.data)
        .collect()
}

#[test]
fn dpo_loss_falls_and_reward_accuracy_rises() {
    let mut t = trainer(settings(), 1);
    let log = run(&mut t, 40);
    let first = &log[0];
    let last = log.last().unwrap();
    // At step 1 the policy is the reference: loss = ln 2, rewards 0, no strict win.
    assert!(
        (first.loss - std::f64::consts::LN_2).abs() < 1e-5,
        "{}",
        first.loss
    );
    assert_eq!(first.rewards_accuracies, Some(0.0));
    assert!(
        last.loss < 0.3 * first.loss,
        "loss {} -> {}",
        first.loss,
        last.loss
    );
    assert_eq!(last.rewards_accuracies, Some(1.0));
    assert!(last.rewards_margins.unwrap() > 0.5);
    assert!(last.rewards_rejected.unwrap() < 0.0);
    assert_eq!(last.step, 40);
    assert!((last.epoch - 20.0).abs() < 1e-9);
    assert!(t.is_done());
}

#[test]
fn sft_mode_raises_the_chosen_log_probs() {
    let s = TrainSettings {
        mode: Mode::Sft,
        ..settings()
    };
    let mut t = Trainer::new(s, model(2), pairs(), Reference::None, 0).unwrap();
    let log = run(&mut t, 20);
    assert!(log[19].logps_chosen > log[0].logps_chosen + 1.0);
    assert!(
        (log[0].loss + log[0].logps_chosen / 3.0).abs() < 1e-4,
        "token-mean NLL"
    );
    assert!(log[19].rewards_chosen.is_none() && log[19].logps_rejected.is_none());
}

#[test]
fn accumulation_equals_one_larger_batch() {
    let big = TrainSettings {
        shuffle: false,
        batch_size: 4,
        grad_accum: 1,
        ..settings()
    };
    let small = TrainSettings {
        batch_size: 2,
        grad_accum: 2,
        ..big.clone()
    };
    let mut a = trainer(big, 3);
    let mut b = trainer(small, 3);
    let ma = a.step().unwrap();
    let mb = b.step().unwrap();
    // Two half-batch sums vs one full-batch sum differ only in f32 summation order, which
    // depends on how the backend was built (threads, SIMD): allow 1e-4 relative.
    assert!(
        (ma.grad_norm - mb.grad_norm).abs() < 1e-4 * ma.grad_norm,
        "{} vs {}",
        ma.grad_norm,
        mb.grad_norm
    );
    assert!((ma.loss - mb.loss).abs() < 1e-6);
    // Adam's first update is lr·g/(|g| + eps): rounding in tiny gradients shows at ~1e-5.
    for (x, y) in flat(a.model()).iter().zip(flat(b.model())) {
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }
}

#[test]
fn frozen_parameters_do_not_move() {
    let (m, n) = freeze(model(4), &["image.*".to_string(), "embed.*".to_string()]);
    assert_eq!(n, 3, "image weight + bias, embedding");
    let frozen: Vec<String> = named_params(&m)
        .into_iter()
        .filter(|p| !p.trainable)
        .map(|p| p.name)
        .collect();
    assert_eq!(frozen, vec!["embed.weight", "image.weight", "image.bias"]);
    let before = module_tensors(&m);
    let r = reference(&m);
    let mut t = Trainer::new(settings(), m, pairs(), r, 0).unwrap();
    run(&mut t, 3);
    let after = module_tensors(t.model());
    assert_eq!(before["image.weight"], after["image.weight"]);
    assert_eq!(before["embed.weight"], after["embed.weight"]);
    assert_ne!(before["out.weight"], after["out.weight"]);
}

#[test]
fn save_then_load_gives_identical_logits() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = trainer(settings(), 5);
    run(&mut t, 3);
    let trained = t.into_model();
    trained.save(dir.path()).unwrap();
    let loaded = model(99).load(dir.path()).unwrap();
    let batch = vapr_train::PairBatch::new(&pairs().iter().collect::<Vec<_>>(), 0, false);
    let device = Default::default();
    let ids = batch.input_ids_tensor::<B>(&device);
    let img = burn::tensor::Tensor::<B, 2>::ones([16, 32], &device);
    let a = trained
        .valid()
        .forward(ids.clone(), img.clone())
        .into_data();
    let b = loaded.valid().forward(ids, img).into_data();
    assert_eq!(a, b);
}

mod resume {
    use super::*;

    fn fresh(seed: u64) -> Trainer<AB, TinyLm<AB>> {
        let inner = model(seed);
        let r = reference(&inner);
        let s = TrainSettings {
            batch_size: 3,
            grad_accum: 2,
            warmup_ratio: 0.2,
            epochs: 4,
            ..settings()
        };
        Trainer::new(s, inner, pairs(), r, 0).unwrap()
    }

    #[test]
    fn resume_continues_with_an_identical_next_step() {
        let out = tempfile::tempdir().unwrap();
        let mut t = fresh(6);
        run_ck(&mut t, 3);
        t.save_checkpoint(out.path(), Some("abc")).unwrap();
        let expected = t.step().unwrap();
        let expected_weights = module_tensors(t.model());

        // A different initialisation, then resume: weights, moments and data position return.
        let ck = resolve_resume(out.path()).unwrap();
        let mut r = fresh(6).resume(&ck, Some("abc")).unwrap();
        assert_eq!(r.position().global_step, 3);
        let got = r.step().unwrap();
        assert_eq!(got.loss, expected.loss);
        assert_eq!(got.grad_norm, expected.grad_norm);
        assert_eq!(got.learning_rate, expected.learning_rate);
        assert_eq!(got.rewards_margins, expected.rewards_margins);
        assert_eq!(got.epoch, expected.epoch);
        assert_eq!(module_tensors(r.model()), expected_weights);

        // Other data is refused.
        let err = fresh(6)
            .resume(&ck, Some("other"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("dataset"), "{err}");
    }

    fn run_ck(t: &mut Trainer<AB, TinyLm<AB>>, steps: usize) {
        for _ in 0..steps {
            t.step().unwrap();
        }
    }
}
