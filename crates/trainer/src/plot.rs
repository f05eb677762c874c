//! Pictures of attention: a heatmap (PNG and SVG), an animated GIF that steps through decoding
//! as the seed's §6 figure does, and the weights as JSON.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::run::{temp_path, write_atomic};
use crate::{Result, TrainerError};
use inference::Prediction;

/// Milliseconds each decoding step stays on screen in the GIF.
const FRAME_MS: u32 = 700;
pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // DejaVu Sans, embedded: pictures look the same on every machine, with no system fonts.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// Where [`write_attention_pictures`] put its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureFiles {
    /// The heatmap as PNG.
    pub png: PathBuf,
    /// The heatmap as SVG.
    pub svg: PathBuf,
    /// The animation as GIF.
    pub gif: PathBuf,
    /// The weights as JSON.
    pub json: PathBuf,
}

/// A heatmap's labels and cells: `weights[i][j]` for output row `i`, source column `j`.
struct Grid<'a> {
    /// Source labels (blank tokens shown as ␣).
    source: Vec<String>,
    output: Vec<String>,
    weights: &'a [Vec<f32>],
    cell_w: i32,
    cell_h: i32,
    left: i32,
    top: i32,
}

impl<'a> Grid<'a> {
    fn new(prediction: &'a Prediction) -> Self {
        let output = prediction.weight_rows();
        let visible = |t: &String| {
            if t.trim().is_empty() {
                "␣".to_string()
            } else {
                t.clone()
            }
        };
        let source: Vec<String> = prediction.source_tokens.iter().map(visible).collect();
        let output: Vec<String> = output.iter().map(visible).collect();
        let longest =
            |labels: &[String]| labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as i32;
        let cell_w = (8 * longest(&source) + 10).clamp(26, 90);
        Self {
            left: (8 * longest(&output) + 16).clamp(40, 140),
            top: 40,
            cell_w,
            cell_h: 24,
            source,
            output,
            weights: &prediction.weights,
        }
    }

    fn size(&self, extra_height: i32) -> (u32, u32) {
        let w = self.left + self.cell_w * self.source.len() as i32 + 20;
        let h = self.top + self.cell_h * self.output.len() as i32 + 20 + extra_height;
        (w.max(200) as u32, h.max(120) as u32)
    }

    /// Draws source labels across the top, output labels down the left, and the rows
    /// `0..rows` of cells, outlining row `highlight`.
    fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        rows: usize,
        highlight: Option<usize>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let label = TextStyle::from((FONT, 14).into_font()).color(&BLACK);
        for (j, token) in self.source.iter().enumerate() {
            let x = self.left + j as i32 * self.cell_w + self.cell_w / 2;
            area.draw(&Text::new(
                shorten(token, self.cell_w),
                (x, self.top - 22),
                label.pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                )),
            ))?;
        }
        for (i, token) in self.output.iter().enumerate() {
            let y = self.top + i as i32 * self.cell_h + 5;
            area.draw(&Text::new(token.clone(), (6, y), label.clone()))?;
        }
        for (i, row) in self.weights.iter().enumerate().take(rows) {
            for (j, &w) in row.iter().enumerate() {
                let (x, y) = (
                    self.left + j as i32 * self.cell_w,
                    self.top + i as i32 * self.cell_h,
                );
                area.draw(&Rectangle::new(
                    [(x, y), (x + self.cell_w - 1, y + self.cell_h - 1)],
                    shade(w).filled(),
                ))?;
            }
        }
        if let Some(i) = highlight {
            let y = self.top + i as i32 * self.cell_h;
            let x_end = self.left + self.cell_w * self.source.len() as i32;
            area.draw(&Rectangle::new(
                [(self.left - 2, y - 1), (x_end + 1, y + self.cell_h)],
                RED.stroke_width(2),
            ))?;
        }
        Ok(())
    }

    /// The seed's picture: bars of the current step's weights over the source tokens.
    fn draw_bars<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        step: usize,
        top: i32,
        height: i32,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let label = TextStyle::from((FONT, 14).into_font()).color(&BLACK);
        area.draw(&Text::new(
            format!("step {}: output {:?}", step + 1, self.output[step]),
            (6, top),
            label,
        ))?;
        let base = top + height;
        for (j, &w) in self.weights[step].iter().enumerate() {
            let x = self.left + j as i32 * self.cell_w;
            let bar = ((height - 24) as f32 * w.clamp(0.0, 1.0)) as i32;
            area.draw(&Rectangle::new(
                [(x + 3, base - bar), (x + self.cell_w - 4, base)],
                RGBColor(52, 101, 164).filled(),
            ))?;
        }
        Ok(())
    }
}

/// White for 0, deep blue for 1.
fn shade(w: f32) -> RGBColor {
    let w = w.clamp(0.0, 1.0);
    let mix = |from: f32, to: f32| (from + (to - from) * w).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// A label cut to fit `width` pixels.
fn shorten(text: &str, width: i32) -> String {
    let max = ((width - 4) / 8).max(1) as usize;
    if text.chars().count() <= max {
        text.to_string()
    } else {
        text.chars()
            .take(max.saturating_sub(1))
            .chain(['…'])
            .collect()
    }
}

/// Encodes `w × h` RGB `pixels` as PNG and writes it to `path`, whole or not at all.
pub(crate) fn write_png(path: &Path, pixels: &[u8], w: u32, h: u32) -> Result<()> {
    use image::ImageEncoder;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(pixels, w, h, image::ColorType::Rgb8)
        .map_err(|e| plot_error(path, e))?;
    write_atomic(path, &png)
}

pub(crate) fn plot_error(path: &Path, e: impl std::fmt::Display) -> TrainerError {
    TrainerError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `STEM.png` and `STEM.svg` (the heatmap: source tokens across, output tokens down),
/// `STEM.gif` (one frame per decoding step: the rows so far, the current one outlined, and the
/// current weights as bars) and `STEM.json` (the weights) into `dir`. Each file appears whole
/// or not at all.
///
/// # Errors
///
/// [`TrainerError::Plot`] if the prediction has no attention weights (the no-attention
/// baseline) or drawing fails; [`TrainerError::Io`] for file errors.
pub fn write_attention_pictures(
    prediction: &Prediction,
    dir: &Path,
    stem: &str,
) -> Result<PictureFiles> {
    let files = PictureFiles {
        png: dir.join(format!("{stem}.png")),
        svg: dir.join(format!("{stem}.svg")),
        gif: dir.join(format!("{stem}.gif")),
        json: dir.join(format!("{stem}.json")),
    };
    if prediction.weights.is_empty() {
        return Err(plot_error(
            &files.png,
            "this model has no attention (the no-attention baseline): there are no weights to draw",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainerError::io(dir, e))?;
    register_font();
    let grid = Grid::new(prediction);
    let rows = grid.weights.len();

    // PNG: drawn in memory, encoded, written atomically.
    let (w, h) = grid.size(0);
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&files.png, e))?;
        grid.draw(&root, rows, None)
            .map_err(|e| plot_error(&files.png, e))?;
        root.present().map_err(|e| plot_error(&files.png, e))?;
    }
    write_png(&files.png, &pixels, w, h)?;

    // SVG.
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(&files.svg, e))?;
        grid.draw(&root, rows, None)
            .map_err(|e| plot_error(&files.svg, e))?;
        root.present().map_err(|e| plot_error(&files.svg, e))?;
    }
    write_atomic(&files.svg, svg.as_bytes())?;

    // GIF: one frame per step, then a last frame with every row.
    let bars = 110;
    let (gw, gh) = grid.size(bars + 20);
    let tmp = temp_path(&files.gif).with_extension("tmp.gif");
    {
        let root = BitMapBackend::gif(&tmp, (gw, gh), FRAME_MS)
            .map_err(|e| plot_error(&files.gif, e))?
            .into_drawing_area();
        let bars_top = grid.top + grid.cell_h * rows as i32 + 16;
        for step in 0..rows {
            root.fill(&WHITE).map_err(|e| plot_error(&files.gif, e))?;
            grid.draw(&root, step + 1, Some(step))
                .map_err(|e| plot_error(&files.gif, e))?;
            grid.draw_bars(&root, step, bars_top, bars)
                .map_err(|e| plot_error(&files.gif, e))?;
            root.present().map_err(|e| plot_error(&files.gif, e))?;
        }
    }
    std::fs::rename(&tmp, &files.gif).map_err(|e| TrainerError::io(&files.gif, e))?;

    let json = serde_json::json!({
        "input": prediction.input,
        "source_tokens": prediction.source_tokens,
        "output_tokens": grid.output,
        "output": prediction.output,
        "weights": prediction.weights,
        "log_prob": prediction.log_prob,
        "finished": prediction.finished,
    });
    write_atomic(
        &files.json,
        &serde_json::to_vec_pretty(&json).expect("json serialises"),
    )?;
    Ok(files)
}
