//! The editor room: talking to an editor LLM over the OpenAI chat-completions protocol.
