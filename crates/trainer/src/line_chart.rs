//! What the line charts share (`compare`'s scores by source length, `curve`'s scores against
//! training time): a white 720 × 440 canvas with a caption, one coloured line with dots and a
//! legend entry per series, written as PNG whole or not at all.

use std::ops::Range;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::plot::{FONT, plot_error, register_font, write_png};
use crate::{Result, TrainerError};

/// A chart with numbers on both axes, drawn into memory.
pub(crate) type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The picture's size in pixels.
pub(crate) const SIZE: (u32, u32) = (720, 440);

/// Draws a chart of `x` × `y` with `caption` (axes and series drawn by `draw`, then the legend
/// at `legend`) and writes it to `path` as PNG, creating its folder.
///
/// # Errors
///
/// [`TrainerError::Plot`] for drawing errors, `draw`'s own, file errors.
pub(crate) fn write_line_chart(
    path: &Path,
    caption: &str,
    (x, y): (Range<f64>, Range<f64>),
    legend: SeriesLabelPosition,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<()>,
) -> Result<()> {
    register_font();
    let (w, h) = SIZE;
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .caption(caption, (FONT, 20))
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x, y)
            .map_err(|e| plot_error(path, e))?;
        draw(&mut chart)?;
        chart
            .configure_series_labels()
            .label_font((FONT, 14))
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .position(legend)
            .draw()
            .map_err(|e| plot_error(path, e))?;
        root.present().map_err(|e| plot_error(path, e))?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| TrainerError::io(dir, e))?;
    }
    write_png(path, &pixels, w, h)
}

/// Draws series number `k` (its palette colour): a line through `points`, a dot of radius
/// `dot` on each, and a legend entry `label`.
///
/// # Errors
///
/// [`TrainerError::Plot`] naming `path`.
pub(crate) fn draw_series(
    chart: &mut Chart<'_, '_>,
    k: usize,
    label: &str,
    points: Vec<(f64, f64)>,
    dot: u32,
    path: &Path,
) -> Result<()> {
    let color = Palette99::pick(k).to_rgba();
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(|e| plot_error(path, e))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    chart
        .draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, dot, color.filled())),
        )
        .map_err(|e| plot_error(path, e))?;
    Ok(())
}
