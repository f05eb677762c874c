//! A validation score against wall-clock training minutes, for several runs, with other
//! systems marked at their own training time and score: how soon a recipe passes a peer.

use std::path::Path;
use std::str::FromStr;

use plotters::prelude::*;

use crate::line_chart::{draw_series, write_line_chart};
use crate::plot::{FONT, plot_error};
use crate::run::EpochMetrics;
use crate::{Result, TrainerError};

/// One run's validation score after each epoch, against the minutes trained so far.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeCurve {
    /// The legend entry.
    pub label: String,
    /// `(epoch, minutes since the start, score)`, one per epoch, in order.
    pub points: Vec<(usize, f64, f64)>,
}

impl TimeCurve {
    /// The curve of `metric` in a run's `metrics.jsonl` lines: each epoch's wall-clock seconds
    /// (validation included) summed, so a resumed run counts only its training time.
    ///
    /// # Errors
    ///
    /// [`TrainerError::InvalidOption`] for no epochs, or an epoch without `metric` (naming the
    /// scores it has).
    pub fn from_metrics(label: &str, metrics: &[EpochMetrics], metric: &str) -> Result<Self> {
        if metrics.is_empty() {
            return Err(TrainerError::invalid(
                label,
                "metrics.jsonl",
                "has no epochs yet",
            ));
        }
        let mut seconds = 0.0;
        let points = metrics
            .iter()
            .map(|m| {
                seconds += m.seconds;
                let value = m.valid.get(metric).copied().ok_or_else(|| {
                    let known: Vec<&String> = m.valid.keys().collect();
                    TrainerError::invalid(
                        "metric",
                        metric,
                        format!(
                            "{label} epoch {} has no such score (it has {known:?})",
                            m.epoch
                        ),
                    )
                })?;
                Ok((m.epoch, seconds / 60.0, value))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            label: label.to_string(),
            points,
        })
    }

    /// The first epoch whose score is at least as good as `value` (`lower_is_better` says
    /// which way), as `(epoch, minutes, score)`.
    pub fn first_reaching(&self, value: f64, lower_is_better: bool) -> Option<(usize, f64, f64)> {
        self.points.iter().copied().find(|&(_, _, v)| {
            if lower_is_better {
                v <= value
            } else {
                v >= value
            }
        })
    }
}

/// Another system's score and training time, marked on the chart: `LABEL=MINUTES,SCORE` on
/// the command line (e.g. `Phonetisaurus=3.97,24.48`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// What it is.
    pub label: String,
    /// Its training time in minutes.
    pub minutes: f64,
    /// Its score.
    pub value: f64,
}

impl FromStr for Mark {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let usage =
            || format!("{text:?} is not LABEL=MINUTES,SCORE (e.g. Phonetisaurus=3.97,24.48)");
        let (label, numbers) = text.split_once('=').ok_or_else(usage)?;
        let (minutes, value) = numbers.split_once(',').ok_or_else(usage)?;
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(usage)
        };
        Ok(Self {
            label: label.trim().to_string(),
            minutes: number(minutes)?,
            value: number(value)?,
        })
    }
}

/// Whether a smaller `metric` is better (error rates and losses).
pub fn lower_is_better(metric: &str) -> bool {
    matches!(metric, "wer" | "per" | "cer" | "loss")
}

/// A Markdown table of every curve (epoch, minutes, score), then for each mark the epoch and
/// minute at which each curve first reaches its score.
pub fn time_table(curves: &[TimeCurve], marks: &[Mark], metric: &str) -> String {
    let mut out = String::new();
    for curve in curves {
        out.push_str(&format!(
            "{}\n\n| epoch | minutes | {metric} |\n|---:|---:|---:|\n",
            curve.label
        ));
        for (epoch, minutes, value) in &curve.points {
            out.push_str(&format!("| {epoch} | {minutes:.1} | {value:.2} |\n"));
        }
        out.push('\n');
    }
    let lower = lower_is_better(metric);
    for mark in marks {
        for curve in curves {
            out.push_str(&match curve.first_reaching(mark.value, lower) {
                Some((epoch, minutes, value)) => format!(
                    "{} reaches {} ({metric} {:.2}, {:.1} min) after epoch {epoch}: {value:.2} at {minutes:.1} min\n",
                    curve.label, mark.label, mark.value, mark.minutes
                ),
                None => format!(
                    "{} never reaches {} ({metric} {:.2})\n",
                    curve.label, mark.label, mark.value
                ),
            });
        }
    }
    out
}

/// Draws `metric` against training minutes, one line per curve, each mark a cross at its own
/// time and score with a dotted line at that score, as a PNG at `path` (written whole or not
/// at all).
///
/// # Errors
///
/// Drawing or file errors.
pub fn write_time_plot(
    curves: &[TimeCurve],
    marks: &[Mark],
    metric: &str,
    path: &Path,
) -> Result<()> {
    let values = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.2))
        .chain(marks.iter().map(|m| m.value));
    let (low, high) = values.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (low, high) = ((low * 0.95).floor(), (high * 1.03).ceil().max(low + 1.0));
    let right = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .chain(marks.iter().map(|m| m.minutes))
        .fold(1.0f64, f64::max)
        * 1.05;
    let caption = format!("validation {metric} against training time");
    let axes = (0.0f64..right, low..high);
    write_line_chart(
        path,
        &caption,
        axes,
        SeriesLabelPosition::UpperRight,
        |chart| {
            chart
                .configure_mesh()
                .x_desc("wall-clock minutes of training")
                .y_desc(metric)
                .label_style((FONT, 14))
                .draw()
                .map_err(|e| plot_error(path, e))?;
            for (k, curve) in curves.iter().enumerate() {
                let points = curve.points.iter().map(|p| (p.1, p.2)).collect();
                draw_series(chart, k, &curve.label, points, 3, path)?;
            }
            for mark in marks {
                let dotted = (0..60).map(|i| {
                    let x = right * f64::from(i) / 60.0;
                    PathElement::new(
                        vec![(x, mark.value), (x + right / 150.0, mark.value)],
                        BLACK,
                    )
                });
                chart.draw_series(dotted).map_err(|e| plot_error(path, e))?;
                let label = format!(
                    "{} ({:.1} min, {:.2})",
                    mark.label, mark.minutes, mark.value
                );
                let at = (
                    mark.minutes + right * 0.01,
                    mark.value + (high - low) * 0.06,
                );
                chart
                    .draw_series([
                        Cross::new((mark.minutes, mark.value), 7, BLACK.stroke_width(2)).into_dyn(),
                        Text::new(label, at, (FONT, 14)).into_dyn(),
                    ])
                    .map_err(|e| plot_error(path, e))?;
            }
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn epoch(epoch: usize, seconds: f64, wer: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 0.5,
            valid_loss: 0.4,
            valid_perplexity: 0.4f64.exp(),
            valid: BTreeMap::from([("wer".to_string(), wer), ("per".to_string(), wer / 4.0)]),
            learning_rate: 0.003,
            tokens_per_second: 6000.0,
            seconds,
        }
    }

    fn run() -> Vec<EpochMetrics> {
        vec![
            epoch(1, 120.0, 38.0),
            epoch(2, 120.0, 30.0),
            epoch(3, 180.0, 24.0),
        ]
    }

    #[test]
    fn minutes_add_up_and_the_first_epoch_past_a_mark_is_found() {
        let curve = TimeCurve::from_metrics("quick", &run(), "wer").unwrap();
        assert_eq!(
            curve.points,
            vec![(1, 2.0, 38.0), (2, 4.0, 30.0), (3, 7.0, 24.0)]
        );
        assert_eq!(curve.first_reaching(24.48, true), Some((3, 7.0, 24.0)));
        assert_eq!(curve.first_reaching(20.0, true), None);
        assert_eq!(curve.first_reaching(35.0, false), Some((1, 2.0, 38.0)));
        let mark: Mark = "Phonetisaurus=3.97,24.48".parse().unwrap();
        let table = time_table(&[curve], &[mark], "wer");
        assert!(table.contains("| 3 | 7.0 | 24.00 |"), "{table}");
        assert!(
            table.contains(
                "quick reaches Phonetisaurus (wer 24.48, 4.0 min) after epoch 3: 24.00 at 7.0 min"
            ),
            "{table}"
        );
    }

    #[test]
    fn bad_marks_missing_scores_and_empty_runs_are_errors() {
        for bad in ["Phonetisaurus", "P=3.97", "P=x,24", "P=-1,24", "P=1,inf"] {
            let err = bad.parse::<Mark>().unwrap_err();
            assert!(err.contains("LABEL=MINUTES,SCORE"), "{bad}: {err}");
        }
        let err = TimeCurve::from_metrics("quick", &run(), "bleu")
            .unwrap_err()
            .to_string();
        assert!(err.contains("quick epoch 1 has no such score"), "{err}");
        let err = TimeCurve::from_metrics("quick", &[], "wer")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no epochs"), "{err}");
    }

    #[test]
    fn plot_is_a_png_of_the_asked_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("time.png");
        let curve = TimeCurve::from_metrics("quick", &run(), "wer").unwrap();
        let mark: Mark = "Phonetisaurus=3.97,24.48".parse().unwrap();
        write_time_plot(&[curve], &[mark], "wer", &path).unwrap();
        let picture = image::open(&path).unwrap();
        assert_eq!((picture.width(), picture.height()), (720, 440));
    }
}
