//! Helpers that write small benchmark files in the real layouts: HF parquet with `{bytes,
//! path}` image structs, VLMEvalKit TSV with base64 images.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, Float32Builder, Int32Array, Int64Array, ListBuilder, StringArray,
    StringBuilder, StructArray,
};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use base64::Engine as _;

/// A 4×4 PNG of one colour.
pub fn png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn strs(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

pub fn i32s(values: &[i32]) -> ArrayRef {
    Arc::new(Int32Array::from(values.to_vec()))
}

pub fn i64s(values: &[i64]) -> ArrayRef {
    Arc::new(Int64Array::from(values.to_vec()))
}

/// An HF `Image` column: struct {bytes: binary, path: string}.
pub fn images(entries: &[(Option<Vec<u8>>, Option<&str>)]) -> ArrayRef {
    let bytes: Vec<Option<&[u8]>> = entries.iter().map(|(b, _)| b.as_deref()).collect();
    let paths: Vec<Option<&str>> = entries.iter().map(|(_, p)| *p).collect();
    Arc::new(StructArray::from(vec![
        (
            Arc::new(Field::new("bytes", DataType::Binary, true)),
            Arc::new(BinaryArray::from_opt_vec(bytes)) as ArrayRef,
        ),
        (
            Arc::new(Field::new("path", DataType::Utf8, true)),
            Arc::new(StringArray::from(paths)) as ArrayRef,
        ),
    ]))
}

/// Images with bytes, one colour each.
pub fn png_images(n: usize) -> ArrayRef {
    let entries: Vec<(Option<Vec<u8>>, Option<&str>)> = (0..n)
        .map(|i| (Some(png([(i % 12) as u8 * 20, 100, 200])), Some("img.png")))
        .collect();
    images(&entries)
}

/// A `list<string>` column.
pub fn str_lists(rows: &[&[&str]]) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for row in rows {
        for v in *row {
            b.values().append_value(v);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// A `list<list<float>>` column (CV-Bench `bbox`).
pub fn boxes(n: usize) -> ArrayRef {
    let mut b = ListBuilder::new(ListBuilder::new(Float32Builder::new()));
    for _ in 0..n {
        for v in [1.0f32, 2.0, 3.0, 4.0] {
            b.values().values().append_value(v);
        }
        b.values().append(true);
        b.append(true);
    }
    Arc::new(b.finish())
}

/// Writes columns as one parquet file.
pub fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Writes a TSV the way pandas does (tab-separated, header line).
pub fn write_tsv(path: &Path, header: &[&str], rows: &[Vec<String>]) {
    let mut text = header.join("\t");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join("\t"));
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}
