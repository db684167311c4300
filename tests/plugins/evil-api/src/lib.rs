//! A component built without the SDK's stamp: it claims plugin API 0.9.0, which the host
//! must refuse before compiling it, naming the plugin, 0.9.0 and the supported range.

wit_bindgen::generate!({ world: "error-injector", path: "../../../wit/v0.1" });

use exports::vapr::plugin::injection::Guest;
use vapr::plugin::types::{Edit, PluginError, PluginInfo, Sample};

#[cfg(target_arch = "wasm32")]
#[unsafe(link_section = "vapr:api-version")]
#[used]
static API_VERSION: [u8; 6] = [0, 0, 0, 9, 0, 0];

struct Plugin;

impl Guest for Plugin {
    fn describe() -> PluginInfo {
        PluginInfo {
            id: "evil-api".into(),
            version: "0.1.0".into(),
            categories: vec![],
            description: "claims API 0.9.0".into(),
            extra: vec![],
        }
    }
    fn fit(_: Sample) -> f32 {
        0.0
    }
    fn build_prompt(t: String, _: Sample) -> Result<String, PluginError> {
        Ok(t)
    }
    fn parse_reply(r: String, _: Sample) -> Result<Edit, PluginError> {
        Ok(Edit {
            rejected: r,
            note: None,
            extra: vec![],
        })
    }
    fn rule_edit(s: Sample, _: u64) -> Result<Edit, PluginError> {
        Ok(Edit {
            rejected: s.answer,
            note: None,
            extra: vec![],
        })
    }
}

export!(Plugin);
