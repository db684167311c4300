//! Stamps the plugin API version and the WIT location into the SDK.
//!
//! Reads the `package vapr:plugin@X.Y.Z;` line of `wit/v0.1/plugin.wit` (the contract
//! this SDK speaks) and writes `OUT_DIR/api.rs` with:
//! - `API_VERSION` / `API_VERSION_BYTES`: the version the register macros embed in the
//!   `vapr:api-version` custom section (u16 big-endian major, minor, patch), which the host
//!   reads before compiling a plugin;
//! - the hidden `__vapr_generate_*!` macros that run `wit_bindgen::generate!` inside the
//!   plugin crate with an absolute WIT path, so a plugin anywhere on disk finds the contract.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let wit_dir = manifest.join("../wit/v0.1");
    let wit_dir = wit_dir.canonicalize().unwrap_or_else(|e| {
        panic!(
            "vapr-plugin-sdk: cannot find the WIT contract at {}: {e}",
            wit_dir.display()
        )
    });
    let wit_file = wit_dir.join("plugin.wit");
    println!("cargo:rerun-if-changed={}", wit_file.display());
    let text = std::fs::read_to_string(&wit_file)
        .unwrap_or_else(|e| panic!("vapr-plugin-sdk: cannot read {}: {e}", wit_file.display()));
    let version = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("package vapr:plugin@"))
        .and_then(|rest| rest.strip_suffix(';'))
        .unwrap_or_else(|| {
            panic!(
                "vapr-plugin-sdk: no `package vapr:plugin@X.Y.Z;` line in {}",
                wit_file.display()
            )
        });
    let parts: Vec<u16> = version
        .split('.')
        .map(|p| {
            p.parse()
                .unwrap_or_else(|_| panic!("vapr-plugin-sdk: bad package version `{version}`"))
        })
        .collect();
    assert_eq!(
        parts.len(),
        3,
        "vapr-plugin-sdk: package version `{version}` is not X.Y.Z"
    );
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.to_be_bytes()).collect();
    let wit_path = wit_dir.to_str().expect("WIT path is not UTF-8");

    let generate = |world: &str, name: &str| {
        format!(
            r#"
#[doc(hidden)]
#[macro_export]
macro_rules! {name} {{
    () => {{
        ::vapr_plugin_sdk::__private::wit_bindgen::generate!({{
            world: "{world}",
            path: {wit_path:?},
            runtime_path: "::vapr_plugin_sdk::__private::wit_bindgen::rt",
        }});
    }};
}}
"#
        )
    };
    let out = format!(
        "/// The plugin API version this SDK implements (the WIT package version).\n\
         pub const API_VERSION: (u16, u16, u16) = ({}, {}, {});\n\
         /// `API_VERSION` as the 6 bytes of the `vapr:api-version` custom section.\n\
         #[doc(hidden)]\n\
         pub const API_VERSION_BYTES: [u8; 6] = {:?};\n{}{}",
        parts[0],
        parts[1],
        parts[2],
        bytes,
        generate("error-injector", "__vapr_generate_injector"),
        generate("validator", "__vapr_generate_validator"),
    );
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("api.rs"), out).expect("cannot write api.rs");
}
