//! The ports implemented on the real rooms: `vapr-editor` for the editor LLM and
//! `vapr-plugin` for injectors, validators and prompt templates.

mod editor;

pub use editor::OpenAiEditor;
