//! The plugin room: one shared wasmtime Engine, sandboxed per-call Stores, plugin
//! discovery and building, and hot reload of plugins and prompt templates.
