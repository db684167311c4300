//! Hot reload, end to end: a long `vapr plugins run --watch` picks up an edited prompt
//! template and a rebuilt plugin without a restart, and a broken rebuild leaves the
//! previous version serving.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{repo_root, run_ok, vapr};

/// Kills the watcher even when an assertion fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's stream, delivered through a channel.
fn lines(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a result line whose `result` satisfies `want` (other lines are skipped).
fn next_result(
    rx: &Receiver<String>,
    timeout: Duration,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> Value {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v["result"].as_str().is_some_and(&want) {
                return v;
            }
        }
        seen.push(line);
    }
    panic!("no result for `{what}` within {timeout:?}; lines seen: {seen:#?}");
}

fn wait_for(rx: &Receiver<String>, timeout: Duration, needle: &str) -> String {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if line.contains(needle) {
            return line;
        }
        seen.push(line);
    }
    panic!("`{needle}` not seen on stderr within {timeout:?}; lines: {seen:#?}");
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn test_watch_follows_template_edits_and_rebuilds_and_survives_a_broken_build() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    let prompts = tmp.path().join("prompts");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::create_dir_all(&prompts).unwrap();
    let target = repo_root().join("target/plugin-tests");
    run_ok(
        vapr()
            .args(["plugins", "new", "hot", "--kind", "injector", "--dir"])
            .arg(&plugins)
            .current_dir(repo_root()),
    );
    let crate_dir = plugins.join("hot");
    let template = prompts.join("spatial.txt");
    std::fs::write(&template, "v1 {question}").unwrap();

    let child = vapr()
        .args([
            "plugins",
            "run",
            "hot",
            "--mode",
            "prompt",
            "--watch",
            "--no-default-dirs",
            "--plugins-dir",
        ])
        .arg(&plugins)
        .arg("--templates")
        .arg(&prompts)
        .arg("--sample")
        .arg(crate_dir.join("sample.json"))
        .env("VAPR_PLUGIN_TARGET_DIR", &target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let out = lines(child.0.stdout.take().unwrap());
    let err = lines(child.0.stderr.take().unwrap());
    let build = Duration::from_secs(300);
    let question = "Where is the cat relative to the dog?";

    // First result: built and loaded at start-up.
    let first = next_result(&out, build, "v1", |r| r == format!("v1 {question}"));
    wait_for(
        &err,
        Duration::from_secs(30),
        "watching for plugin and template changes",
    );

    // 1. A template edit changes the next result, with a new template hash.
    std::fs::write(&template, "v2 {question}").unwrap();
    let second = next_result(&out, Duration::from_secs(30), "v2", |r| {
        r == format!("v2 {question}")
    });
    assert_ne!(first["template_sha256"], second["template_sha256"]);

    // 2. Rebuilding the plugin changes the next result: new code, new component hash.
    edit(
        &crate_dir.join("src/lib.rs"),
        "    // fit, build_prompt and parse_reply use the SDK defaults; override them as needed.\n",
        "    fn build_prompt(template: &str, sample: &Sample) -> Result<String, PluginError> {\n        \
         Ok(format!(\"[rebuilt] {}\", fill_template(template, sample)?))\n    }\n",
    );
    let third = next_result(&out, build, "rebuilt", |r| {
        r == format!("[rebuilt] v2 {question}")
    });
    assert_ne!(third["sha256"], second["sha256"]);

    // 3. A broken rebuild is reported and the rebuilt version keeps serving.
    edit(
        &crate_dir.join("src/lib.rs"),
        "pub struct",
        "this does not compile; pub struct",
    );
    wait_for(&err, build, "old version keeps serving");
    std::fs::write(&template, "v3 {question}").unwrap();
    let fourth = next_result(&out, Duration::from_secs(30), "v3", |r| {
        r.starts_with("[rebuilt] v3")
    });
    assert_eq!(fourth["sha256"], third["sha256"]);
}
