//! `vapr export`: export preference pairs to other trainers' formats.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use vapr_data::export::{ExportFormat, ExportOptions, export};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// TRL DPOTrainer, vision conversational format (JSONL: images, prompt, chosen, rejected).
    Trl,
    /// LLaMA-Factory sharegpt preference format, plus its dataset_info.json entry.
    Llamafactory,
}

const LONG_HELP: &str = "Convert a vapr preference JSONL file to the layout another trainer reads.\n\ntrl: JSONL rows {images: [path], prompt: [{role: user, content: [{type: image},\n{type: text, text}]}], chosen/rejected: [{role: assistant, content: [{type: text, text}]}]};\nload with `datasets.load_dataset(\"json\", ...)` and cast `images` to `Sequence(Image())`.\n\nllamafactory: {conversations: [{from: human, value: \"<image>Q\"}], chosen/rejected:\n{from: gpt, value}, images: [path]}; a JSON array when OUT ends in .json, else JSONL.\nThe dataset's entry is added to dataset_info.json beside OUT (other entries are kept).";

/// Arguments of `vapr export` (the long help is [`LONG_HELP`]).
#[derive(Debug, Args)]
#[command(after_long_help = LONG_HELP)]
pub struct ExportArgs {
    /// Target trainer format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Preference JSONL written by `vapr generate`.
    #[arg(value_name = "IN.jsonl")]
    pub input: PathBuf,
    /// Output file.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Directory to prefix relative image paths with (e.g. the absolute images folder).
    #[arg(long, value_name = "DIR")]
    pub image_root: Option<PathBuf>,
    /// LLaMA-Factory dataset name in dataset_info.json [default: OUT's file stem].
    #[arg(long)]
    pub name: Option<String>,
    /// Fail on the first malformed input line instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let format = match args.format {
        Format::Trl => ExportFormat::Trl,
        Format::Llamafactory => ExportFormat::LlamaFactory,
    };
    let options = ExportOptions {
        image_root: args.image_root,
        dataset_name: args.name,
        strict: args.strict,
    };
    let summary = export(&args.input, &args.output, format, &options).with_context(|| {
        format!(
            "exporting {} to {}",
            args.input.display(),
            args.output.display()
        )
    })?;
    println!(
        "wrote {} pairs to {}",
        summary.written,
        args.output.display()
    );
    if let Some(info) = summary.dataset_info {
        println!("dataset entry written to {}", info.display());
    }
    let skipped = summary.report.skipped_total();
    if skipped > 0 {
        println!(
            "skipped {skipped} malformed lines (first: {})",
            summary.report.issues[0].location
        );
    }
    Ok(())
}
