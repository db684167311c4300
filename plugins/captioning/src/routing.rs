//! Stage 2 routing across all bundled injectors: on a labelled corpus of typical
//! questions (synthetic world and LLaVA-665K style), the category whose plugin has the
//! highest fit must be the labelled one (ties go to the paper's category order, as in
//! the pipeline). The other plugins' fit modules are compiled in here from their sources;
//! they depend only on the SDK's text helpers.

#[path = "../../background/src/fit.rs"]
#[allow(dead_code)]
mod background_fit;
#[path = "../../color/src/fit.rs"]
#[allow(dead_code)]
mod color_fit;
#[path = "../../existence/src/fit.rs"]
#[allow(dead_code)]
mod existence_fit;
#[path = "../../object/src/fit.rs"]
#[allow(dead_code)]
mod object_fit;
#[path = "../../reasoning/src/fit.rs"]
#[allow(dead_code)]
mod reasoning_fit;
#[path = "../../referential/src/fit.rs"]
#[allow(dead_code)]
mod referential_fit;
#[path = "../../size/src/fit.rs"]
#[allow(dead_code)]
mod size_fit;
#[path = "../../spatial/src/fit.rs"]
#[allow(dead_code)]
mod spatial_fit;

const CORPUS: &str = include_str!("../../../plugin-sdk/text/testdata/fit_corpus.tsv");

/// The counting plugin's fit (owned by the platform crate `plugins/counting`), mirrored:
/// 0.6 for a count cue in the question, 0.3 more when the answer has a count.
fn counting_fit(question: &str, answer: &str) -> f32 {
    let q = question.to_lowercase();
    let mut s = 0.0;
    if ["how many", "number of", "count", "how much", "total"]
        .iter()
        .any(|c| q.contains(c))
    {
        s += 0.6;
    }
    if !vapr_plugin_sdk::text::inject::numbers(answer).is_empty() {
        s += 0.3;
    }
    s
}

/// Fit of every category's plugin, in the paper's order.
fn scores(q: &str, a: &str) -> [(&'static str, f32); 10] {
    [
        ("counting", counting_fit(q, a)),
        ("spatial", spatial_fit::score(q, a)),
        ("object", object_fit::score(q, a)),
        ("color", color_fit::score(q, a)),
        ("size", size_fit::score(q, a)),
        ("background", background_fit::score(q, a)),
        ("existence", existence_fit::score(q, a)),
        ("referential", referential_fit::score(q, a)),
        ("captioning", crate::fit::score(q, a)),
        ("reasoning", reasoning_fit::score(q, a)),
    ]
}

#[test]
fn the_labelled_category_wins_on_every_corpus_row() {
    let mut wrong = Vec::new();
    let mut rows = 0;
    for line in CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "bad corpus row: {line}");
        let (label, q, a) = (cols[0], cols[1], cols[2]);
        let all = scores(q, a);
        // Highest score; on ties the earlier category (paper order) wins.
        let best = all
            .iter()
            .fold(all[0], |best, &c| if c.1 > best.1 { c } else { best });
        if best.0 != label {
            wrong.push(format!("{label} <- {q:?} went to {} ({all:?})", best.0));
        }
        rows += 1;
    }
    assert!(rows >= 40);
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows misrouted:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
