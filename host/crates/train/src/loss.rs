//! Preference losses with TRL's definitions (`trl/trainer/dpo_trainer.py`, v1.16).
//!
//! Notation: r_c = log πθ(y⁺) − log πref(y⁺), r_r likewise, Δ = r_c − r_r, ε = label smoothing.
//! Each term is averaged over the pairs of the batch; several terms are summed with weights.

use burn::tensor::activation::{log_sigmoid, relu};
use burn::tensor::{Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

/// One preference loss type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossType {
    /// −(1−ε)·log σ(βΔ) − ε·log σ(−βΔ): DPO; with ε > 0 the conservative (cDPO) form.
    Sigmoid,
    /// (Δ̄ − 1/(2β))² with Δ̄ = r_c/|y⁺| − r_r/|y⁻| (length-normalised, as TRL).
    Ipo,
    /// max(0, 1 − βΔ).
    Hinge,
    /// [−(1−ε)·log σ(βΔ) + ε·log σ(−βΔ)] / (1 − 2ε), ε ∈ [0, 0.5).
    Robust,
}

impl LossType {
    pub fn as_str(self) -> &'static str {
        match self {
            LossType::Sigmoid => "sigmoid",
            LossType::Ipo => "ipo",
            LossType::Hinge => "hinge",
            LossType::Robust => "robust",
        }
    }
}

/// The combined objective: weighted preference terms plus an optional SFT (NLL on chosen) term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossConfig {
    /// Preference terms and their weights (TRL's `loss_type` and `loss_weights`).
    pub terms: Vec<(LossType, f64)>,
    /// β, the strength of the KL regularisation (TRL default 0.1).
    pub beta: f64,
    /// ε for `sigmoid` (cDPO) and `robust`.
    pub label_smoothing: f64,
    /// Weight of the SFT term −Σ log πθ(y⁺) / Σ|y⁺| (TRL's `sft` loss type, LLaMA-Factory's `pref_ftx`).
    pub sft_weight: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            terms: vec![(LossType::Sigmoid, 1.0)],
            beta: 0.1,
            label_smoothing: 0.0,
            sft_weight: 0.0,
        }
    }
}

impl LossConfig {
    /// Checks the ranges TRL checks.
    pub fn validate(&self) -> Result<(), String> {
        if self.beta.is_nan() || self.beta <= 0.0 {
            return Err(format!("beta must be > 0, got {}", self.beta));
        }
        let robust = self.terms.iter().any(|(t, _)| *t == LossType::Robust);
        if robust && !(0.0..0.5).contains(&self.label_smoothing) {
            return Err(format!(
                "label_smoothing must lie in [0, 0.5) for the robust loss, got {}",
                self.label_smoothing
            ));
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return Err(format!(
                "label_smoothing must lie in [0, 1], got {}",
                self.label_smoothing
            ));
        }
        if self.terms.is_empty() && self.sft_weight == 0.0 {
            return Err("no loss term: give a loss type or an sft weight".into());
        }
        Ok(())
    }
}

/// Per-pair inputs of the loss, each `[n]`. Only the policy log-probs carry gradients.
#[derive(Debug, Clone)]
pub struct LossInputs<B: Backend> {
    pub policy_chosen: Tensor<B, 1>,
    pub policy_rejected: Tensor<B, 1>,
    pub ref_chosen: Tensor<B, 1>,
    pub ref_rejected: Tensor<B, 1>,
    /// Completion token counts |y⁺| and |y⁻| as floats.
    pub chosen_tokens: Tensor<B, 1>,
    pub rejected_tokens: Tensor<B, 1>,
}

/// The combined loss, a one-element tensor.
pub fn preference_loss<B: Backend>(cfg: &LossConfig, x: &LossInputs<B>) -> Tensor<B, 1> {
    let beta = cfg.beta;
    let eps = cfg.label_smoothing;
    let r_c = x.policy_chosen.clone() - x.ref_chosen.clone();
    let r_r = x.policy_rejected.clone() - x.ref_rejected.clone();
    let delta = r_c.clone() - r_r.clone();
    let device = delta.device();
    let mut total = Tensor::<B, 1>::zeros([1], &device);
    for &(loss_type, weight) in &cfg.terms {
        let per_pair = match loss_type {
            LossType::Sigmoid => {
                let clean = log_sigmoid(delta.clone().mul_scalar(beta)).mul_scalar(-(1.0 - eps));
                if eps == 0.0 {
                    clean
                } else {
                    clean - log_sigmoid(delta.clone().mul_scalar(-beta)).mul_scalar(eps)
                }
            }
            LossType::Ipo => {
                let c = r_c.clone() / x.chosen_tokens.clone().clamp_min(1.0);
                let r = r_r.clone() / x.rejected_tokens.clone().clamp_min(1.0);
                (c - r).sub_scalar(1.0 / (2.0 * beta)).powi_scalar(2)
            }
            LossType::Hinge => relu(delta.clone().mul_scalar(-beta).add_scalar(1.0)),
            LossType::Robust => {
                let clean = log_sigmoid(delta.clone().mul_scalar(beta)).mul_scalar(-(1.0 - eps));
                let flipped = log_sigmoid(delta.clone().mul_scalar(-beta)).mul_scalar(-eps);
                (clean - flipped).div_scalar(1.0 - 2.0 * eps)
            }
        };
        total = total + per_pair.mean().mul_scalar(weight);
    }
    if cfg.sft_weight != 0.0 {
        total = total + sft_loss(&x.policy_chosen, &x.chosen_tokens).mul_scalar(cfg.sft_weight);
    }
    total
}

/// Token-mean NLL of the chosen answers: −Σ log πθ(y⁺) / Σ|y⁺| (TRL's `sft` term).
pub fn sft_loss<B: Backend>(
    chosen_logps: &Tensor<B, 1>,
    chosen_tokens: &Tensor<B, 1>,
) -> Tensor<B, 1> {
    chosen_logps
        .clone()
        .sum()
        .neg()
        .div(chosen_tokens.clone().sum().clamp_min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f32>;

    /// The inputs behind the reference numbers in `scripts/loss_reference.py`.
    fn inputs() -> LossInputs<B> {
        let d = Default::default();
        let t = |v: [f32; 4]| Tensor::<B, 1>::from_floats(v, &d);
        LossInputs {
            policy_chosen: t([-12.5, -30.25, -7.0, -45.5]),
            policy_rejected: t([-14.0, -29.0, -9.5, -44.0]),
            ref_chosen: t([-13.0, -30.0, -8.0, -45.0]),
            ref_rejected: t([-13.5, -30.5, -9.0, -45.25]),
            chosen_tokens: t([5.0, 12.0, 3.0, 20.0]),
            rejected_tokens: t([6.0, 11.0, 3.0, 21.0]),
        }
    }

    fn loss_of(terms: Vec<(LossType, f64)>, beta: f64, eps: f64, sft: f64) -> f32 {
        let cfg = LossConfig {
            terms,
            beta,
            label_smoothing: eps,
            sft_weight: sft,
        };
        preference_loss(&cfg, &inputs()).into_scalar()
    }

    fn close(got: f32, want: f64) {
        assert!(
            ((got as f64) - want).abs() <= 1e-5 * want.abs().max(1.0),
            "got {got}, want {want}"
        );
    }

    // Reference values: torch 2.15 with TRL 1.16's formulas (scripts/loss_reference.py).
    #[test]
    fn sigmoid_matches_trl() {
        close(
            loss_of(vec![(LossType::Sigmoid, 1.0)], 0.1, 0.0, 0.0),
            REF_SIGMOID,
        );
    }

    #[test]
    fn sigmoid_with_label_smoothing_is_cdpo() {
        close(
            loss_of(vec![(LossType::Sigmoid, 1.0)], 0.5, 0.1, 0.0),
            REF_SIGMOID_CDPO,
        );
    }

    #[test]
    fn ipo_is_length_normalised_as_trl() {
        close(loss_of(vec![(LossType::Ipo, 1.0)], 0.1, 0.0, 0.0), REF_IPO);
    }

    #[test]
    fn hinge_matches_trl() {
        close(
            loss_of(vec![(LossType::Hinge, 1.0)], 0.5, 0.0, 0.0),
            REF_HINGE,
        );
    }

    #[test]
    fn robust_matches_trl() {
        close(
            loss_of(vec![(LossType::Robust, 1.0)], 0.1, 0.2, 0.0),
            REF_ROBUST,
        );
    }

    #[test]
    fn weighted_terms_and_sft_add_up() {
        close(
            loss_of(
                vec![(LossType::Sigmoid, 1.0), (LossType::Hinge, 0.5)],
                0.1,
                0.0,
                0.25,
            ),
            REF_COMBINED,
        );
    }

    #[test]
    fn sigmoid_gradient_matches_autograd() {
        use burn::backend::Autodiff;
        type AB = Autodiff<NdArray<f32>>;
        let x = inputs();
        let chosen = Tensor::<AB, 1>::from_inner(x.policy_chosen.clone()).require_grad();
        let rejected = Tensor::<AB, 1>::from_inner(x.policy_rejected.clone()).require_grad();
        let lift = |t: Tensor<B, 1>| Tensor::<AB, 1>::from_inner(t);
        let inp = LossInputs {
            policy_chosen: chosen.clone(),
            policy_rejected: rejected.clone(),
            ref_chosen: lift(x.ref_chosen),
            ref_rejected: lift(x.ref_rejected),
            chosen_tokens: lift(x.chosen_tokens),
            rejected_tokens: lift(x.rejected_tokens),
        };
        let grads = preference_loss(&LossConfig::default(), &inp).backward();
        let g: Vec<f32> = chosen.grad(&grads).unwrap().into_data().to_vec().unwrap();
        for (got, want) in g.iter().zip(REF_SIGMOID_GRAD_CHOSEN) {
            close(*got, want);
        }
    }

    pub(crate) const REF_SIGMOID: f64 = 7.085736422973e-01;
    pub(crate) const REF_SIGMOID_CDPO: f64 = 8.144592880763e-01;
    pub(crate) const REF_IPO: f64 = 2.397483518291e+01;
    pub(crate) const REF_HINGE: f64 = 1.125000000000e+00;
    pub(crate) const REF_ROBUST: f64 = 7.169069756306e-01;
    pub(crate) const REF_COMBINED: f64 = 1.816386142297e+00;
    pub(crate) const REF_SIGMOID_GRAD_CHOSEN: [f64; 4] = [
        -1.187552031303e-02,
        -1.359096718093e-02,
        -1.156425386641e-02,
        -1.359096718093e-02,
    ];
}
