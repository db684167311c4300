//! Loading whole plugin directories: scan, build stale dev crates, load each component.
//! One bad plugin is reported and skipped; it never stops the others.

use std::path::{Path, PathBuf};

use crate::builder::Builder;
use crate::discover::{self, Candidate};
use crate::error::LoadError;
use crate::registry::PluginHost;
use crate::types::PluginInfo;

/// What `load_dirs` did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Loaded plugins, in discovery order.
    pub loaded: Vec<PluginInfo>,
    /// Crates that were (re)built before loading.
    pub built: Vec<PathBuf>,
    /// Candidates that failed (path, why).
    pub failed: Vec<(PathBuf, LoadError)>,
}

impl PluginHost {
    /// Loads every plugin found in `dirs` (see [`discover::scan`]). With a `builder`,
    /// stale plugin crates are built first; without one, crates load from their last
    /// build. Blocking (builds and compiles).
    pub fn load_dirs(&self, dirs: &[PathBuf], builder: Option<&Builder>) -> LoadReport {
        let mut report = LoadReport::default();
        for dir in dirs {
            for candidate in discover::scan(dir) {
                self.load_candidate(candidate, builder, &mut report);
            }
        }
        report
    }

    fn load_candidate(
        &self,
        candidate: Candidate,
        builder: Option<&Builder>,
        report: &mut LoadReport,
    ) {
        match candidate {
            Candidate::Component(path) => match self.load_file(&path, None) {
                Ok(info) => report.loaded.push(info),
                Err(e) => report.failed.push((path, e)),
            },
            Candidate::Crate(krate) => {
                let path = match builder {
                    Some(b) => match b.build_if_stale(&krate) {
                        Ok((path, built)) => {
                            if built {
                                report.built.push(krate.dir.clone());
                            }
                            path
                        }
                        Err(e) => return report.failed.push((krate.dir.clone(), e.into())),
                    },
                    None => Builder::new().component_path(&krate),
                };
                if !path.exists() {
                    let e = LoadError::Read {
                        path: path.clone(),
                        source: std::io::Error::new(
                            std::io::ErrorKind::NotFound,
                            format!(
                                "crate {} is not built (run `vapr plugins build {}`)",
                                krate.name,
                                krate.dir.display()
                            ),
                        ),
                    };
                    return report.failed.push((krate.dir.clone(), e));
                }
                match self.load_file(&path, Some(krate.dir.clone())) {
                    Ok(info) => report.loaded.push(info),
                    Err(e) => report.failed.push((krate.dir.clone(), e)),
                }
            }
        }
    }

    /// Builds (always running cargo) and loads one plugin crate directory.
    pub fn build_and_load(
        &self,
        crate_dir: &Path,
        builder: &Builder,
    ) -> Result<PluginInfo, LoadError> {
        let krate = discover::PluginCrate::read(crate_dir).ok_or_else(|| {
            LoadError::Build(crate::error::BuildError::Manifest {
                crate_dir: crate_dir.to_path_buf(),
                message: "no [package] with `[lib] crate-type = [\"cdylib\"]`".into(),
            })
        })?;
        let path = builder.build(&krate)?;
        self.load_file(&path, Some(krate.dir))
    }
}
