//! The train room: DPO (and SFT) trainer, losses, TRL-compatible metrics, optimiser and
//! schedule, LoRA, reference log-prob cache and checkpoints.
