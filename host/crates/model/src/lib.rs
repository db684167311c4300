//! The model room: burn implementations of the supported vision-language model families,
//! weight loading from Hugging Face folders, tokenizers, chat templates and image processors.
