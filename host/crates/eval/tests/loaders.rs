//! Each benchmark's loader on small files written in its real layout.

mod common;

use common::*;
use vapr_eval::bench::benchmark;
use vapr_eval::run::load_bench;
use vapr_eval::{Bench, EvalError, ImageData};

#[test]
fn test_cvbench_parquet_two_shards_with_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cvbench");
    std::fs::create_dir(&data).unwrap();
    let prompt =
        "How many chairs are in the image? Select from the following choices.\n(A) 3\n(B) 2";
    // 2D shard: the second row's image has neither bytes nor path: bad row, skipped.
    write_parquet(
        &data.join("test_2d.parquet"),
        vec![
            ("idx", i32s(&[0, 1, 2])),
            ("type", strs(&["2D", "2D", "2D"])),
            ("task", strs(&["Count", "Count", "Relation"])),
            (
                "image",
                images(&[
                    (Some(png([1, 2, 3])), None),
                    (None, None),
                    (Some(png([9, 9, 9])), Some("x.png")),
                ]),
            ),
            ("question", strs(&["q0", "q1", "q2"])),
            (
                "choices",
                str_lists(&[&["3", "2"], &["1", "2"], &["left", "right"]]),
            ),
            ("answer", strs(&["(B)", "(A)", "(A)"])),
            ("prompt", strs(&[prompt, prompt, prompt])),
            ("filename", strs(&["a", "b", "c"])),
            ("source", strs(&["ADE20K", "COCO", "COCO"])),
            ("source_dataset", strs(&["ADE20K", "COCO", "COCO"])),
            ("source_filename", strs(&["a", "b", "c"])),
            ("target_class", strs(&["chair", "cup", "cup"])),
            ("target_size", i32s(&[10, 20, 30])),
            ("bbox", boxes(3)),
        ],
    );
    write_parquet(
        &data.join("test_3d.parquet"),
        vec![
            ("idx", i32s(&[3])),
            ("type", strs(&["3D"])),
            ("task", strs(&["Depth"])),
            ("image", png_images(1)),
            ("question", strs(&["q3"])),
            ("choices", str_lists(&[&["lamp", "table"]])),
            ("answer", strs(&["(A)"])),
            ("prompt", strs(&["Which is closer?\n(A) lamp\n(B) table"])),
            ("source", strs(&["Omni3D"])),
        ],
    );
    let report = load_bench(Bench::Cvbench, std::slice::from_ref(&data)).unwrap();
    let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["0", "2", "3"]);
    let first = &report.items[0];
    assert_eq!(first.gold, "B");
    assert_eq!(
        first.prompt,
        format!("{prompt}\nAnswer with the option's letter from the given choices directly.")
    );
    assert_eq!(first.images, vec![ImageData::Encoded(png([1, 2, 3]))]);
    assert_eq!(first.images[0].to_rgb().unwrap().dimensions(), (4, 4));
    assert_eq!(first.info.n_choices, Some(2));
    assert_eq!(report.items[2].info.source.as_deref(), Some("Omni3D"));
    assert_eq!(report.skipped.len(), 1);
    let bad = &report.skipped[0];
    assert!(
        bad.path.ends_with("test_2d.parquet") && bad.row == 1,
        "{bad:?}"
    );
    assert!(bad.reason.contains("neither bytes nor path"), "{bad:?}");
}

#[test]
fn test_mmstar_parquet_and_vlmevalkit_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("mmstar.parquet");
    let meta = {
        use arrow::array::{ArrayRef, StructArray};
        use arrow::datatypes::{DataType, Field};
        use std::sync::Arc;
        Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("source", DataType::Utf8, true)),
                strs(&["MMBench", "SEEDBench"]),
            ),
            (
                Arc::new(Field::new("split", DataType::Utf8, true)),
                strs(&["val", "val"]),
            ),
            (
                Arc::new(Field::new("image_path", DataType::Utf8, true)),
                strs(&["1.jpg", "2.jpg"]),
            ),
        ])) as ArrayRef
    };
    let q = "Which option describe the object relationship in the image correctly?\nOptions: A: The suitcase is on the book., B: The suitcase is beneath the cat., C: x, D: y";
    write_parquet(
        &pq,
        vec![
            ("index", i64s(&[0, 1])),
            (
                "question",
                strs(&[q, "  What is it?\nOptions: A: a, B: b, C: c, D: d  "]),
            ),
            ("image", png_images(2)),
            ("answer", strs(&["A", "E"])),
            ("category", strs(&["coarse perception", "math"])),
            ("l2_category", strs(&["image scene and topic", "geometry"])),
            ("meta_info", meta),
        ],
    );
    let report = load_bench(Bench::Mmstar, &[pq]).unwrap();
    assert_eq!(report.items.len(), 1, "answer E is not A-D");
    assert_eq!(report.skipped[0].row, 1);
    let item = &report.items[0];
    assert_eq!(
        item.prompt,
        format!("{q}\nAnswer with the option's letter from the given choices directly")
    );
    assert_eq!(
        item.info.l2_category.as_deref(),
        Some("image scene and topic")
    );

    // VLMEvalKit: options in A..D columns, `l2-category`, base64 image, a row reusing row 10's image.
    let tsv = dir.path().join("MMStar.tsv");
    let img = b64(&png([5, 5, 5]));
    write_tsv(
        &tsv,
        &[
            "index",
            "question",
            "A",
            "B",
            "C",
            "D",
            "answer",
            "category",
            "l2-category",
            "image",
        ],
        &[
            vec![
                "10".into(),
                "What is shown?".into(),
                "cat".into(),
                "dog".into(),
                "cow".into(),
                "hen".into(),
                "B".into(),
                "math".into(),
                "geometry".into(),
                img,
            ],
            vec![
                "11".into(),
                "And here?".into(),
                "1".into(),
                "2".into(),
                "3".into(),
                "4".into(),
                "d".into(),
                "math".into(),
                "numeric".into(),
                "10".into(),
            ],
        ],
    );
    let report = load_bench(Bench::Mmstar, &[tsv]).unwrap();
    assert_eq!(report.items.len(), 2);
    assert_eq!(
        report.items[0].prompt,
        "What is shown?\nOptions: A: cat, B: dog, C: cow, D: hen\nAnswer with the option's letter from the given choices directly"
    );
    assert_eq!(report.items[1].gold, "D");
    assert_eq!(report.items[1].info.l2_category.as_deref(), Some("numeric"));
    assert_eq!(
        report.items[1].images,
        vec![ImageData::Encoded(png([5, 5, 5]))]
    );
}

/// One NaturalBench group as one HF row.
fn naturalbench_shard(
    path: &std::path::Path,
    index: i64,
    type_col: &str,
    golds: [&str; 4],
    qtype: &str,
) {
    let (q0, q1) = if qtype == "yes_no" {
        ("Is the dog left?", "Is the dog right?")
    } else {
        (
            "Which is red?\nA. ball\nB. box",
            "Which is blue?\nA. ball\nB. box",
        )
    };
    write_parquet(
        path,
        vec![
            ("Index", i64s(&[index])),
            ("Image_0", png_images(1)),
            ("Image_1", png_images(1)),
            ("Question_0", strs(&[q0])),
            ("Image_0_Question_0", strs(&[golds[0]])),
            ("Image_1_Question_0", strs(&[golds[1]])),
            ("Question_1", strs(&[q1])),
            ("Image_0_Question_1", strs(&[golds[2]])),
            ("Image_1_Question_1", strs(&[golds[3]])),
            (type_col, strs(&[qtype])),
            ("Source", strs(&["winoground"])),
        ],
    );
}

#[test]
fn test_naturalbench_groups_flatten_in_mandatory_order_across_shards() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nb");
    std::fs::create_dir(&data).unwrap();
    // Two shards, the type column spelled both ways.
    naturalbench_shard(
        &data.join("train-00000-of-00002.parquet"),
        0,
        "Question_Type",
        ["Yes", "No", "No", "Yes"],
        "yes_no",
    );
    naturalbench_shard(
        &data.join("train-00001-of-00002.parquet"),
        1,
        "Question Type",
        ["A", "B", "B", "A"],
        "multiple_choice",
    );
    let report = load_bench(Bench::Naturalbench, &[data]).unwrap();
    let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["0", "1", "2", "3", "4", "5", "6", "7"]);
    let golds: Vec<&str> = report.items.iter().map(|i| i.gold.as_str()).collect();
    assert_eq!(golds, ["yes", "no", "no", "yes", "A", "B", "B", "A"]);
    assert_eq!(
        report.items[2].prompt,
        "Is the dog right? Please answer Yes or No."
    );
    assert!(
        report.items[5]
            .prompt
            .ends_with("B. box Please output the letter corresponding to the correct option.")
    );
    // (q0, i1) uses Image_1 — the two images differ in colour in the real data; here check slots.
    assert_eq!(report.items[1].info.slot, Some(1));
    assert_eq!(report.items[7].info.group, Some(1));
    assert_eq!(
        report.items[7].info.question_type.as_deref(),
        Some("multiple_choice")
    );
}

#[test]
fn test_naturalbench_gold_pattern_violation_fails_naming_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("nb.parquet");
    naturalbench_shard(
        &pq,
        41,
        "Question_Type",
        ["Yes", "Yes", "No", "Yes"],
        "yes_no",
    );
    let err = load_bench(Bench::Naturalbench, &[pq]).unwrap_err();
    assert!(
        matches!(err, EvalError::NaturalBenchPattern { group: 41, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("group 41") && text.contains("[1, 1, 0, 1]"),
        "{text}"
    );
}

#[test]
fn test_naturalbench_flattened_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = dir.path().join("NaturalBenchDataset.tsv");
    let img = b64(&png([1, 1, 1]));
    let row = |i: usize, q: &str, a: &str| {
        vec![
            i.to_string(),
            img.clone(),
            q.to_string(),
            a.to_string(),
            "yes_no".to_string(),
        ]
    };
    // Rows given out of order: the loader orders by index.
    let rows = vec![
        row(1, "Q0?", "No"),
        row(0, "Q0?", "Yes"),
        row(2, "Q1?", "No"),
        row(3, "Q1?", "Yes"),
    ];
    write_tsv(
        &tsv,
        &["index", "image", "question", "answer", "type"],
        &rows,
    );
    let report = load_bench(Bench::Naturalbench, std::slice::from_ref(&tsv)).unwrap();
    let golds: Vec<&str> = report.items.iter().map(|i| i.gold.as_str()).collect();
    assert_eq!(golds, ["yes", "no", "no", "yes"]);
    // A missing row breaks the 4g..4g+3 layout: a clear error, not a silently short group.
    write_tsv(
        &tsv,
        &["index", "image", "question", "answer", "type"],
        &rows[..3],
    );
    let err = load_bench(Bench::Naturalbench, &[tsv])
        .unwrap_err()
        .to_string();
    assert!(err.contains("group 0 has 3 rows"), "{err}");
}

#[test]
fn test_pope_parquet_and_tsv_with_exploded_categories() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("pope.parquet");
    write_parquet(
        &pq,
        vec![
            ("id", strs(&["0", "1", "2"])),
            ("question_id", strs(&["1", "2", "3"])),
            (
                "question",
                strs(&[
                    "Is there a snowboard in the image?",
                    "Is there a dog in the image?",
                    "Is there a cat?",
                ]),
            ),
            ("answer", strs(&["yes", "no", "maybe"])),
            (
                "image_source",
                strs(&["COCO_val2014_000000310196", "x", "y"]),
            ),
            ("image", png_images(3)),
            ("category", strs(&["adversarial", "random", "popular"])),
        ],
    );
    let report = load_bench(Bench::Pope, &[pq]).unwrap();
    assert_eq!(report.items.len(), 2);
    assert_eq!(report.skipped.len(), 1, "gold 'maybe' is not yes/no");
    assert_eq!(report.items[0].id, "adversarial/1");
    assert_eq!(
        report.items[0].prompt,
        "Is there a snowboard in the image?\nAnswer the question using a single word or phrase."
    );
    assert_eq!(report.items[1].info.split.as_deref(), Some("random"));

    let tsv = dir.path().join("POPE.tsv");
    let img = b64(&png([3, 3, 3]));
    write_tsv(
        &tsv,
        &["index", "image", "question", "answer", "category"],
        &[vec![
            "7".into(),
            img,
            "Is there a car?".into(),
            "No".into(),
            "popular,random".into(),
        ]],
    );
    let report = load_bench(Bench::Pope, &[tsv]).unwrap();
    let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["popular/7", "random/7"]);
    assert_eq!(report.items[0].gold, "no");
}

fn mmvp_rows(corrected: bool) -> Vec<(&'static str, arrow::array::ArrayRef)> {
    let (g99, g100, g279, g280) = if corrected {
        ("(b)", "(a)", "(b)", "(a)")
    } else {
        ("(a)", "(b)", "(a)", "(b)")
    };
    let tusks = "Are the elephant's tusks long or short?";
    let elderly = "Is the elderly person standing or sitting in the picture?";
    vec![
        ("Index", i32s(&[1, 2, 99, 100, 279, 280])),
        (
            "Question",
            strs(&[
                "Is the door open?",
                "Is the door open?",
                tusks,
                tusks,
                elderly,
                elderly,
            ]),
        ),
        (
            "Options",
            strs(&[
                "(a) Open (b) Closed",
                "(a) Open (b) Closed",
                "(a) Long (b) Short",
                "(a) Long (b) Short",
                "(a) Standing (b) Sitting",
                "(a) Standing (b) Sitting",
            ]),
        ),
        (
            "Correct Answer",
            strs(&["(a)", "(b)", g99, g100, g279, g280]),
        ),
        ("image", png_images(6)),
    ]
}

#[test]
fn test_mmvp_corrections_only_on_uncorrected_source() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original.parquet");
    write_parquet(&original, mmvp_rows(false));
    let report = load_bench(Bench::Mmvp, &[original]).unwrap();
    let gold = |id: &str| {
        report
            .items
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .gold
            .clone()
    };
    assert_eq!(
        [gold("99"), gold("100"), gold("279"), gold("280")],
        ["B", "A", "B", "A"]
    );
    assert_eq!([gold("1"), gold("2")], ["A", "B"]);
    assert!(
        report
            .items
            .iter()
            .find(|i| i.id == "99")
            .unwrap()
            .info
            .gold_corrected
    );
    assert!(
        report.notes.iter().any(|n| n.contains("swapped")),
        "{:?}",
        report.notes
    );
    let item = &report.items[0];
    assert_eq!(
        item.prompt,
        "Is the door open?\nA. Open\nB. Closed\nAnswer with the option's letter from the given choices directly."
    );
    assert_eq!((item.info.group, item.info.slot), (Some(0), Some(0)));

    // The corrected copy (lmms-lab-eval/MMVP) is left alone.
    let fixed = dir.path().join("fixed.parquet");
    write_parquet(&fixed, mmvp_rows(true));
    let report = load_bench(Bench::Mmvp, &[fixed]).unwrap();
    let gold = |id: &str| {
        report
            .items
            .iter()
            .find(|i| i.id == id)
            .unwrap()
            .gold
            .clone()
    };
    assert_eq!(
        [gold("99"), gold("100"), gold("279"), gold("280")],
        ["B", "A", "B", "A"]
    );
    assert!(report.items.iter().all(|i| !i.info.gold_corrected));
    assert!(
        report.notes.iter().all(|n| n.contains("already corrected")),
        "{:?}",
        report.notes
    );
}

#[test]
fn test_mmvp_official_csv_with_image_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("MMVP Images")).unwrap();
    std::fs::write(dir.path().join("MMVP Images/1.jpg"), png([1, 1, 1])).unwrap();
    std::fs::write(dir.path().join("MMVP Images/2.jpg"), png([2, 2, 2])).unwrap();
    let csv = dir.path().join("Questions.csv");
    std::fs::write(
        &csv,
        "Index,Question,Options,Correct Answer\n1,Is the door open?,(a) Open (b) Closed,(a)\n2,Is the door open?,(a) Open (b) Closed,(b)\n3,Where?,(a) Up (b) Down,(a)\n",
    )
    .unwrap();
    let report = load_bench(Bench::Mmvp, &[csv]).unwrap();
    assert_eq!(report.items.len(), 2);
    assert_eq!(report.skipped.len(), 1, "no image file for Index 3");
    assert!(report.skipped[0].reason.contains("3.jpg"));
    assert_eq!(
        report.items[1].images[0]
            .to_rgb()
            .unwrap()
            .get_pixel(0, 0)
            .0,
        [2, 2, 2]
    );
}

#[test]
fn test_every_protocol_is_named() {
    let names: Vec<&str> = Bench::ALL
        .iter()
        .map(|b| benchmark(*b).protocol())
        .collect();
    assert_eq!(
        names,
        [
            "cvbench/cambrian-v1",
            "mmstar/official-v1",
            "naturalbench/official-v1",
            "pope/official-v1",
            "mmvp/letter-v1"
        ]
    );
}
