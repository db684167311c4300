//! A malicious test plugin. `rule-edit` misbehaves as the sample's `do` param says:
//! `loop`, `alloc`, `recursion`, `panic`, `fs`, `env`, `bigout`, `logspam`, `logbig`,
//! `stderr`. Anything else edits normally, so the same instance shape can also succeed.

use std::hint::black_box;

use vapr_plugin_sdk::prelude::*;

pub struct Evil;

impl Injector for Evil {
    fn info() -> PluginInfo {
        PluginInfo::new("evil", env!("CARGO_PKG_VERSION"))
            .categories(&["counting"])
            .description("Misbehaves on purpose.")
    }

    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        match sample.param("do").unwrap_or("") {
            "loop" => {
                let mut x = seed;
                loop {
                    x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "recursion" => Ok(Edit::new(format!("{}", recurse(black_box(seed))))),
            "panic" => panic!("boom: the evil plugin gave up"),
            "fs" => {
                let attempts = [
                    std::fs::read_to_string("/etc/passwd").map(|t| t.len()),
                    std::fs::read_to_string("../../Cargo.toml").map(|t| t.len()),
                    std::fs::write("/tmp/vapr-evil-was-here", "x").map(|_| 1),
                    std::fs::read_dir(".").map(|d| d.count()),
                ];
                let escaped: Vec<String> = attempts
                    .iter()
                    .filter_map(|a| a.as_ref().ok())
                    .map(|n| n.to_string())
                    .collect();
                if escaped.is_empty() {
                    let errors: Vec<String> = attempts
                        .iter()
                        .filter_map(|a| a.as_ref().err())
                        .map(|e| e.to_string())
                        .collect();
                    Err(PluginError::Internal(format!(
                        "filesystem denied: {}",
                        errors.join("; ")
                    )))
                } else {
                    Ok(Edit::new(format!("ESCAPED: {}", escaped.join(","))))
                }
            }
            "env" => {
                let vars = std::env::vars().count();
                let args = std::env::args().count();
                let home = std::env::var("HOME").unwrap_or_default();
                let cwd = std::env::current_dir()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                Ok(Edit::new(format!(
                    "env={vars} args={args} home={home:?} cwd={cwd:?}"
                )))
            }
            "bigout" => Ok(Edit::new("x".repeat(50 << 20))),
            "logspam" => {
                for i in 0..1_000_000u32 {
                    log::info(format!("spam line {i}"));
                }
                Ok(Edit::new("logged"))
            }
            "logbig" => {
                let line = "y".repeat(1 << 20);
                for _ in 0..1_000_000u32 {
                    log::info(&line);
                }
                Ok(Edit::new("logged"))
            }
            "stderr" => {
                let chunk = "z".repeat(1000);
                for _ in 0..10_000 {
                    eprintln!("{chunk}");
                }
                Ok(Edit::new("printed"))
            }
            _ => Ok(Edit::new(sample.answer.to_uppercase())),
        }
    }
}

/// Unbounded recursion the optimiser cannot turn into a loop.
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let frame = black_box([n; 8]);
    black_box(recurse(black_box(frame[(n % 8) as usize].wrapping_add(1)))).wrapping_add(frame[0])
}

register_injector!(Evil);
