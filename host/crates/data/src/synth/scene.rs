//! The scene model: shapes of a few colours and two sizes on a 3x3 grid over a light
//! background, sampled from a seed. Everything a question can ask about lives here, so
//! answers are computed from the same values the renderer draws.

use vapr_text::SeededRng;

/// Shape kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::Circle, Shape::Square, Shape::Triangle];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Shape::Circle => "circles",
            Shape::Square => "squares",
            Shape::Triangle => "triangles",
        }
    }

    /// `circle` or `circles` for `n`.
    pub fn noun(self, n: usize) -> &'static str {
        if n == 1 { self.name() } else { self.plural() }
    }
}

/// Shape colours: saturated, far from every background.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Color {
    Red,
    Green,
    Blue,
    Yellow,
    Purple,
    Orange,
}

impl Color {
    pub const ALL: [Color; 6] = [
        Color::Red,
        Color::Green,
        Color::Blue,
        Color::Yellow,
        Color::Purple,
        Color::Orange,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Color::Red => "red",
            Color::Green => "green",
            Color::Blue => "blue",
            Color::Yellow => "yellow",
            Color::Purple => "purple",
            Color::Orange => "orange",
        }
    }

    pub fn rgb(self) -> [u8; 3] {
        match self {
            Color::Red => [214, 39, 40],
            Color::Green => [44, 160, 44],
            Color::Blue => [31, 83, 204],
            Color::Yellow => [242, 196, 13],
            Color::Purple => [128, 61, 173],
            Color::Orange => [247, 129, 20],
        }
    }
}

/// Two size classes; large shapes have 1.8 times the radius of small ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Size {
    Small,
    Large,
}

impl Size {
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    /// Radius as a fraction of a grid cell's side.
    pub fn radius_fraction(self) -> f32 {
        match self {
            Size::Small => 0.19,
            Size::Large => 0.34,
        }
    }
}

/// The nine positions of the 3x3 grid, row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    TopLeft,
    Top,
    TopRight,
    Left,
    Center,
    Right,
    BottomLeft,
    Bottom,
    BottomRight,
}

impl Cell {
    pub const ALL: [Cell; 9] = [
        Cell::TopLeft,
        Cell::Top,
        Cell::TopRight,
        Cell::Left,
        Cell::Center,
        Cell::Right,
        Cell::BottomLeft,
        Cell::Bottom,
        Cell::BottomRight,
    ];

    /// (row, column), each 0..3.
    pub fn row_col(self) -> (usize, usize) {
        let i = self as usize;
        (i / 3, i % 3)
    }

    pub fn from_row_col(row: usize, col: usize) -> Cell {
        Cell::ALL[row * 3 + col]
    }

    /// Where-phrase: "in the top-left corner", "at the top", "in the center"…
    pub fn phrase(self) -> &'static str {
        match self {
            Cell::TopLeft => "in the top-left corner",
            Cell::Top => "at the top",
            Cell::TopRight => "in the top-right corner",
            Cell::Left => "on the left",
            Cell::Center => "in the center",
            Cell::Right => "on the right",
            Cell::BottomLeft => "in the bottom-left corner",
            Cell::Bottom => "at the bottom",
            Cell::BottomRight => "in the bottom-right corner",
        }
    }
}

/// Light background colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tint {
    White,
    LightGray,
    LightBlue,
    Beige,
    LightGreen,
    LightPink,
}

impl Tint {
    pub const ALL: [Tint; 6] = [
        Tint::White,
        Tint::LightGray,
        Tint::LightBlue,
        Tint::Beige,
        Tint::LightGreen,
        Tint::LightPink,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tint::White => "white",
            Tint::LightGray => "light gray",
            Tint::LightBlue => "light blue",
            Tint::Beige => "beige",
            Tint::LightGreen => "light green",
            Tint::LightPink => "light pink",
        }
    }

    pub fn rgb(self) -> [u8; 3] {
        match self {
            Tint::White => [255, 255, 255],
            Tint::LightGray => [211, 211, 211],
            Tint::LightBlue => [190, 220, 240],
            Tint::Beige => [240, 232, 205],
            Tint::LightGreen => [205, 235, 200],
            Tint::LightPink => [248, 212, 222],
        }
    }
}

/// A plain colour, or a vertical gradient between two tints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Background {
    Plain(Tint),
    Gradient { top: Tint, bottom: Tint },
}

impl Background {
    /// Noun phrase used in answers: "plain light gray", "a gradient from white at the top
    /// to light blue at the bottom".
    pub fn description(self) -> String {
        match self {
            Background::Plain(t) => format!("plain {}", t.name()),
            Background::Gradient { top, bottom } => {
                format!(
                    "a gradient from {} at the top to {} at the bottom",
                    top.name(),
                    bottom.name()
                )
            }
        }
    }

    /// Short name for short-answer evaluation: the tint, or "gradient".
    pub fn short(self) -> &'static str {
        match self {
            Background::Plain(t) => t.name(),
            Background::Gradient { .. } => "gradient",
        }
    }
}

/// One shape in the scene.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Object {
    pub shape: Shape,
    pub color: Color,
    pub size: Size,
    pub cell: Cell,
    /// Offset of the centre from the cell centre, as a fraction of the cell side.
    pub jitter: (f32, f32),
}

impl Object {
    /// "small red circle"
    pub fn full_name(&self) -> String {
        format!(
            "{} {} {}",
            self.size.name(),
            self.color.name(),
            self.shape.name()
        )
    }
}

/// A whole scene; objects sit in distinct cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub background: Background,
    pub objects: Vec<Object>,
}

/// Most objects a scene holds.
pub const MAX_OBJECTS: usize = 6;
/// Fewest objects a scene holds.
pub const MIN_OBJECTS: usize = 2;
/// Largest jitter, chosen so a large shape (radius 0.34) never leaves its cell.
const MAX_JITTER: f32 = 0.08;

impl Scene {
    /// Samples a scene. Colours and shapes are drawn from small palettes per scene (so
    /// repeated colour/shape combinations — the stuff of counting questions — are common).
    pub fn sample(rng: &mut SeededRng) -> Scene {
        let background = if rng.below(4) == 0 {
            let top = *rng.choose(&Tint::ALL).unwrap();
            let others: Vec<Tint> = Tint::ALL.into_iter().filter(|t| *t != top).collect();
            Background::Gradient {
                top,
                bottom: *rng.choose(&others).unwrap(),
            }
        } else {
            Background::Plain(*rng.choose(&Tint::ALL).unwrap())
        };
        let n = MIN_OBJECTS + rng.below((MAX_OBJECTS - MIN_OBJECTS + 1) as u64) as usize;
        let mut cells = Cell::ALL.to_vec();
        rng.shuffle(&mut cells);
        let mut palette = Color::ALL.to_vec();
        rng.shuffle(&mut palette);
        let colors = &palette[..3 + rng.below(3) as usize];
        let mut objects: Vec<Object> = cells[..n]
            .iter()
            .map(|&cell| {
                let jx = (rng.unit() as f32 * 2.0 - 1.0) * MAX_JITTER;
                let jy = (rng.unit() as f32 * 2.0 - 1.0) * MAX_JITTER;
                Object {
                    shape: *rng.choose(&Shape::ALL).unwrap(),
                    color: *rng.choose(colors).unwrap(),
                    size: if rng.below(2) == 0 {
                        Size::Small
                    } else {
                        Size::Large
                    },
                    cell,
                    jitter: (jx, jy),
                }
            })
            .collect();
        objects.sort_by_key(|o| o.cell);
        Scene {
            background,
            objects,
        }
    }

    /// Objects matching an optional colour, shape and size.
    pub fn matching(
        &self,
        color: Option<Color>,
        shape: Option<Shape>,
        size: Option<Size>,
    ) -> Vec<&Object> {
        self.objects
            .iter()
            .filter(|o| color.is_none_or(|c| o.color == c))
            .filter(|o| shape.is_none_or(|s| o.shape == s))
            .filter(|o| size.is_none_or(|s| o.size == s))
            .collect()
    }

    pub fn count(&self, color: Option<Color>, shape: Option<Shape>) -> usize {
        self.matching(color, shape, None).len()
    }

    pub fn at(&self, cell: Cell) -> Option<&Object> {
        self.objects.iter().find(|o| o.cell == cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_scenes_respect_the_world_rules() {
        let mut rng = SeededRng::new(3);
        for _ in 0..200 {
            let s = Scene::sample(&mut rng);
            assert!((MIN_OBJECTS..=MAX_OBJECTS).contains(&s.objects.len()));
            let mut cells: Vec<_> = s.objects.iter().map(|o| o.cell).collect();
            cells.dedup();
            assert_eq!(cells.len(), s.objects.len(), "one object per cell, sorted");
            for o in &s.objects {
                let reach = o.size.radius_fraction() + o.jitter.0.abs().max(o.jitter.1.abs());
                assert!(reach < 0.5, "shape stays inside its cell");
            }
        }
    }

    #[test]
    fn cells_know_their_row_and_column() {
        for c in Cell::ALL {
            let (r, col) = c.row_col();
            assert_eq!(Cell::from_row_col(r, col), c);
        }
        assert_eq!(Cell::BottomLeft.row_col(), (2, 0));
    }
}
