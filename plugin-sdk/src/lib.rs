//! SDK for vapr plugins (error injectors and validators) compiled to wasm32-wasip2 components.
