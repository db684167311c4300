//! The plugin API version: read from the component's `vapr:api-version` custom section
//! (stamped by the SDK's register macros) before anything is compiled.

use std::fmt;
use std::path::Path;

use crate::error::LoadError;

/// The custom section name the SDK writes.
pub const API_SECTION: &str = "vapr:api-version";

/// The API version this host implements (the WIT package in `wit/v0.1`).
pub const HOST_API: ApiVersion = ApiVersion {
    major: 0,
    minor: 1,
    patch: 0,
};

/// A plugin API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl ApiVersion {
    /// Semver compatibility as the component model applies it: same major, and for 0.x
    /// the same minor (0.1.3 plugins run on a 0.1.0 host and vice versa; the linker then
    /// names any function the host lacks).
    pub fn is_compatible_with(self, host: ApiVersion) -> bool {
        self.major == host.major && (host.major != 0 || self.minor == host.minor)
    }
}

/// The range of plugin API versions this host accepts, for messages.
pub fn supported_range() -> String {
    if HOST_API.major == 0 {
        format!(
            ">={}.{}.0, <{}.{}.0",
            HOST_API.major,
            HOST_API.minor,
            HOST_API.major,
            HOST_API.minor + 1
        )
    } else {
        format!(">={}.0.0, <{}.0.0", HOST_API.major, HOST_API.major + 1)
    }
}

/// Parses the whole binary (bad bytes are rejected here, never handed to the compiler),
/// checks it is a component and returns its stamped API version.
pub fn read_api_version(path: &Path, bytes: &[u8]) -> Result<ApiVersion, LoadError> {
    use wasmparser::{Encoding, Parser, Payload};
    let not_component = |reason: String| LoadError::NotAComponent {
        path: path.to_path_buf(),
        reason,
    };
    let mut found: Option<Vec<u8>> = None;
    let mut first = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| not_component(format!("malformed binary: {e}")))?;
        match payload {
            Payload::Version { encoding, .. } if first => {
                first = false;
                if encoding != Encoding::Component {
                    return Err(not_component(
                        "a core module; build with `--target wasm32-wasip2`".into(),
                    ));
                }
            }
            Payload::CustomSection(reader) if reader.name() == API_SECTION && found.is_none() => {
                found = Some(reader.data().to_vec());
            }
            _ => {}
        }
    }
    if first {
        return Err(not_component("empty file".into()));
    }
    let data = found.ok_or_else(|| LoadError::MissingApiVersion {
        path: path.to_path_buf(),
    })?;
    if data.len() != 6 {
        return Err(not_component(format!(
            "`{API_SECTION}` section has {} bytes, expected 6",
            data.len()
        )));
    }
    let at = |i: usize| u16::from_be_bytes([data[i], data[i + 1]]);
    Ok(ApiVersion {
        major: at(0),
        minor: at(2),
        patch: at(4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_follows_component_semver() {
        let v = |major, minor, patch| ApiVersion {
            major,
            minor,
            patch,
        };
        assert!(v(0, 1, 0).is_compatible_with(HOST_API));
        assert!(v(0, 1, 7).is_compatible_with(HOST_API));
        assert!(!v(0, 2, 0).is_compatible_with(HOST_API));
        assert!(!v(1, 1, 0).is_compatible_with(HOST_API));
        assert!(v(1, 4, 0).is_compatible_with(v(1, 0, 0)));
        assert_eq!(supported_range(), ">=0.1.0, <0.2.0");
    }

    #[test]
    fn garbage_and_core_modules_are_rejected_precisely() {
        let p = Path::new("x.wasm");
        let err = read_api_version(p, b"definitely not wasm").unwrap_err();
        assert!(
            err.to_string().contains("not a WebAssembly component"),
            "{err}"
        );
        // A valid, empty core module: magic + version 1.
        let err = read_api_version(p, b"\0asm\x01\0\0\0").unwrap_err();
        assert!(err.to_string().contains("core module"), "{err}");
        assert!(read_api_version(p, b"").is_err());
    }
}
