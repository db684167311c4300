//! Plot text from a font bundled in the crate, so a report (and vapr-eval's yes-bias plot)
//! renders the same on a machine with no fonts installed.
//!
//! The workspace builds plotters with its `ttf` feature (system fonts through font-kit);
//! with it on, plotters draws text with whatever font the system
//! resolves, or fails when there is none. [`GlyphBackend`] wraps a drawing backend and
//! draws and measures every text itself with [ab_glyph] from [`FONT_BYTES`], so plotters'
//! font lookup is never consulted. [`register_bundled_font`] also registers the same bytes
//! with plotters' ab_glyph font table, which plotters uses when built without `ttf`.
//! Plot code must not use `MultiLineText` or plotters' series legends, which measure text
//! through the font directly; draw legends with [`GlyphBackend`]-rendered `Text` instead.

use std::sync::{LazyLock, Once};

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::style::FontStyle;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// DejaVu Sans, subset to Latin-1, Greek, general punctuation and a few math signs
/// (licence: `assets/fonts/LICENSE-DejaVu.txt`).
pub const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// The family name plot code asks for.
pub const FAMILY: &str = "sans-serif";

static FONT: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(FONT_BYTES).expect("the bundled font is a valid TrueType file")
});

/// Registers the bundled font as plotters' `sans-serif` (idempotent).
pub fn register_bundled_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_err() {
            tracing::warn!("plotters rejected the bundled font");
        }
    });
}

/// Width and height in pixels of `text` at `size` px, and the ascent (baseline offset).
fn layout(text: &str, size: f32) -> (f32, f32, f32) {
    let font = FONT.as_scaled(PxScale::from(size));
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            width += font.kern(p, id);
        }
        width += font.h_advance(id);
        prev = Some(id);
    }
    (width, font.ascent() - font.descent(), font.ascent())
}

/// Width in pixels of `text` drawn at `size` px (what [`GlyphBackend`] will draw).
pub fn text_width(text: &str, size: f64) -> f64 {
    f64::from(layout(text, size as f32).0)
}

/// Coverage of each pixel of `text` laid out from the box's top-left corner at (0, 0).
fn rasterize(text: &str, size: f32) -> Vec<(i32, i32, f32)> {
    let scale = PxScale::from(size);
    let font = FONT.as_scaled(scale);
    let ascent = font.ascent();
    let mut pixels = Vec::new();
    let mut x = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            x += font.kern(p, id);
        }
        prev = Some(id);
        let glyph = id.with_scale_and_position(scale, point(x, ascent));
        if let Some(outline) = FONT.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                if cov > 0.0 {
                    pixels.push((b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, cov));
                }
            });
        }
        x += font.h_advance(id);
    }
    pixels
}

/// A drawing backend whose text comes from the bundled font; everything else is `B`'s.
pub struct GlyphBackend<B>(pub B);

impl<B: DrawingBackend> DrawingBackend for GlyphBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h, _) = layout(text, style.size() as f32);
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    /// Same anchoring and rotation rules as plotters' default implementation.
    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let size = style.size() as f32;
        let (w, h, _) = layout(text, size);
        let (w, h) = (w.round() as i32, h.round() as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -w,
            HPos::Center => -w / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let trans = style.transform();
        for (x, y, cov) in rasterize(text, size) {
            let (x, y) = trans.transform(x + dx, y + dy);
            let c = BackendColor {
                alpha: color.alpha * f64::from(cov.min(1.0)),
                rgb: color.rgb,
            };
            self.0.draw_pixel((pos.0 + x, pos.1 + y), c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn text_renders_from_the_bundled_font() {
        let (w, h) = (120u32, 40u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root =
                GlyphBackend(BitMapBackend::with_buffer(&mut buf, (w, h))).into_drawing_area();
            let style = TextStyle::from((FAMILY, 20).into_font()).color(&BLACK);
            let (tw, th) = root.estimate_text_size("Δ 50%", &style).unwrap();
            assert!(
                (40..110).contains(&tw) && (15..30).contains(&th),
                "{tw}x{th}"
            );
            root.draw_text("Δ 50%", &style, (5, 5)).unwrap();
            root.present().unwrap();
        }
        let dark = buf.chunks(3).filter(|p| p[0] < 128).count();
        assert!(dark > 50, "only {dark} dark pixels");
        // Nothing is drawn outside the text box (5..5+tw, 5..5+th) plus antialiasing.
        let stray = buf
            .chunks(3)
            .enumerate()
            .filter(|(i, p)| p[0] < 250 && (*i as u32 % w > 112 || *i as u32 / w > 36))
            .count();
        assert_eq!(stray, 0);
    }
}
