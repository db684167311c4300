//! A small coverage-based rasteriser: each shape is a signed distance function, and a
//! pixel's coverage is `clamp(0.5 - distance, 0, 1)` at its centre — one pixel of
//! anti-aliasing, exact colours inside shapes (which the tests rely on), no dependency,
//! and the same bytes on every machine.

use image::{Rgb, RgbImage};

use super::scene::{Background, Object, Scene, Shape};

/// Half-side of a square relative to the radius: equal area to the circle (√π / 2).
const SQUARE_HALF: f32 = 0.886_226_9;
/// Side of the equilateral triangle relative to the radius (keeps it inside its cell).
const TRIANGLE_SIDE: f32 = 2.3;

/// Renders `scene` to a `size`×`size` RGB image.
pub fn render(scene: &Scene, size: u32) -> RgbImage {
    let mut img = RgbImage::new(size, size);
    paint_background(&mut img, scene.background);
    for object in &scene.objects {
        paint_object(&mut img, object);
    }
    img
}

fn paint_background(img: &mut RgbImage, background: Background) {
    let h = img.height() as f32;
    for y in 0..img.height() {
        let rgb = match background {
            Background::Plain(t) => t.rgb(),
            Background::Gradient { top, bottom } => {
                let t = (y as f32 + 0.5) / h;
                mix(top.rgb(), bottom.rgb(), t)
            }
        };
        for x in 0..img.width() {
            img.put_pixel(x, y, Rgb(rgb));
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let m = |x: u8, y: u8| {
        (x as f32 * (1.0 - t) + y as f32 * t)
            .round()
            .clamp(0.0, 255.0) as u8
    };
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// Centre and radius of `object` in pixels for an image of side `size`.
pub fn geometry(object: &Object, size: u32) -> (f32, f32, f32) {
    let cell = size as f32 / 3.0;
    let (row, col) = object.cell.row_col();
    let cx = (col as f32 + 0.5 + object.jitter.0) * cell;
    let cy = (row as f32 + 0.5 + object.jitter.1) * cell;
    (cx, cy, object.size.radius_fraction() * cell)
}

fn paint_object(img: &mut RgbImage, object: &Object) {
    let (cx, cy, r) = geometry(object, img.width());
    let reach = r * 1.2 + 2.0;
    let x0 = (cx - reach).floor().max(0.0) as u32;
    let y0 = (cy - reach).floor().max(0.0) as u32;
    let x1 = ((cx + reach).ceil() as u32).min(img.width());
    let y1 = ((cy + reach).ceil() as u32).min(img.height());
    let fg = object.color.rgb();
    let sdf = shape_sdf(object.shape, r);
    for y in y0..y1 {
        for x in x0..x1 {
            let px = x as f32 + 0.5 - cx;
            let py = y as f32 + 0.5 - cy;
            let coverage = (0.5 - sdf(px, py)).clamp(0.0, 1.0);
            if coverage > 0.0 {
                let bg = img.get_pixel(x, y).0;
                img.put_pixel(x, y, Rgb(mix(bg, fg, coverage)));
            }
        }
    }
}

/// Signed distance (pixels, negative inside) of a shape centred at the origin.
fn shape_sdf(shape: Shape, r: f32) -> Box<dyn Fn(f32, f32) -> f32> {
    match shape {
        Shape::Circle => Box::new(move |x, y| (x * x + y * y).sqrt() - r),
        Shape::Square => {
            let h = r * SQUARE_HALF;
            Box::new(move |x, y| {
                let (dx, dy) = (x.abs() - h, y.abs() - h);
                let outside = (dx.max(0.0).powi(2) + dy.max(0.0).powi(2)).sqrt();
                outside + dx.max(dy).min(0.0)
            })
        }
        Shape::Triangle => {
            // Pointing up; its bounding box (not its centroid) is centred on the origin.
            let s = r * TRIANGLE_SIDE;
            let h = s * 3f32.sqrt() / 2.0;
            let a = (0.0, -h / 2.0);
            let b = (s / 2.0, h / 2.0);
            let c = (-s / 2.0, h / 2.0);
            Box::new(move |x, y| triangle_sdf((x, y), a, b, c))
        }
    }
}

/// Exact signed distance to a triangle (after Inigo Quilez's `sdTriangle`).
fn triangle_sdf(p: (f32, f32), a: (f32, f32), b: (f32, f32), c: (f32, f32)) -> f32 {
    let sub = |u: (f32, f32), v: (f32, f32)| (u.0 - v.0, u.1 - v.1);
    let dot = |u: (f32, f32), v: (f32, f32)| u.0 * v.0 + u.1 * v.1;
    let cross = |u: (f32, f32), v: (f32, f32)| u.0 * v.1 - u.1 * v.0;
    let edges = [(a, sub(b, a)), (b, sub(c, b)), (c, sub(a, c))];
    let s = cross(sub(b, a), sub(c, a)).signum();
    let mut dist2 = f32::INFINITY;
    let mut inside = true;
    for (start, e) in edges {
        let v = sub(p, start);
        let t = (dot(v, e) / dot(e, e)).clamp(0.0, 1.0);
        let q = (v.0 - e.0 * t, v.1 - e.1 * t);
        dist2 = dist2.min(dot(q, q));
        if s * cross(e, v) < 0.0 {
            inside = false;
        }
    }
    if inside { -dist2.sqrt() } else { dist2.sqrt() }
}

/// Encodes `img` as PNG (deterministic bytes for the same pixels).
pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::scene::{Cell, Color, Size, Tint};

    fn one(shape: Shape) -> Scene {
        Scene {
            background: Background::Plain(Tint::White),
            objects: vec![Object {
                shape,
                color: Color::Blue,
                size: Size::Large,
                cell: Cell::Center,
                jitter: (0.0, 0.0),
            }],
        }
    }

    fn exact_pixels(img: &RgbImage, rgb: [u8; 3]) -> usize {
        img.pixels().filter(|p| p.0 == rgb).count()
    }

    #[test]
    fn shapes_cover_their_analytic_area_and_have_soft_edges() {
        let size = 300;
        let r = Size::Large.radius_fraction() * size as f32 / 3.0;
        let expected = [
            (Shape::Circle, std::f32::consts::PI * r * r),
            (Shape::Square, (2.0 * r * SQUARE_HALF).powi(2)),
            (
                Shape::Triangle,
                3f32.sqrt() / 4.0 * (r * TRIANGLE_SIDE).powi(2),
            ),
        ];
        for (shape, area) in expected {
            let img = render(&one(shape), size);
            let inner = exact_pixels(&img, Color::Blue.rgb()) as f32;
            let touched = img.pixels().filter(|p| p.0 != [255, 255, 255]).count() as f32;
            assert!(
                inner < area && area < touched,
                "{shape:?}: {inner} < {area} < {touched}"
            );
            assert!(
                touched - inner > 10.0,
                "{shape:?} has anti-aliased edge pixels"
            );
            let c = img.get_pixel(size / 2, size / 2).0;
            assert_eq!(c, Color::Blue.rgb());
        }
    }

    #[test]
    fn gradient_runs_from_top_to_bottom_tint() {
        let scene = Scene {
            background: Background::Gradient {
                top: Tint::White,
                bottom: Tint::LightBlue,
            },
            objects: vec![],
        };
        let img = render(&scene, 100);
        assert_eq!(
            img.get_pixel(0, 0).0,
            mix(Tint::White.rgb(), Tint::LightBlue.rgb(), 0.005)
        );
        assert_eq!(
            img.get_pixel(50, 99).0,
            mix(Tint::White.rgb(), Tint::LightBlue.rgb(), 0.995)
        );
    }

    #[test]
    fn triangle_sdf_is_negative_inside_and_exact_outside() {
        let (a, b, c) = ((0.0, -1.0), (1.0, 1.0), (-1.0, 1.0));
        assert!(triangle_sdf((0.0, 0.0), a, b, c) < 0.0);
        assert!((triangle_sdf((0.0, 3.0), a, b, c) - 2.0).abs() < 1e-6);
    }
}
