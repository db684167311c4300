//! The three pair sets on a small synthetic world, through the real pipeline and the
//! bundled plugins (built once into the workspace's `target/`, shared with
//! tests/generate_cli.rs).

use std::cell::RefCell;
use std::path::Path;

use vapr_data::synth::{SynthConfig, generate as synth};
use vapr_report::bias_stats_of_records;
use vapr_text::token_count;

use super::*;

const SCENES: usize = 6;

fn synth_world(dir: &Path, seed: u64) {
    synth(dir, &SynthConfig::new(SCENES, seed, 48), |_| {}).unwrap();
}

/// A stand-in for a model's encoder: bytes as tokens, the decoded image's size.
struct Bytes;

impl vapr_train::PairEncoder for Bytes {
    type Image = (u32, u32);

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<(u32, u32)>), vapr_train::BoxError> {
        let image = image
            .map(|p| vapr_data::images::load_rgb(p).map(|img| img.dimensions()))
            .transpose()?;
        Ok((question.bytes().map(u32::from).collect(), image))
    }

    fn encode_completion(&self, answer: &str) -> Result<Vec<u32>, vapr_train::BoxError> {
        Ok(answer.bytes().map(u32::from).collect())
    }

    fn pad_id(&self) -> u32 {
        0
    }
}

fn ids(set: &PairSet) -> Vec<&str> {
    set.records.iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn test_three_sets_share_ids_parse_back_and_show_their_bias() {
    let tmp = tempfile::tempdir().unwrap();
    let synth_dir = tmp.path().join("synth");
    synth_world(&synth_dir, 4);
    let out = tmp.path().join("pairs");
    let calls = RefCell::new(Vec::new());
    let sets =
        build_pair_sets(&synth_dir, &out, 9, &|d, t| calls.borrow_mut().push((d, t))).unwrap();

    let names: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["vapr", "length-biased", "style-biased"]);
    // Progress ends at total = every Stage-1 survivor (all 60 synthetic questions).
    assert_eq!(calls.borrow().last(), Some(&(SCENES * 10, SCENES * 10)));

    let vapr = &sets[0];
    // The rule plugins edit nearly everything (a count of "no" shapes is refused).
    assert!(
        vapr.records.len() >= SCENES * 8,
        "{} pairs",
        vapr.records.len()
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("generate/vapr.jsonl.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["editor"], "rule");
    assert_eq!(
        summary["written"].as_u64().unwrap() as usize,
        vapr.records.len()
    );

    for set in &sets {
        assert_eq!(ids(set), ids(vapr), "{}", set.name);
        assert_eq!(set.path, out.join(format!("{}.jsonl", set.name)));
        let (back, report) = vapr_data::read_preferences(&set.path, true).unwrap();
        assert_eq!(back, set.records, "{}", set.name);
        assert_eq!(report.skipped_total(), 0);
        // What `vapr stats` reads: the same pairs, nothing skipped.
        let mut texts = Vec::new();
        let report = vapr_data::for_each_pair(std::slice::from_ref(&set.path), true, |p| {
            texts.push((p.chosen, p.rejected));
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(report.skipped_total(), 0);
        let expected: Vec<(String, String)> = set
            .records
            .iter()
            .map(|r| (r.chosen.clone(), r.rejected.clone()))
            .collect();
        assert_eq!(texts, expected, "{}", set.name);
        for (r, v) in set.records.iter().zip(&vapr.records) {
            assert_eq!((&r.prompt, &r.chosen), (&v.prompt, &v.chosen), "{}", r.id);
            assert_ne!(r.rejected, r.chosen, "{} {}", set.name, r.id);
            let image = Path::new(r.image.as_deref().unwrap());
            assert!(
                image.is_absolute() && image.is_file(),
                "{}",
                image.display()
            );
            assert!(r.category.is_some(), "{}", r.id);
        }
    }
    // What `vapr train` reads: every pair encodes, with its image found through the
    // absolute path whatever images directory the config names.
    for set in &sets {
        let pairs =
            vapr_train::data::load_pairs(&set.path, Some(Path::new("/no/such/dir")), &Bytes)
                .unwrap();
        assert_eq!(pairs.len(), set.records.len(), "{}", set.name);
        assert!(
            pairs.iter().all(|p| p.image == Some((48, 48))),
            "{}",
            set.name
        );
    }
    // The controls are wrong in another way than the VaPR edit, or in the same way; never
    // equal to the chosen answer (checked above) and built for every category.
    let categories: std::collections::BTreeSet<_> =
        sets[1].records.iter().filter_map(|r| r.category).collect();
    assert_eq!(categories.len(), 10);

    let stats: Vec<_> = sets
        .iter()
        .map(|s| bias_stats_of_records(&s.records))
        .collect();
    let gap = |s: &PairSet| {
        s.records
            .iter()
            .map(|r| token_count(&r.chosen).abs_diff(token_count(&r.rejected)))
            .sum::<usize>() as f64
            / s.records.len() as f64
    };
    // VaPR: the paper's GPT-4o profile (token gap about 3, Levenshtein about 6) or better.
    assert!(gap(vapr) <= 3.0, "vapr token gap {}", gap(vapr));
    let lev = |i: usize| stats[i].mean_levenshtein.all.unwrap();
    assert!(lev(0) <= 6.0, "vapr Levenshtein {}", lev(0));
    // Length-biased: the rejected answer is longer in every pair, by ten tokens or more.
    assert_eq!(stats[1].pct_chosen_shorter.all, Some(100.0));
    assert!(stats[1].mean_delta_rejected_longer.all.unwrap() >= 10.0);
    // Style-biased: far apart in wording, much further than the hard negatives.
    assert!(
        lev(2) >= 8.0 && lev(2) >= 2.0 * lev(0),
        "{} vs {}",
        lev(2),
        lev(0)
    );
}

#[test]
fn test_same_seed_same_files_other_seed_other_controls() {
    let tmp = tempfile::tempdir().unwrap();
    let synth_dir = tmp.path().join("synth");
    synth_world(&synth_dir, 8);
    let build = |name: &str, seed: u64| {
        let out = tmp.path().join(name);
        let sets = build_pair_sets(&synth_dir, &out, seed, &|_, _| {}).unwrap();
        let texts: Vec<String> = sets
            .iter()
            .map(|s| std::fs::read_to_string(&s.path).unwrap())
            .collect();
        (sets, texts)
    };
    let (_, a) = build("a", 1);
    let (_, again) = build("b", 1);
    assert_eq!(a, again);
    // Re-running into the same directory starts afresh and writes the same files.
    let (_, rerun) = build("a", 1);
    assert_eq!(a, rerun);
    let (other, _) = build("c", 2);
    let (first, _) = build("a", 1);
    for i in 1..3 {
        let by_id: std::collections::HashMap<&str, &str> = other[i]
            .records
            .iter()
            .map(|r| (r.id.as_str(), r.rejected.as_str()))
            .collect();
        let differing = first[i]
            .records
            .iter()
            .filter(|r| by_id.get(r.id.as_str()).is_some_and(|o| *o != r.rejected))
            .count();
        assert!(
            differing > 0,
            "{}: a new seed changed nothing",
            first[i].name
        );
    }
}

#[test]
fn test_missing_synth_dir_names_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let err = build_pair_sets(&tmp.path().join("nope"), tmp.path(), 1, &|_, _| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train.json") && err.contains("vapr synth"),
        "{err}"
    );
}
