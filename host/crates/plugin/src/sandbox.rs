//! The sandbox every plugin call runs in: one shared `Engine` with an epoch ticker thread,
//! one `Linker`, and a fresh `Store` per call with memory, time, stderr and log limits.
//!
//! A trapped store is dropped with the call; nothing is ever reused across calls, so a
//! plugin that looped, overflowed or panicked costs exactly one failed call.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::injector;
use crate::error::{CallError, CallErrorKind};
use crate::types::{LogLevel, LogLine};

/// Resource limits of the sandbox. The defaults suit plugins that edit one short answer.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Cap of each linear memory (bytes); growing past it traps.
    pub memory_bytes: usize,
    /// Wall-clock deadline of one call (instantiate + call).
    pub deadline: Duration,
    /// Epoch tick: the deadline's granularity.
    pub tick: Duration,
    /// Capacity of the captured stdout+stderr pipe; writing past it fails the write.
    pub stderr_bytes: usize,
    /// Log lines accepted per call; one more traps the call.
    pub max_log_lines: usize,
    /// Log bytes (messages + fields) accepted per call.
    pub max_log_bytes: usize,
    /// Returned text may be `output_factor` × the input text + `output_base` bytes.
    pub output_factor: usize,
    pub output_base: usize,
    /// Largest `.wasm` file accepted.
    pub max_component_bytes: u64,
    /// Directory of compiled components (keyed by component sha256 and engine
    /// settings), so a CLI call does not recompile every plugin. `None` disables it.
    pub compile_cache: Option<std::path::PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(2),
            tick: Duration::from_millis(10),
            stderr_bytes: 64 << 10,
            max_log_lines: 256,
            max_log_bytes: 64 << 10,
            output_factor: 4,
            output_base: 64 << 10,
            max_component_bytes: 10 << 20,
            compile_cache: default_cache_dir(),
        }
    }
}

impl Limits {
    /// The largest output accepted for `input_len` bytes of input text.
    pub fn output_limit(&self, input_len: usize) -> usize {
        self.output_factor
            .saturating_mul(input_len)
            .saturating_add(self.output_base)
    }
}

/// `$VAPR_CACHE_DIR/plugins`, else `$XDG_CACHE_HOME/vapr/plugins`, else
/// `~/.cache/vapr/plugins`.
pub fn default_cache_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Some(d) = std::env::var_os("VAPR_CACHE_DIR") {
        return Some(PathBuf::from(d).join("plugins"));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("vapr/plugins"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vapr/plugins"))
}

/// Records the first denied memory growth so the error can say "memory limit".
pub(crate) struct Limiter {
    memory_bytes: usize,
    denied: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.denied.get_or_insert(desired);
            // An error (not `Ok(false)`) makes memory.grow trap instead of returning -1,
            // so the plugin cannot catch it and keep going.
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} bytes reached",
                self.memory_bytes
            )));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        32
    }
    fn tables(&self) -> usize {
        32
    }
    fn memories(&self) -> usize {
        8
    }
}

/// The host limit a plugin hit from inside a host call (carried through the trap).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LogFlood(String);

/// Per-call store data.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) logs: Vec<LogLine>,
    log_bytes: usize,
    max_log_lines: usize,
    max_log_bytes: usize,
    tag: Arc<str>,
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl injector::vapr::plugin::types::Host for StoreState {}

impl injector::vapr::plugin::host::Host for StoreState {
    fn log(
        &mut self,
        level: injector::vapr::plugin::types::Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        self.log_bytes +=
            message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        if self.logs.len() >= self.max_log_lines || self.log_bytes > self.max_log_bytes {
            return Err(wasmtime::Error::new(LogFlood(format!(
                "{} lines / {} bytes",
                self.max_log_lines, self.max_log_bytes
            ))));
        }
        let level = LogLevel::from(level);
        let tag = &*self.tag;
        match level {
            LogLevel::Trace => tracing::trace!(plugin = tag, ?fields, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin = tag, ?fields, "{message}"),
            LogLevel::Info => tracing::info!(plugin = tag, ?fields, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin = tag, ?fields, "{message}"),
            LogLevel::Error => tracing::error!(plugin = tag, ?fields, "{message}"),
        }
        self.logs.push(LogLine {
            level,
            message,
            fields,
        });
        Ok(())
    }
}

/// The shared engine, linker and ticker.
pub(crate) struct Sandbox {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<StoreState>,
    pub(crate) limits: Limits,
    ticks: Arc<AtomicU64>,
}

/// What one successful sandboxed call produced besides its value.
pub(crate) struct CallOutput<T> {
    pub value: T,
    pub logs: Vec<LogLine>,
    pub elapsed: Duration,
}

impl Sandbox {
    pub(crate) fn new(limits: Limits) -> Result<Self, wasmtime::Error> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .wasm_threads(false);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        // No preopens, env, args or inherited stdio are ever configured, and wasmtime-wasi
        // 48 denies sockets by default: linking all of WASI only hands out empty rooms.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        injector::ErrorInjector::add_to_linker::<
            StoreState,
            wasmtime::component::HasSelf<StoreState>,
        >(&mut linker, |s| s)?;
        let ticks = Arc::new(AtomicU64::new(0));
        spawn_ticker(&engine, limits.tick, ticks.clone());
        Ok(Sandbox {
            engine,
            linker,
            limits,
            ticks,
        })
    }

    /// How many epoch ticks the ticker thread has made (liveness checks).
    pub(crate) fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// Runs `f` on a fresh store; `f` instantiates and calls. Traps and limits become
    /// `CallError`s tagged with `tag` and `function`.
    pub(crate) fn call<T>(
        &self,
        tag: &Arc<str>,
        function: &'static str,
        f: impl FnOnce(&mut Store<StoreState>) -> wasmtime::Result<T>,
    ) -> Result<CallOutput<T>, CallError> {
        let start = Instant::now();
        let pipe = MemoryOutputPipe::new(self.limits.stderr_bytes);
        let wasi = WasiCtxBuilder::new()
            .stdout(pipe.clone())
            .stderr(pipe.clone())
            .build();
        let state = StoreState {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: self.limits.memory_bytes,
                denied: None,
            },
            logs: Vec::new(),
            log_bytes: 0,
            max_log_lines: self.limits.max_log_lines,
            max_log_bytes: self.limits.max_log_bytes,
            tag: tag.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks =
            (self.limits.deadline.as_nanos() / self.limits.tick.as_nanos().max(1)).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        let result = f(&mut store);
        let output = String::from_utf8_lossy(&pipe.contents()).into_owned();
        match result {
            Ok(value) => {
                let logs = std::mem::take(&mut store.data_mut().logs);
                drop(store);
                Ok(CallOutput {
                    value,
                    logs,
                    elapsed: start.elapsed(),
                })
            }
            Err(err) => {
                let kind = self.classify(&err, store.data(), output.len());
                drop(store);
                let kind = match kind {
                    CallErrorKind::Panic { .. } => CallErrorKind::Panic {
                        message: panic_message(&output),
                    },
                    k => k,
                };
                let mut e = CallError::new(tag.to_string(), function, kind);
                e.stderr = output;
                Err(e)
            }
        }
    }

    fn classify(
        &self,
        err: &wasmtime::Error,
        state: &StoreState,
        output_len: usize,
    ) -> CallErrorKind {
        if let Some(flood) = err.downcast_ref::<LogFlood>() {
            return CallErrorKind::LogFlood {
                limit: flood.0.clone(),
            };
        }
        if let Some(requested) = state.limiter.denied {
            return CallErrorKind::MemoryLimit {
                limit: self.limits.memory_bytes,
                requested,
            };
        }
        // The pipe either fills up exactly (the guest's write then fails and its panic
        // handler aborts) or traps a write that does not fit.
        let flooded = output_len >= self.limits.stderr_bytes
            || err
                .chain()
                .any(|c| c.to_string().contains("beyond capacity"));
        match err.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallErrorKind::Timeout(self.limits.deadline),
            Some(Trap::StackOverflow) => CallErrorKind::StackOverflow,
            _ if flooded => CallErrorKind::StderrFlood {
                capacity: self.limits.stderr_bytes,
            },
            Some(Trap::UnreachableCodeReached) => CallErrorKind::Panic {
                message: String::new(),
            },
            Some(trap) => CallErrorKind::Trap(trap.to_string()),
            None => CallErrorKind::Trap(format!("{err}")),
        }
    }
}

/// The panic text from captured stderr: the lines after `panicked at …:` up to the
/// backtrace note; the whole tail when the pattern is absent (e.g. an abort).
fn panic_message(output: &str) -> String {
    let mut lines = output.lines().skip_while(|l| !l.contains("panicked at"));
    if let Some(first) = lines.next() {
        let location = first
            .split("panicked at")
            .nth(1)
            .unwrap_or("")
            .trim()
            .trim_end_matches(':');
        let body: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).collect();
        let body = body.join("\n");
        return if location.is_empty() {
            body
        } else {
            format!("{body} (at {location})")
        };
    }
    let trimmed = output.trim();
    if trimmed.is_empty() {
        "unreachable code reached (abort without a message)".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Increments the engine's epoch every `tick` until the engine is dropped.
fn spawn_ticker(engine: &Engine, tick: Duration, counter: Arc<AtomicU64>) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("vapr-plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
                counter.fetch_add(1, Ordering::Relaxed);
            }
        })
        .expect("cannot spawn the epoch ticker thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_keeps_text_and_location() {
        let out = "thread '<unnamed>' panicked at src/lib.rs:9:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(out), "boom (at src/lib.rs:9:5)");
        assert_eq!(
            panic_message(""),
            "unreachable code reached (abort without a message)"
        );
    }

    #[test]
    fn output_limit_scales_with_input() {
        let l = Limits::default();
        assert_eq!(l.output_limit(0), 64 << 10);
        assert_eq!(l.output_limit(1000), 4000 + (64 << 10));
    }

    #[test]
    fn ticker_runs() {
        let sb = Sandbox::new(Limits::default()).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert!(sb.ticks() >= 2, "ticks: {}", sb.ticks());
    }
}
