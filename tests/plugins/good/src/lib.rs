//! A well-behaved test plugin: swaps `red` and `blue`, logs one line.

use vapr_plugin_sdk::prelude::*;

pub struct Good;

impl Injector for Good {
    fn info() -> PluginInfo {
        PluginInfo::new("good", "1.2.3")
            .categories(&["color"])
            .description("Swaps red and blue.")
    }

    fn rule_edit(sample: &Sample, _seed: u64) -> Result<Edit, PluginError> {
        let out: Vec<String> = sample
            .answer
            .split(' ')
            .map(|w| match w {
                "red" => "blue".to_string(),
                "blue" => "red".to_string(),
                w => w.to_string(),
            })
            .collect();
        let out = out.join(" ");
        if out == sample.answer {
            return Err(PluginError::Refused("no red or blue".into()));
        }
        log::info("swapped a colour");
        Ok(Edit::new(out))
    }
}

register_injector!(Good);
