//! The ports implemented on the real rooms: `vapr-editor` for the editor LLM and
//! `vapr-plugin` for injectors, validators and prompt templates.

mod editor;
mod plugins;

pub use editor::OpenAiEditor;
pub use plugins::PluginRooms;
