//! Generated host bindings for `wit/v0.1` and conversions to the host's own types.
//!
//! Both worlds share the `types` and `host` interfaces, so the validator bindings reuse
//! the injector's (`with:`); one `host` implementation serves both.

#![allow(clippy::all)]

pub(crate) mod injector {
    wasmtime::component::bindgen!({
        path: "../../../wit/v0.1",
        world: "error-injector",
        imports: { default: trappable },
    });
}

pub(crate) mod validator {
    wasmtime::component::bindgen!({
        path: "../../../wit/v0.1",
        world: "validator",
        imports: { default: trappable },
        with: {
            "vapr:plugin/types": super::injector::vapr::plugin::types,
            "vapr:plugin/host": super::injector::vapr::plugin::host,
        },
    });
}

use injector::vapr::plugin::types as wit;

use crate::types::{Edit, GuestError, LogLevel, Sample, Verdict};

impl From<&Sample> for wit::Sample {
    fn from(s: &Sample) -> Self {
        wit::Sample {
            id: s.id.clone(),
            question: s.question.clone(),
            answer: s.answer.clone(),
            category: s.category.clone(),
            params: s.params.clone(),
            penalty: s.penalty.clone(),
            feedback: s.feedback.clone(),
        }
    }
}

impl From<wit::Edit> for Edit {
    fn from(e: wit::Edit) -> Self {
        Edit {
            rejected: e.rejected,
            note: e.note,
            extra: e.extra,
        }
    }
}

impl From<wit::Verdict> for Verdict {
    fn from(v: wit::Verdict) -> Self {
        Verdict {
            pass: v.pass,
            score: v.score,
            reasons: v.reasons,
            metrics: v.metrics,
        }
    }
}

impl From<wit::PluginError> for GuestError {
    fn from(e: wit::PluginError) -> Self {
        match e {
            wit::PluginError::Refused(m) => GuestError::Refused(m),
            wit::PluginError::BadReply(m) => GuestError::BadReply(m),
            wit::PluginError::BadTemplate(m) => GuestError::BadTemplate(m),
            wit::PluginError::InvalidInput(m) => GuestError::InvalidInput(m),
            wit::PluginError::Internal(m) => GuestError::Internal(m),
        }
    }
}

impl From<wit::Level> for LogLevel {
    fn from(l: wit::Level) -> Self {
        match l {
            wit::Level::Trace => LogLevel::Trace,
            wit::Level::Debug => LogLevel::Debug,
            wit::Level::Info => LogLevel::Info,
            wit::Level::Warn => LogLevel::Warn,
            wit::Level::Error => LogLevel::Error,
        }
    }
}

pub(crate) use wit::Edit as WitEdit;
pub(crate) use wit::PluginError as WitPluginError;
pub(crate) use wit::PluginInfo as WitPluginInfo;
