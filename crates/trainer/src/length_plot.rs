//! Score against source length, for several runs: the seed's §2 claim (a fixed context vector
//! loses information as inputs grow) made visible, as a PNG line chart and a Markdown table.

use std::path::Path;

use plotters::prelude::*;

use crate::line_chart::{draw_series, write_line_chart};
use crate::plot::{FONT, plot_error};
use crate::trained::{Evaluation, LengthBucket};
use crate::{Result, TrainerError};

/// One run's scores by source-length bucket.
#[derive(Debug, Clone)]
pub struct LengthCurve {
    /// The legend entry.
    pub label: String,
    /// The run's buckets (from [`Evaluation::by_length`]).
    pub buckets: Vec<LengthBucket>,
}

impl LengthCurve {
    /// The curve of one evaluation.
    pub fn new(label: impl Into<String>, evaluation: &Evaluation) -> Self {
        Self {
            label: label.into(),
            buckets: evaluation.by_length.clone(),
        }
    }
}

/// `5-6`, or `13+` for the open last bucket.
pub fn bucket_label(bucket: &LengthBucket) -> String {
    if bucket.max_len == usize::MAX {
        format!("{}+", bucket.min_len)
    } else if bucket.min_len == bucket.max_len {
        bucket.min_len.to_string()
    } else {
        format!("{}-{}", bucket.min_len, bucket.max_len)
    }
}

/// Checks that every curve has the same buckets and `metric`; returns the bucket labels.
fn common_buckets(curves: &[LengthCurve], metric: &str) -> Result<Vec<String>> {
    let first = curves
        .first()
        .ok_or_else(|| TrainerError::invalid("runs", 0, "need at least one run to compare"))?;
    let labels: Vec<String> = first.buckets.iter().map(bucket_label).collect();
    for curve in curves {
        let these: Vec<String> = curve.buckets.iter().map(bucket_label).collect();
        if these != labels {
            return Err(TrainerError::invalid(
                &curve.label,
                these.join(","),
                format!(
                    "length buckets differ from {}'s ({})",
                    first.label,
                    labels.join(",")
                ),
            ));
        }
        if let Some(bucket) = curve
            .buckets
            .iter()
            .find(|b| !b.scores.contains_key(metric))
        {
            let known: Vec<&String> = bucket.scores.keys().collect();
            return Err(TrainerError::invalid(
                "metric",
                metric,
                format!("{} has no such score (it has {known:?})", curve.label),
            ));
        }
    }
    Ok(labels)
}

/// A Markdown table: one row per bucket, the item count, then `metric` for each curve.
///
/// # Errors
///
/// Curves with different buckets, or a metric a curve lacks.
pub fn length_table(curves: &[LengthCurve], metric: &str) -> Result<String> {
    let labels = common_buckets(curves, metric)?;
    let mut out = format!("| source length | items | {} |\n", {
        let names: Vec<String> = curves
            .iter()
            .map(|c| format!("{} {metric}", c.label))
            .collect();
        names.join(" | ")
    });
    out.push_str(&format!("|---|---:|{}\n", "---:|".repeat(curves.len())));
    for (i, label) in labels.iter().enumerate() {
        let values: Vec<String> = curves
            .iter()
            .map(|c| format!("{:.2}", c.buckets[i].scores[metric]))
            .collect();
        out.push_str(&format!(
            "| {label} | {} | {} |\n",
            curves[0].buckets[i].items,
            values.join(" | ")
        ));
    }
    Ok(out)
}

/// Draws `metric` against source-length bucket, one line per curve, as a PNG at `path`
/// (written whole or not at all).
///
/// # Errors
///
/// Curves with different buckets, a metric a curve lacks, drawing or file errors.
pub fn write_length_plot(curves: &[LengthCurve], metric: &str, path: &Path) -> Result<()> {
    let labels = common_buckets(curves, metric)?;
    let values = curves
        .iter()
        .flat_map(|c| c.buckets.iter().map(|b| b.scores[metric]));
    let top = values.fold(0.0f64, f64::max) * 1.1 + 1e-9;
    let n = labels.len();
    let caption = format!("{metric} by source length");
    let axes = (-0.5f64..(n as f64 - 0.5), 0.0f64..top);
    write_line_chart(
        path,
        &caption,
        axes,
        SeriesLabelPosition::UpperLeft,
        |chart| {
            chart
                .configure_mesh()
                .x_labels(n)
                .x_label_formatter(&|x| {
                    let i = x.round();
                    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                        labels[i as usize].clone()
                    } else {
                        String::new()
                    }
                })
                .x_desc("source length (tokens)")
                .y_desc(metric)
                .label_style((FONT, 14))
                .draw()
                .map_err(|e| plot_error(path, e))?;
            for (k, curve) in curves.iter().enumerate() {
                let points = curve
                    .buckets
                    .iter()
                    .enumerate()
                    .map(|(i, b)| (i as f64, b.scores[metric]))
                    .collect();
                draw_series(chart, k, &curve.label, points, 4, path)?;
            }
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn curve(label: &str, wers: &[f64]) -> LengthCurve {
        LengthCurve {
            label: label.into(),
            buckets: wers
                .iter()
                .enumerate()
                .map(|(i, &w)| LengthBucket {
                    min_len: 2 * i,
                    max_len: if i + 1 == wers.len() {
                        usize::MAX
                    } else {
                        2 * i + 1
                    },
                    items: 10 + i,
                    scores: BTreeMap::from([("wer".to_string(), w)]),
                })
                .collect(),
        }
    }

    #[test]
    fn table_lists_each_bucket_with_every_curve() {
        let table = length_table(
            &[
                curve("attention", &[10.0, 20.5]),
                curve("fixed", &[12.0, 40.0]),
            ],
            "wer",
        )
        .unwrap();
        assert!(table.contains("| 0-1 | 10 | 10.00 | 12.00 |"), "{table}");
        assert!(table.contains("| 2+ | 11 | 20.50 | 40.00 |"), "{table}");
    }

    #[test]
    fn mismatched_buckets_and_unknown_metrics_are_errors() {
        let err = length_table(&[curve("a", &[1.0, 2.0]), curve("b", &[1.0])], "wer").unwrap_err();
        assert!(err.to_string().contains("length buckets differ"), "{err}");
        let err = length_table(&[curve("a", &[1.0])], "bleu").unwrap_err();
        assert!(err.to_string().contains("no such score"), "{err}");
    }

    #[test]
    fn plot_is_a_png_of_the_asked_size() {
        let dir = std::env::temp_dir().join(format!("length-plot-{}", std::process::id()));
        let path = dir.join("length.png");
        write_length_plot(
            &[curve("a", &[1.0, 2.0, 3.0]), curve("b", &[2.0, 2.0, 5.0])],
            "wer",
            &path,
        )
        .unwrap();
        let picture = image::open(&path).unwrap();
        assert_eq!((picture.width(), picture.height()), (720, 440));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
