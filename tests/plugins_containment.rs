//! End-to-end containment tests: malicious plugins (tests/plugins/evil, evil-api, and
//! garbage bytes) against the real sandbox. Each test asserts the error kind, that the
//! call ended within the deadline plus a margin, that host memory did not balloon, and
//! that a well-behaved plugin still works afterwards on the same host.
//!
//! The test plugins are built once per run (into target/plugin-tests, a separate target
//! dir so the nested cargo never waits on the outer one) and loaded into one shared host.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use vapr_plugin::{CallError, CallErrorKind, GuestError, Limits, LoadError, PluginHost, Sample};

/// Margin over the 2 s deadline: epoch granularity plus a loaded 2-core machine.
const MARGIN: Duration = Duration::from_millis(1500);
/// Largest accepted growth of the host's resident memory over one misbehaving call.
const RSS_BUDGET_KB: u64 = 200 * 1024;

/// The directory holding the built test components.
fn built() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = support::repo_root();
        let target = root.join("target/plugin-tests");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--workspace",
                "--quiet",
            ])
            .arg("--manifest-path")
            .arg(root.join("tests/plugins/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env("RUSTC_WRAPPER", "")
            .output()
            .expect("cannot run cargo");
        assert!(
            out.status.success(),
            "building tests/plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("wasm32-wasip2/release")
    })
}

/// One host for the whole file, with `evil` and `good` loaded.
fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let host = PluginHost::new(Limits::default()).unwrap();
        host.load_file(&built().join("evil.wasm"), None).unwrap();
        host.load_file(&built().join("good.wasm"), None).unwrap();
        host
    })
}

/// Tests run one at a time: timings and memory deltas stay meaningful.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn evil_sample(behaviour: &str) -> Sample {
    let mut s = Sample::new("evil#0", "How many?", "There are three red cats.");
    s.params.push(("do".into(), behaviour.into()));
    s
}

/// Runs `evil` with `behaviour`, checks time and memory, then that `good` (and `evil` in
/// its harmless mode) still work on the same host. Returns the call's result.
fn contained(behaviour: &str) -> Result<vapr_plugin::Called<vapr_plugin::Edit>, CallError> {
    let host = host();
    let before = rss_kb();
    let start = Instant::now();
    let result = host.rule_edit("evil", &evil_sample(behaviour), 1);
    let elapsed = start.elapsed();
    let deadline = host.limits().deadline;
    assert!(elapsed < deadline + MARGIN, "{behaviour}: took {elapsed:?}");
    let grown = rss_kb().saturating_sub(before);
    assert!(
        grown < RSS_BUDGET_KB,
        "{behaviour}: host RSS grew by {grown} KiB"
    );
    still_works(host);
    result
}

fn still_works(host: &PluginHost) {
    let good = host
        .rule_edit(
            "good",
            &Sample::new("g#0", "What colour?", "The red car."),
            0,
        )
        .unwrap();
    assert_eq!(good.value.rejected, "The blue car.");
    assert_eq!(
        (good.plugin.as_str(), good.version.as_str()),
        ("good", "1.2.3")
    );
    assert_eq!(good.logs.len(), 1);
    // The misbehaving plugin itself gets a fresh store: its harmless mode works.
    let fine = host.rule_edit("evil", &evil_sample("nothing"), 0).unwrap();
    assert_eq!(fine.value.rejected, "THERE ARE THREE RED CATS.");
}

#[test]
fn test_infinite_loop_is_killed_at_the_deadline() {
    let _g = serial();
    let ticks = host().epoch_ticks();
    let start = Instant::now();
    let err = contained("loop").unwrap_err();
    assert!(
        start.elapsed() >= Duration::from_millis(1900),
        "killed too early: {:?}",
        start.elapsed()
    );
    assert_eq!(err.kind, CallErrorKind::Timeout(Duration::from_secs(2)));
    assert!(err.is_trap() && !err.is_refusal());
    assert!(
        err.to_string()
            .starts_with("plugin evil@0.1.0: rule-edit: timed out"),
        "{err}"
    );
    assert!(
        host().epoch_ticks() > ticks + 100,
        "the epoch ticker must keep running"
    );
}

#[test]
fn test_unbounded_allocation_hits_the_memory_cap() {
    let _g = serial();
    let err = contained("alloc").unwrap_err();
    match err.kind {
        CallErrorKind::MemoryLimit { limit, requested } => {
            assert_eq!(limit, 64 << 20);
            assert!(requested > limit);
        }
        other => panic!("expected MemoryLimit, got {other:?}"),
    }
}

#[test]
fn test_deep_recursion_overflows_the_stack() {
    let _g = serial();
    let err = contained("recursion").unwrap_err();
    assert_eq!(err.kind, CallErrorKind::StackOverflow, "{err}");
}

#[test]
fn test_panic_message_reaches_the_error() {
    let _g = serial();
    let err = contained("panic").unwrap_err();
    let CallErrorKind::Panic { message } = &err.kind else {
        panic!("expected Panic, got {err}")
    };
    assert!(
        message.starts_with("boom: the evil plugin gave up"),
        "{message}"
    );
    assert!(message.contains("src/lib.rs"), "location kept: {message}");
    assert!(err.stderr.contains("boom"));
    assert!(err.to_string().contains("panicked: boom"), "{err}");
}

#[test]
fn test_filesystem_is_out_of_reach() {
    let _g = serial();
    let _ = std::fs::remove_file("/tmp/vapr-evil-was-here");
    let err = contained("fs").unwrap_err();
    match err.guest() {
        Some(GuestError::Internal(m)) => assert!(m.starts_with("filesystem denied"), "{m}"),
        other => panic!("expected the plugin's own filesystem error, got {other:?} ({err})"),
    }
    assert!(!std::path::Path::new("/tmp/vapr-evil-was-here").exists());
}

#[test]
fn test_environment_and_args_are_empty() {
    let _g = serial();
    // SAFETY: tests in this file are serialised; nothing else reads this variable.
    unsafe { std::env::set_var("VAPR_SECRET_TOKEN", "hunter2") };
    let edit = contained("env").unwrap();
    assert!(
        edit.value.rejected.starts_with("env=0 args=0 home=\"\""),
        "{}",
        edit.value.rejected
    );
    assert!(!edit.value.rejected.contains("hunter2"));
}

#[test]
fn test_huge_output_is_refused() {
    let _g = serial();
    let err = contained("bigout").unwrap_err();
    assert!(
        matches!(err.kind, CallErrorKind::OutputTooLarge { len, .. } if len == 50 << 20)
            || matches!(err.kind, CallErrorKind::MemoryLimit { .. }),
        "{err}"
    );
}

#[test]
fn test_log_floods_are_cut_off() {
    let _g = serial();
    let err = contained("logspam").unwrap_err();
    assert!(matches!(err.kind, CallErrorKind::LogFlood { .. }), "{err}");
    let err = contained("logbig").unwrap_err();
    assert!(matches!(err.kind, CallErrorKind::LogFlood { .. }), "{err}");
}

#[test]
fn test_stderr_flood_is_cut_off_and_captured() {
    let _g = serial();
    let err = contained("stderr").unwrap_err();
    assert_eq!(
        err.kind,
        CallErrorKind::StderrFlood { capacity: 64 << 10 },
        "{err}"
    );
    assert!(err.stderr.len() <= 64 << 10);
    assert!(err.stderr.starts_with("zzzz"));
}

#[test]
fn test_garbage_and_truncated_wasm_are_rejected_precisely() {
    let _g = serial();
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.wasm");
    std::fs::write(&garbage, b"this is not webassembly at all").unwrap();
    let err = host().load_file(&garbage, None).unwrap_err();
    assert!(matches!(err, LoadError::NotAComponent { .. }), "{err}");
    assert!(err.to_string().contains("garbage.wasm"), "{err}");

    let good = std::fs::read(built().join("good.wasm")).unwrap();
    let truncated = tmp.path().join("truncated.wasm");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let err = host().load_file(&truncated, None).unwrap_err();
    assert!(matches!(err, LoadError::NotAComponent { .. }), "{err}");
    still_works(host());
}

#[test]
fn test_incompatible_api_version_is_refused_before_compiling() {
    let _g = serial();
    let err = host()
        .load_file(&built().join("evil_api.wasm"), None)
        .unwrap_err();
    let LoadError::IncompatibleApi {
        plugin,
        found,
        supported,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (plugin.as_str(), found.as_str(), supported.as_str()),
        ("evil-api", "0.9.0", ">=0.1.0, <0.2.0")
    );
    let text = err.to_string();
    assert!(
        text.contains("evil-api") && text.contains("0.9.0") && text.contains(">=0.1.0, <0.2.0"),
        "{text}"
    );
    assert!(host().info("evil-api").is_none());
    still_works(host());
}

#[test]
fn test_broken_update_keeps_the_old_version_serving() {
    let _g = serial();
    // A private host: this test replaces files under a plugin's feet.
    let host = PluginHost::new(Limits::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("good.wasm");
    std::fs::copy(built().join("good.wasm"), &path).unwrap();
    let first = host.load_file(&path, None).unwrap();
    std::fs::write(&path, b"\0asm\x0d\0\x01\0garbage").unwrap();
    assert!(host.load_file(&path, None).is_err());
    std::fs::copy(built().join("evil_api.wasm"), &path).unwrap();
    assert!(matches!(
        host.load_file(&path, None),
        Err(LoadError::IncompatibleApi { .. })
    ));
    let still = host
        .rule_edit("good", &Sample::new("g", "q", "a red car"), 0)
        .unwrap();
    assert_eq!(still.value.rejected, "a blue car");
    assert_eq!(
        still.sha256, first.sha256,
        "the old component keeps serving"
    );
}

#[test]
fn test_concurrent_calls_are_not_blocked_by_a_runaway_plugin() {
    let _g = serial();
    let host = host();
    std::thread::scope(|s| {
        let runaway = s.spawn(|| host.rule_edit("evil", &evil_sample("loop"), 0));
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        for seed in 0..50 {
            host.rule_edit("good", &Sample::new("g", "q", "a red car"), seed)
                .unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "good calls waited: {:?}",
            start.elapsed()
        );
        assert!(matches!(
            runaway.join().unwrap().unwrap_err().kind,
            CallErrorKind::Timeout(_)
        ));
    });
}
