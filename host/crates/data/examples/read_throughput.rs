//! Reader throughput: writes N LLaVA-style records (two question/answer turns each) as a
//! pretty-printed JSON array and as JSONL, then streams them through `for_each_unit`.
//! Prints records/s, units/s and the process's peak memory (VmHWM, Linux).
//!
//! `cargo run -p vapr-data --example read_throughput -- 200000`

use std::io::Write;
use std::ops::ControlFlow;
use std::time::Instant;

use vapr_data::{ImageCheck, ReadOptions, for_each_unit};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("llava.json");
    let jsonl = dir.path().join("llava.jsonl");
    let mut a = std::io::BufWriter::new(std::fs::File::create(&json).unwrap());
    let mut b = std::io::BufWriter::new(std::fs::File::create(&jsonl).unwrap());
    writeln!(a, "[").unwrap();
    for i in 0..n {
        let record = serde_json::json!({
            "id": format!("{i:012}"),
            "image": format!("coco/train2017/{i:012}.jpg"),
            "conversations": [
                {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
                {"from": "gpt", "value": "The bus in the image is white and red, with a large advertisement on its side."},
                {"from": "human", "value": "What feature can be seen on the back of the bus?"},
                {"from": "gpt", "value": "The back of the bus features an advertisement for a local radio station."}
            ]
        });
        let sep = if i + 1 < n { "," } else { "" };
        writeln!(a, "{}{sep}", serde_json::to_string_pretty(&record).unwrap()).unwrap();
        writeln!(b, "{record}").unwrap();
    }
    writeln!(a, "]").unwrap();
    drop((a, b));
    let options = ReadOptions {
        check_images: ImageCheck::Off,
        ..ReadOptions::default()
    };
    for path in [&json, &jsonl] {
        let size = std::fs::metadata(path).unwrap().len() as f64 / 1e6;
        let start = Instant::now();
        let mut units = 0u64;
        let report = for_each_unit(std::slice::from_ref(path), &options, |_| {
            units += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {} records ({size:.0} MB), {units} units in {secs:.2}s: {:.0} records/s, {:.0} units/s, {:.0} MB/s",
            path.file_name().unwrap().to_string_lossy(),
            report.records,
            report.records as f64 / secs,
            units as f64 / secs,
            size / secs
        );
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory {peak:.0} MiB");
    }
}
