//! A small document model (headings, paragraphs, lists, tables, images) rendered to both
//! Markdown and a self-contained HTML page, so `report.md` and `report.html` always say the
//! same thing. Inline markup is limited to `code` spans (backticks).

use std::fmt::Write as _;

/// One block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Level 2 or 3 (the title is level 1).
    Heading(u8, String),
    Para(String),
    List(Vec<String>),
    Table(Table),
    /// An image path relative to the report, with its alt text.
    Image {
        src: String,
        alt: String,
    },
}

/// A table; `numeric` columns are right-aligned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first column is text and the others numbers.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        let header: Vec<String> = header.into_iter().map(Into::into).collect();
        let numeric = (0..header.len()).map(|i| i > 0).collect();
        Self {
            header,
            numeric,
            rows: Vec::new(),
        }
    }

    /// Marks columns (by index) as text.
    pub fn text_columns(mut self, cols: &[usize]) -> Self {
        for &c in cols {
            if let Some(n) = self.numeric.get_mut(c) {
                *n = false;
            }
        }
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Parses a pipe table as written by [`BiasStats::to_markdown`](crate::BiasStats::to_markdown):
    /// a header line, an alignment line (`---:` = right-aligned), then rows.
    pub fn from_markdown(md: &str) -> Option<Self> {
        let mut lines = md.lines().map(str::trim).filter(|l| l.starts_with('|'));
        let cells = |line: &str| -> Vec<String> {
            line.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        };
        let header = cells(lines.next()?);
        let numeric = cells(lines.next()?)
            .iter()
            .map(|a| a.ends_with(':'))
            .collect();
        let rows = lines.map(cells).collect();
        Some(Self {
            header,
            numeric,
            rows,
        })
    }
}

/// A whole report: a title and its blocks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Doc {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Doc {
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    pub fn h2(&mut self, s: impl Into<String>) {
        self.blocks.push(Block::Heading(2, s.into()));
    }

    pub fn h3(&mut self, s: impl Into<String>) {
        self.blocks.push(Block::Heading(3, s.into()));
    }

    pub fn para(&mut self, s: impl Into<String>) {
        self.blocks.push(Block::Para(s.into()));
    }

    pub fn list(&mut self, items: Vec<String>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    pub fn table(&mut self, t: Table) {
        self.blocks.push(Block::Table(t));
    }

    pub fn image(&mut self, src: impl Into<String>, alt: impl Into<String>) {
        self.blocks.push(Block::Image {
            src: src.into(),
            alt: alt.into(),
        });
    }

    /// GitHub-flavoured Markdown; table columns are padded so the raw file reads well too.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n", self.title);
        for block in &self.blocks {
            out.push('\n');
            match block {
                Block::Heading(level, s) => {
                    let _ = writeln!(out, "{} {s}", "#".repeat(usize::from(*level)));
                }
                Block::Para(s) => {
                    let _ = writeln!(out, "{s}");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(out, "- {item}");
                    }
                }
                Block::Table(t) => markdown_table(&mut out, t),
                Block::Image { src, alt } => {
                    let _ = writeln!(out, "![{alt}]({src})");
                }
            }
        }
        out
    }

    /// One self-contained HTML page: inline CSS, images referenced relatively, all text escaped.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n",
            escape(&self.title),
            inline_html(&self.title)
        );
        for block in &self.blocks {
            match block {
                Block::Heading(level, s) => {
                    let _ = writeln!(out, "<h{level}>{}</h{level}>", inline_html(s));
                }
                Block::Para(s) => {
                    let _ = writeln!(out, "<p>{}</p>", inline_html(s));
                }
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(out, "<li>{}</li>", inline_html(item));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table(t) => html_table(&mut out, t),
                Block::Image { src, alt } => {
                    let _ = writeln!(
                        out,
                        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                        escape(src),
                        escape(alt),
                        inline_html(alt)
                    );
                }
            }
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;\
color:#222;background:#fff;line-height:1.5;margin:0}\
main{max-width:1100px;margin:0 auto;padding:1.5rem}\
h1{border-bottom:2px solid #ddd}h2{margin-top:2rem;border-bottom:1px solid #eee}\
table{border-collapse:collapse;margin:0.8rem 0;font-variant-numeric:tabular-nums}\
th,td{border:1px solid #ddd;padding:0.25rem 0.6rem}th{background:#f5f5f5}\
td.num,th.num{text-align:right}\
code{background:#f3f3f3;padding:0 0.2rem;border-radius:3px}\
figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{color:#666;font-size:0.9rem}";

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with `code` spans; an unmatched backtick stays literal.
fn inline_html(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escape(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(p))
            } else {
                escape(p)
            }
        })
        .collect()
}

/// A Markdown table cell: pipes escaped, newlines flattened.
fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn markdown_table(out: &mut String, t: &Table) {
    let ncols = t.header.len();
    let cell = |row: &[String], c: usize| md_cell(row.get(c).map_or("", String::as_str));
    let mut widths: Vec<usize> = (0..ncols)
        .map(|c| cell(&t.header, c).chars().count().max(3))
        .collect();
    for row in &t.rows {
        for (c, w) in widths.iter_mut().enumerate() {
            *w = (*w).max(cell(row, c).chars().count());
        }
    }
    let line = |out: &mut String, row: &[String]| {
        out.push('|');
        for (c, w) in widths.iter().enumerate() {
            let s = cell(row, c);
            let pad = " ".repeat(w - s.chars().count());
            if t.numeric.get(c).copied().unwrap_or(false) {
                let _ = write!(out, " {pad}{s} |");
            } else {
                let _ = write!(out, " {s}{pad} |");
            }
        }
        out.push('\n');
    };
    line(out, &t.header);
    out.push('|');
    for (c, w) in widths.iter().enumerate() {
        if t.numeric.get(c).copied().unwrap_or(false) {
            let _ = write!(out, " {}: |", "-".repeat(w - 1));
        } else {
            let _ = write!(out, " {} |", "-".repeat(*w));
        }
    }
    out.push('\n');
    for row in &t.rows {
        line(out, row);
    }
}

fn html_table(out: &mut String, t: &Table) {
    let class = |c: usize| {
        if t.numeric.get(c).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    out.push_str("<table>\n<thead><tr>");
    for (c, h) in t.header.iter().enumerate() {
        let _ = write!(out, "<th{}>{}</th>", class(c), inline_html(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in 0..t.header.len() {
            let s = row.get(c).map_or("", String::as_str);
            let _ = write!(out, "<td{}>{}</td>", class(c), inline_html(s));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Doc {
        let mut doc = Doc::new("Run <1>");
        doc.h2("Results");
        doc.para("Model `a<b>` & friends.");
        let mut t = Table::new(["model", "acc"]);
        t.row(vec!["x|y".into(), "50.0%".into()]);
        t.row(vec!["longer name".into(), "5.0%".into()]);
        doc.table(t);
        doc.image("plots/a.png", "A \"plot\"");
        doc
    }

    #[test]
    fn markdown_tables_are_padded_and_right_aligned() {
        let md = sample().to_markdown();
        assert!(md.starts_with("# Run <1>\n"));
        assert!(md.contains("| model       |   acc |\n"), "{md}");
        assert!(md.contains("| ----------- | ----: |\n"), "{md}");
        assert!(md.contains("| x\\|y        | 50.0% |\n"), "{md}");
        assert!(md.contains("![A \"plot\"](plots/a.png)"));
    }

    #[test]
    fn html_escapes_text_and_keeps_code_spans() {
        let html = sample().to_html();
        assert!(html.contains("<h1>Run &lt;1&gt;</h1>"));
        assert!(html.contains("<p>Model <code>a&lt;b&gt;</code> &amp; friends.</p>"));
        assert!(html.contains("<td class=\"num\">50.0%</td>"));
        assert!(html.contains("<img src=\"plots/a.png\" alt=\"A &quot;plot&quot;\">"));
        assert!(!html.contains("<1>"));
        assert_eq!(inline_html("a ` b"), "a ` b");
    }

    #[test]
    fn bias_table_markdown_parses_back() {
        let t = Table::from_markdown("| metric | all |\n|---|---:|\n| pairs | 3 |\n").unwrap();
        assert_eq!(t.header, ["metric", "all"]);
        assert_eq!(t.numeric, [false, true]);
        assert_eq!(t.rows, [["pairs", "3"]]);
    }
}
