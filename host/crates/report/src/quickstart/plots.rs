//! The report's four PNG charts (plotters, bitmap backend, bundled font): accuracy by
//! category per model, yes-rate per model against the true rate, and DPO reward accuracy
//! and margins over the optimiser steps. Each model keeps one colour in every chart.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::analysis::{category_names, is_dpo};
use super::error::ReportError;
use super::glyph::{FAMILY, GlyphBackend, register_bundled_font, text_width};
use super::results::{ModelResult, QuickstartResults, StepPoint};

/// Plot sub-directory of the run directory.
pub const PLOTS_DIR: &str = "plots";

/// One of the report's charts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotKind {
    AccuracyByCategory,
    YesRate,
    RewardAccuracy,
    RewardMargins,
}

impl PlotKind {
    pub const ALL: [PlotKind; 4] = [
        PlotKind::AccuracyByCategory,
        PlotKind::YesRate,
        PlotKind::RewardAccuracy,
        PlotKind::RewardMargins,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            PlotKind::AccuracyByCategory => "accuracy_by_category.png",
            PlotKind::YesRate => "yes_rate.png",
            PlotKind::RewardAccuracy => "reward_accuracy.png",
            PlotKind::RewardMargins => "reward_margins.png",
        }
    }

    /// Width and height in pixels.
    pub fn size(self) -> (u32, u32) {
        match self {
            PlotKind::AccuracyByCategory => (1280, 560),
            _ => (960, 540),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            PlotKind::AccuracyByCategory => "Held-out accuracy by category",
            PlotKind::YesRate => "Yes-rate on binary questions vs the true yes-rate",
            PlotKind::RewardAccuracy => "DPO reward accuracy over training",
            PlotKind::RewardMargins => "DPO reward margin over training",
        }
    }
}

/// A chart written to disk.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnPlot {
    pub kind: PlotKind,
    pub path: PathBuf,
    /// Path relative to the run directory, `/`-separated (for the report's links).
    pub relative: String,
}

type Area<'a> = DrawingArea<GlyphBackend<BitMapBackend<'a>>, Shift>;
type DrawResult = Result<(), Box<dyn Error + Send + Sync>>;

/// Colour-blind-friendly palette (Okabe–Ito, then greys); model `i` gets colour `i`.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(110, 110, 110),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The yes-rate chart's reference line, in its legend.
const LINE_ENTRY: &str = "true yes-rate";

const GRID: RGBColor = RGBColor(232, 232, 232);
const GUIDE: RGBColor = RGBColor(150, 150, 150);

/// Draws every chart that has data into `dir/plots/`: the reward charts only when some
/// model logged DPO rewards (margins only when margins were logged).
pub fn draw_all(dir: &Path, r: &QuickstartResults) -> Result<Vec<DrawnPlot>, ReportError> {
    register_bundled_font();
    let plots_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plots_dir).map_err(|source| ReportError::CreateDir {
        path: plots_dir.clone(),
        source,
    })?;
    let has = |f: fn(&StepPoint) -> Option<f64>| {
        r.models
            .iter()
            .any(|m| is_dpo(m) && m.train_log.iter().any(|p| f(p).is_some()))
    };
    let mut drawn = Vec::new();
    for kind in PlotKind::ALL {
        let wanted = match kind {
            PlotKind::RewardAccuracy => has(|p| p.rewards_accuracy),
            PlotKind::RewardMargins => has(|p| p.rewards_margin),
            _ => true,
        };
        if !wanted {
            continue;
        }
        let path = plots_dir.join(kind.file_name());
        draw(&path, kind, r).map_err(|e| ReportError::Plot {
            path: path.clone(),
            message: e.to_string(),
        })?;
        drawn.push(DrawnPlot {
            kind,
            path,
            relative: format!("{PLOTS_DIR}/{}", kind.file_name()),
        });
    }
    Ok(drawn)
}

fn draw(path: &Path, kind: PlotKind, r: &QuickstartResults) -> DrawResult {
    let root = GlyphBackend(BitMapBackend::new(path, kind.size())).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(kind.title(), (FAMILY, 24).into_font().color(&BLACK))?;
    let (legend, chart) = body.split_vertically(36);
    match kind {
        PlotKind::AccuracyByCategory => {
            draw_legend(&legend, &model_entries(r.models.iter().enumerate()))?;
            accuracy_by_category(&chart, r)?;
        }
        PlotKind::YesRate => {
            let mut entries = model_entries(r.models.iter().enumerate());
            entries.push((LINE_ENTRY.to_string(), BLACK));
            draw_legend(&legend, &entries)?;
            yes_rate(&chart, r)?;
        }
        PlotKind::RewardAccuracy | PlotKind::RewardMargins => {
            let accuracy = kind == PlotKind::RewardAccuracy;
            let runs: Vec<(usize, &ModelResult)> = r
                .models
                .iter()
                .enumerate()
                .filter(|(_, m)| is_dpo(m))
                .collect();
            draw_legend(&legend, &model_entries(runs.iter().copied()))?;
            reward_curves(&chart, &runs, accuracy)?;
        }
    }
    root.present()?;
    Ok(())
}

fn model_entries<'a>(
    models: impl Iterator<Item = (usize, &'a ModelResult)>,
) -> Vec<(String, RGBColor)> {
    models.map(|(i, m)| (m.name.clone(), colour(i))).collect()
}

/// A centred row of colour swatches with names; the reference-line entry
/// ([`LINE_ENTRY`]) gets a line swatch instead of a box.
fn draw_legend(area: &Area, entries: &[(String, RGBColor)]) -> DrawResult {
    let (swatch, gap) = (14i32, 26i32);
    let (w, h) = area.dim_in_pixel();
    let total_at = |size: u32| {
        let text: f64 = entries
            .iter()
            .map(|(name, _)| text_width(name, f64::from(size)).ceil())
            .sum();
        text as i32
            + (swatch + 6) * entries.len() as i32
            + gap * (entries.len().saturating_sub(1) as i32)
    };
    let size = fitting_size(15, |s| total_at(s) <= w as i32 - 8);
    let style = TextStyle::from((FAMILY, size).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let widths: Vec<i32> = entries
        .iter()
        .map(|(name, _)| text_width(name, f64::from(size)).ceil() as i32)
        .collect();
    let total = total_at(size);
    let (mut x, y) = ((w as i32 - total).max(0) / 2, h as i32 / 2);
    for ((name, c), tw) in entries.iter().zip(widths) {
        let half = if name == LINE_ENTRY { 1 } else { swatch / 2 };
        area.draw(&Rectangle::new(
            [(x, y - half), (x + swatch, y + half)],
            c.filled(),
        ))?;
        area.draw(&Text::new(name.clone(), (x + swatch + 6, y), style.clone()))?;
        x += swatch + 6 + tw + gap;
    }
    Ok(())
}

/// The largest font size from `start` down to 10 px for which `fits` holds (10 px if none):
/// many models or long names shrink labels instead of overlapping them.
fn fitting_size(start: u32, fits: impl Fn(u32) -> bool) -> u32 {
    (10..=start).rev().find(|&s| fits(s)).unwrap_or(10)
}

fn percent_label(v: &f64) -> String {
    format!("{:.0}%", 100.0 * v)
}

/// Names under groups of bars, drawn by hand: plotters places ticks at "nice" values,
/// not at group centres.
fn group_labels<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    labels: &[String],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let group_px =
        f64::from(chart.backend_coord(&(1.0, 0.0)).0 - chart.backend_coord(&(0.0, 0.0)).0);
    let size = fitting_size(15, |s| {
        labels
            .iter()
            .all(|l| text_width(l, f64::from(s)) <= 0.95 * group_px)
    });
    let style = TextStyle::from((FAMILY, size).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let (ox, oy) = area.get_base_pixel();
    for (g, label) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
        area.draw(&Text::new(
            label.clone(),
            (x - ox, y - oy + 8),
            style.clone(),
        ))?;
    }
    Ok(())
}

fn accuracy_by_category(area: &Area, r: &QuickstartResults) -> DrawResult {
    let mut groups = category_names(r);
    groups.push("overall".to_string());
    let n = groups.len();
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..n as f64, 0f64..1.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&percent_label)
        .y_desc("accuracy")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()?;
    let width = 0.8 / r.models.len().max(1) as f64;
    for (mi, m) in r.models.iter().enumerate() {
        let bars = groups.iter().enumerate().filter_map(|(g, name)| {
            let v = if g + 1 == n {
                Some(m.accuracy)
            } else {
                m.accuracy_by_category.get(name).copied()
            }
            .filter(|v| v.is_finite())?;
            let x0 = g as f64 + 0.1 + mi as f64 * width;
            Some(Rectangle::new(
                [(x0, 0.0), (x0 + 0.9 * width, v.clamp(0.0, 1.0))],
                colour(mi).filled(),
            ))
        });
        chart.draw_series(bars)?;
    }
    group_labels(area, &chart, &groups)
}

fn yes_rate(area: &Area, r: &QuickstartResults) -> DrawResult {
    let n = r.models.len().max(1);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..n as f64, 0f64..1.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&percent_label)
        .y_desc("answered yes")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()?;
    let value_style = TextStyle::from((FAMILY, 14).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    // A model with no yes-rate (no binary questions) gets no bar, not a 0.
    for (i, m) in r
        .models
        .iter()
        .enumerate()
        .filter(|(_, m)| m.yes_rate.is_finite())
    {
        let v = m.yes_rate.clamp(0.0, 1.0);
        chart.draw_series(std::iter::once(Rectangle::new(
            [(i as f64 + 0.2, 0.0), (i as f64 + 0.8, v)],
            colour(i).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            percent_label(&m.yes_rate),
            (i as f64 + 0.5, (v + 0.01).min(1.0)),
            value_style.clone(),
        )))?;
    }
    if r.eval.true_yes_rate.is_finite() {
        let truth = r.eval.true_yes_rate.clamp(0.0, 1.0);
        chart.draw_series(LineSeries::new(
            [(0.0, truth), (n as f64, truth)],
            BLACK.stroke_width(2),
        ))?;
    }
    let names: Vec<String> = r.models.iter().map(|m| m.name.clone()).collect();
    group_labels(area, &chart, &names)
}

fn reward_curves(area: &Area, runs: &[(usize, &ModelResult)], accuracy: bool) -> DrawResult {
    let value = |p: &StepPoint| {
        if accuracy {
            p.rewards_accuracy
        } else {
            p.rewards_margin
        }
    };
    let curves: Vec<(usize, Vec<(f64, f64)>)> = runs
        .iter()
        .map(|(i, m)| {
            let pts = m
                .train_log
                .iter()
                .filter_map(|p| Some((p.step as f64, value(p)?)))
                .filter(|(_, v)| v.is_finite())
                .collect();
            (*i, pts)
        })
        .collect();
    let all = curves.iter().flat_map(|(_, pts)| pts.iter());
    let (mut x_max, mut y_min, mut y_max) = (1.0f64, 0.0f64, if accuracy { 1.0f64 } else { 0.0 });
    for &(x, y) in all {
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    let y_range = if accuracy {
        0.0..1.05
    } else {
        let pad = ((y_max - y_min) * 0.08).max(1e-3);
        (y_min - pad)..(y_max + pad)
    };
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        // Accuracy guides are labelled in a right margin, clear of the curves.
        .margin_right(if accuracy { 124 } else { 24 })
        .x_label_area_size(48)
        .y_label_area_size(72)
        .build_cartesian_2d(0f64..x_max, y_range)?;
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("optimiser step")
        .y_desc(if accuracy {
            "reward accuracy"
        } else {
            "reward margin"
        })
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .light_line_style(WHITE)
        .bold_line_style(GRID);
    if accuracy {
        mesh.y_label_formatter(&percent_label);
    }
    mesh.draw()?;
    // The paper's reference points (accuracy) or the zero line (margins).
    let guides: &[(f64, &str)] = if accuracy {
        &[
            (0.5, "collapse ~50%"),
            (0.9, "healthy ~90%"),
            (1.0, "hacking ~100%"),
        ]
    } else {
        &[(0.0, "")]
    };
    let guide_style = TextStyle::from((FAMILY, 13).into_font())
        .color(&GUIDE)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (ox, oy) = area.get_base_pixel();
    for &(y, label) in guides {
        chart.draw_series(LineSeries::new(
            [(0.0, y), (x_max, y)],
            GUIDE.stroke_width(1),
        ))?;
        if !label.is_empty() {
            let (px, py) = chart.backend_coord(&(x_max, y));
            area.draw(&Text::new(
                label.to_string(),
                (px - ox + 8, py - oy),
                guide_style.clone(),
            ))?;
        }
    }
    for (i, pts) in &curves {
        let c = colour(*i);
        chart.draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))?;
        if pts.len() <= 40 {
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
        }
    }
    Ok(())
}
