//! The yes-bias report (VaPR's "says Yes when the answer is No"): on NaturalBench yes/no items
//! and POPE, the predicted-yes ratio against the true yes ratio, and the counts of incorrect
//! Yes (predicted yes, gold no) and incorrect No (predicted no, gold yes); as a Markdown table
//! and a PNG bar chart.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use vapr_report::glyph::{FAMILY, GlyphBackend, register_bundled_font};

use crate::bench::{Benchmark, ScoredItem};
use crate::error::{EvalError, Result};
use crate::item::Bench;

/// One line of the yes-bias table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiasRow {
    /// What the row covers, e.g. `naturalbench yes/no` or `pope random`.
    pub label: String,
    pub items: usize,
    pub true_yes_ratio: f64,
    pub predicted_yes_ratio: f64,
    pub incorrect_yes: usize,
    pub incorrect_no: usize,
    /// Outputs that were neither yes nor no (NaturalBench's -1).
    pub unanswered: usize,
}

#[derive(Default)]
struct Counts {
    n: usize,
    gold_yes: usize,
    pred_yes: usize,
    incorrect_yes: usize,
    incorrect_no: usize,
    unanswered: usize,
}

impl Counts {
    fn add(&mut self, item: &ScoredItem) {
        let gold_yes = item.gold == "yes";
        self.n += 1;
        self.gold_yes += usize::from(gold_yes);
        match item.pred.as_deref() {
            Some("yes") => {
                self.pred_yes += 1;
                self.incorrect_yes += usize::from(!gold_yes);
            }
            Some("no") => self.incorrect_no += usize::from(gold_yes),
            _ => self.unanswered += 1,
        }
    }
    fn row(&self, label: String) -> BiasRow {
        let r = |x: usize| {
            if self.n == 0 {
                0.0
            } else {
                x as f64 / self.n as f64
            }
        };
        BiasRow {
            label,
            items: self.n,
            true_yes_ratio: r(self.gold_yes),
            predicted_yes_ratio: r(self.pred_yes),
            incorrect_yes: self.incorrect_yes,
            incorrect_no: self.incorrect_no,
            unanswered: self.unanswered,
        }
    }
}

/// Bias rows of one benchmark run: NaturalBench one row over yes/no items; POPE one row per
/// split and one over all questions. Empty for other benchmarks.
pub fn bias_rows(bench: &dyn Benchmark, scored: &[ScoredItem]) -> Vec<BiasRow> {
    let items: Vec<&ScoredItem> = scored.iter().filter(|s| bench.is_yes_no(s)).collect();
    if items.is_empty() {
        return Vec::new();
    }
    let mut all = Counts::default();
    let mut per: BTreeMap<&str, Counts> = BTreeMap::new();
    for item in &items {
        all.add(item);
        if let Some(split) = item.info.split.as_deref() {
            per.entry(split).or_default().add(item);
        }
    }
    let name = bench.bench().name();
    let mut rows: Vec<BiasRow> = per
        .iter()
        .map(|(s, c)| c.row(format!("{name} {s}")))
        .collect();
    let all_label = if bench.bench() == Bench::Naturalbench {
        format!("{name} yes/no")
    } else {
        format!("{name} all")
    };
    rows.push(all.row(all_label));
    rows
}

/// The rows as a Markdown table.
pub fn bias_table(rows: &[BiasRow]) -> String {
    let mut out = String::from(
        "| subset | items | true yes | predicted yes | incorrect Yes | incorrect No | neither |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.1}% | {:.1}% | {} | {} | {} |\n",
            r.label,
            r.items,
            r.true_yes_ratio * 100.0,
            r.predicted_yes_ratio * 100.0,
            r.incorrect_yes,
            r.incorrect_no,
            r.unanswered
        ));
    }
    out
}

/// Two bar charts side by side: predicted vs true yes ratio, and incorrect Yes vs incorrect
/// No, one group of bars per row.
pub fn write_bias_plot(rows: &[BiasRow], title: &str, path: &Path) -> Result<()> {
    draw(rows, title, path).map_err(|e| EvalError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn draw(
    rows: &[BiasRow],
    title: &str,
    path: &Path,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let width = 520 + 120 * rows.len() as u32;
    // Text is drawn from the font bundled in vapr-report, so the plot renders the same on a
    // machine with no fonts installed.
    register_bundled_font();
    let root = GlyphBackend(BitMapBackend::new(path, (width.min(2400), 460))).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, (FAMILY, 22))?;
    let panels = root.split_evenly((1, 2));
    let (left, right) = (&panels[0], &panels[1]);
    let n = rows.len() as i32;
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    let ratio_bars: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.predicted_yes_ratio, r.true_yes_ratio))
        .collect();
    let count_bars: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (r.incorrect_yes as f64, r.incorrect_no as f64))
        .collect();
    let max_count = count_bars
        .iter()
        .map(|(a, b)| a.max(*b))
        .fold(1.0, f64::max)
        * 1.15;
    panel(
        left,
        "yes ratio",
        &labels,
        &ratio_bars,
        1.0,
        ("predicted yes", "true yes"),
        n,
    )?;
    panel(
        right,
        "errors",
        &labels,
        &count_bars,
        max_count,
        ("incorrect Yes", "incorrect No"),
        n,
    )?;
    root.present()?;
    Ok(())
}

type Area<'a> = DrawingArea<GlyphBackend<BitMapBackend<'a>>, plotters::coord::Shift>;

fn panel(
    area: &Area<'_>,
    y_desc: &str,
    labels: &[String],
    bars: &[(f64, f64)],
    y_max: f64,
    names: (&str, &str),
    n: i32,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    // Three x slots per row: first bar, second bar, gap.
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0..3 * n, 0.0..y_max)?;
    let labels = labels.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels((3 * n + 1) as usize)
        .x_label_formatter(&move |x| {
            if x.rem_euclid(3) == 1 {
                labels.get((*x / 3) as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| {
            if y_max > 1.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
        .y_desc(y_desc)
        .draw()?;
    let colors = [RGBColor(214, 96, 77), RGBColor(67, 147, 195)];
    for (k, color) in colors.into_iter().enumerate() {
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let v = if k == 0 { b.0 } else { b.1 };
            let x = 3 * i as i32 + k as i32;
            Rectangle::new([(x, 0.0), (x + 1, v)], color.filled())
        }))?;
    }
    // The legend is drawn by hand: plotters' series legend measures text with its own font
    // lookup, which bypasses the bundled font.
    let (w, _) = area.dim_in_pixel();
    let x = w as i32 - 150;
    let style = TextStyle::from((FAMILY, 14).into_font()).color(&BLACK);
    for (k, (name, color)) in [names.0, names.1].into_iter().zip(colors).enumerate() {
        let y = 20 + 20 * k as i32;
        area.draw(&Rectangle::new([(x, y), (x + 12, y + 10)], color.filled()))?;
        area.draw(&Text::new(name, (x + 18, y - 2), style.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::{Pope, ScoredItem};
    use crate::item::ItemInfo;

    fn item(split: &str, gold: &str, pred: &str) -> ScoredItem {
        ScoredItem {
            id: format!("{split}/{gold}{pred}"),
            gold: gold.into(),
            pred: Some(pred.into()),
            extracted: true,
            correct: gold == pred,
            info: ItemInfo {
                split: Some(split.into()),
                ..ItemInfo::default()
            },
        }
    }

    #[test]
    fn test_bias_counts_and_plot() {
        let items = vec![
            item("random", "yes", "yes"),
            item("random", "no", "yes"),
            item("random", "no", "yes"),
            item("random", "yes", "no"),
            item("popular", "no", "no"),
        ];
        let rows = bias_rows(&Pope, &items);
        let random = rows.iter().find(|r| r.label == "pope random").unwrap();
        assert_eq!(
            (random.items, random.incorrect_yes, random.incorrect_no),
            (4, 2, 1)
        );
        assert_eq!(random.predicted_yes_ratio, 0.75);
        assert_eq!(random.true_yes_ratio, 0.5);
        let all = rows.last().unwrap();
        assert_eq!((all.label.as_str(), all.items), ("pope all", 5));
        assert!(bias_table(&rows).contains("| pope random | 4 | 50.0% | 75.0% | 2 | 1 | 0 |"));
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("b.png");
        write_bias_plot(&rows, "test", &png).unwrap();
        let img = image::open(&png).unwrap();
        assert!(img.width() > 500);
    }
}
