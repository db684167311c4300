//! Tests of the supervised-input readers on small files written here.

use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryBuilder, Int64Array, ListArray, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use vapr_core::Category;

use super::*;

fn opts_no_check() -> ReadOptions {
    ReadOptions {
        check_images: ImageCheck::Off,
        ..ReadOptions::default()
    }
}

const LLAVA: &str = r#"[
  {
    "id": "000000033471",
    "image": "coco/train2017/000000033471.jpg",
    "conversations": [
      {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
      {"from": "gpt", "value": "The bus in the image is white and red."},
      {"from": "human", "value": "What feature can be seen on the back of the bus?"},
      {"from": "gpt", "value": "The back of the bus features an advertisement."}
    ]
  },
  {"id": "broken", "conversations": "oops"},
  {"id": "textonly", "conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}], "category": "reasoning"}
]"#;

#[test]
fn llava_json_splits_turns_with_stable_ids_and_reports_bad_records_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llava.json");
    std::fs::write(&path, LLAVA).unwrap();
    let (units, report) = read_units(std::slice::from_ref(&path), &opts_no_check()).unwrap();
    let ids: Vec<_> = units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["000000033471#0", "000000033471#1", "textonly#0"]);
    assert_eq!(
        units[0].question,
        "What are the colors of the bus in the image?"
    );
    assert_eq!(
        units[1].answer,
        "The back of the bus features an advertisement."
    );
    assert_eq!(
        units[1].image.as_deref(),
        Some("coco/train2017/000000033471.jpg")
    );
    assert!(
        units[0].source.ends_with("llava.json:2"),
        "{}",
        units[0].source
    );
    assert_eq!(units[2].image, None);
    assert_eq!(units[2].category_hint, Some(Category::Reasoning));
    assert_eq!(report.records, 3);
    assert_eq!(report.units, 3);
    assert_eq!(report.skipped[&SkipReason::WrongType], 1);
    assert!(
        report.issues[0].location.ends_with("llava.json:12"),
        "{:?}",
        report.issues
    );
    let err = read_units(
        &[path],
        &ReadOptions {
            strict: true,
            ..opts_no_check()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("llava.json:12: wrong_type"),
        "{err}"
    );
}

#[test]
fn jsonl_skips_broken_lines_and_missing_images_by_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("imgs")).unwrap();
    std::fs::write(dir.path().join("imgs/a.png"), b"x").unwrap();
    let path = dir.path().join("data.jsonl");
    let lines = [
        r#"{"id": "a", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\nQ?"}, {"from": "gpt", "value": "A."}]}"#,
        r#"{"id": "b", "image": "missing.png", "conversations": [{"from": "human", "value": "Q?"}, {"from": "gpt", "value": "A."}]}"#,
        r#"{"id": "c", "conversations": [{"from": "human", "value": "Q?"}"#,
        r#"[1, 2]"#,
        r#"{"id": "d", "conversations": [{"from": "gpt", "value": "A."}]}"#,
        r#"{"id": "a", "image": "a.png", "question": "Again?", "answer": "Yes."}"#,
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let opts = ReadOptions {
        image_root: Some(dir.path().join("imgs")),
        ..ReadOptions::default()
    };
    let (units, report) = read_units(&[path], &opts).unwrap();
    let ids: Vec<_> = units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["a#0", "a~2#0"]);
    assert_eq!(report.renamed_duplicates, 1);
    assert_eq!(report.skipped[&SkipReason::ImageMissing], 1);
    assert_eq!(report.skipped[&SkipReason::InvalidJson], 1);
    assert_eq!(report.skipped[&SkipReason::NotAnObject], 1);
    assert_eq!(report.skipped[&SkipReason::UnpairedTurn], 1);
    let missing = report
        .issues
        .iter()
        .find(|i| i.reason == SkipReason::ImageMissing)
        .unwrap();
    assert!(
        missing.location.ends_with("data.jsonl:2") && missing.detail.contains("missing.png"),
        "{missing:?}"
    );
}

#[test]
fn sink_can_stop_a_json_array_early() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("llava.json");
    std::fs::write(&path, LLAVA).unwrap();
    let mut seen = 0;
    for_each_unit(&[path], &opts_no_check(), |_| {
        seen += 1;
        ControlFlow::Break(())
    })
    .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn truncated_json_array_is_an_error_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.json");
    std::fs::write(&path, &LLAVA[..LLAVA.len() - 40]).unwrap();
    let err = read_units(&[path], &opts_no_check())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cut.json:") && err.contains("invalid JSON"),
        "{err}"
    );
}

fn png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A parquet file the way `datasets` writes one: `id`, `image` as `{bytes, path}`,
/// `conversations` as a list of `{from, value}` structs.
fn write_hf_parquet(path: &Path) {
    let mut bytes = BinaryBuilder::new();
    bytes.append_value(png([255, 0, 0]));
    bytes.append_value(b"not an image");
    bytes.append_null();
    let image_fields = Fields::from(vec![
        Field::new("bytes", DataType::Binary, true),
        Field::new("path", DataType::Utf8, true),
    ]);
    let image = StructArray::new(
        image_fields,
        vec![
            Arc::new(bytes.finish()) as ArrayRef,
            Arc::new(StringArray::from(vec![
                Some("r.png"),
                Some("bad.png"),
                None,
            ])),
        ],
        None,
    );
    let turn_fields = Fields::from(vec![
        Field::new("from", DataType::Utf8, true),
        Field::new("value", DataType::Utf8, true),
    ]);
    let turns = StructArray::new(
        turn_fields.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                "human", "gpt", "human", "gpt", "human", "gpt",
            ])) as ArrayRef,
            Arc::new(StringArray::from(vec![
                "<image>\nColor?",
                "Red.",
                "<image>\nQ?",
                "A.",
                "Text only?",
                "Yes.",
            ])),
        ],
        None,
    );
    let offsets = arrow::buffer::OffsetBuffer::new(vec![0i32, 2, 4, 6].into());
    let conversations = ListArray::new(
        Arc::new(Field::new("item", DataType::Struct(turn_fields), true)),
        offsets,
        Arc::new(turns),
        None,
    );
    let batch = RecordBatch::try_from_iter(vec![
        (
            "id",
            Arc::new(Int64Array::from(vec![10, 11, 12])) as ArrayRef,
        ),
        ("image", Arc::new(image) as ArrayRef),
        ("conversations", Arc::new(conversations) as ArrayRef),
    ])
    .unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_with_embedded_images_materialises_them_and_reports_corrupt_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-00000-of-00001.parquet");
    write_hf_parquet(&path);
    let (units, report) = read_units(std::slice::from_ref(&path), &ReadOptions::default()).unwrap();
    let ids: Vec<_> = units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["10#0", "12#0"]);
    assert_eq!(units[0].question, "Color?");
    let img = units[0].image.as_deref().unwrap();
    assert!(
        img.contains("train-00000-of-00001-images") && img.ends_with(".png"),
        "{img}"
    );
    assert_eq!(
        crate::images::load_rgb(Path::new(img))
            .unwrap()
            .get_pixel(0, 0)
            .0,
        [255, 0, 0]
    );
    assert!(units[0].source.ends_with("parquet row 0"));
    assert_eq!(units[1].image, None);
    assert_eq!(report.skipped[&SkipReason::ImageCorrupt], 1);
    assert!(
        report.issues[0].location.ends_with("row 1") && report.issues[0].detail.contains("bad.png")
    );
    // Explicit image directory, and the same content lands under the same name again.
    let out = dir.path().join("imgs");
    let (again, _) = read_units(
        &[path],
        &ReadOptions {
            image_dir: Some(out.clone()),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert!(
        again[0]
            .image
            .as_deref()
            .unwrap()
            .starts_with(out.to_str().unwrap())
    );
}

#[test]
fn directories_expand_to_sorted_supported_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for name in ["b.jsonl", "a.json", "notes.txt"] {
        std::fs::write(dir.path().join("data").join(name), "").unwrap();
    }
    let files = expand_inputs(&[dir.path().join("data")]).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(names, ["a.json", "b.jsonl"]);
}
