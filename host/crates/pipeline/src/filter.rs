//! Stage 1: drop units that cannot become a hard negative by editing the answer.
//!
//! Multiple-choice items (the answer is a letter, an edit is a different letter, which
//! teaches nothing about the image), text-only items (no image to ground the preference),
//! answers that are bounding boxes or coordinates, and empty answers. Each drop has a
//! reason so the run summary can count them.

use std::fmt;

use vapr_core::QaUnit;

/// Why Stage 1 dropped a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    MultipleChoice,
    TextOnly,
    BoundingBox,
    EmptyAnswer,
}

impl DropReason {
    /// The key used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::MultipleChoice => "multiple_choice",
            DropReason::TextOnly => "text_only",
            DropReason::BoundingBox => "bounding_box",
            DropReason::EmptyAnswer => "empty_answer",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Ok(())` when the unit goes on to Stage 2, else why it was dropped.
pub fn check(unit: &QaUnit) -> Result<(), DropReason> {
    if unit.image.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(DropReason::TextOnly);
    }
    let answer = unit.answer.trim();
    if answer.is_empty() {
        return Err(DropReason::EmptyAnswer);
    }
    if is_multiple_choice(&unit.question, answer) {
        return Err(DropReason::MultipleChoice);
    }
    if is_coordinates(answer) {
        return Err(DropReason::BoundingBox);
    }
    Ok(())
}

/// Phrases LLaVA-style multiple-choice instructions use.
const MC_PHRASES: [&str; 4] = [
    "answer with the option's letter",
    "answer with the option letter",
    "answer with the letter",
    "choose the correct option",
];

/// A multiple-choice item: an explicit instruction, at least two lettered option lines
/// (`A. …`, `(B) …`, `C) …`), or a bare option letter as the answer to a question that
/// lists options.
fn is_multiple_choice(question: &str, answer: &str) -> bool {
    let q = question.to_lowercase();
    if MC_PHRASES.iter().any(|p| q.contains(p)) {
        return true;
    }
    let option_lines = question
        .lines()
        .filter(|line| option_letter(line.trim_start()).is_some())
        .count();
    if option_lines >= 2 {
        return true;
    }
    let inline_options = ["(a)", "(b)", "(c)"]
        .iter()
        .filter(|o| q.contains(*o))
        .count();
    inline_options >= 2 && is_bare_letter(answer)
}

/// The option letter a line starts with: `A.`, `A)`, `(A)`, `A:` followed by a space.
fn option_letter(line: &str) -> Option<char> {
    let mut chars = line.chars();
    let first = chars.next()?;
    let (letter, rest) = if first == '(' {
        let l = chars.next()?;
        (l, chars.as_str().strip_prefix(')')?)
    } else {
        let rest = chars.as_str();
        let rest = rest
            .strip_prefix('.')
            .or_else(|| rest.strip_prefix(')'))
            .or_else(|| rest.strip_prefix(':'))?;
        (first, rest)
    };
    (letter.is_ascii_uppercase() && letter <= 'H' && rest.starts_with(' ')).then_some(letter)
}

/// `A`, `B.`, `(C)`, `D)`.
fn is_bare_letter(answer: &str) -> bool {
    let t = answer.trim_matches(|c: char| c == '(' || c == ')' || c == '.' || c.is_whitespace());
    t.len() == 1 && t.chars().all(|c| c.is_ascii_uppercase())
}

/// Answers made of bracketed number lists: `[0.12, 0.3, 0.5, 0.9]`, `(12, 40)`, possibly
/// several of them separated by commas or `and`.
fn is_coordinates(answer: &str) -> bool {
    let mut groups = 0;
    let mut rest = answer.trim().trim_end_matches('.');
    while !rest.is_empty() {
        let open = rest.chars().next().unwrap();
        let close = match open {
            '[' => ']',
            '(' => ')',
            _ => return false,
        };
        let Some(end) = rest.find(close) else {
            return false;
        };
        let inner = &rest[1..end];
        let numbers: Vec<&str> = inner.split(',').map(str::trim).collect();
        if numbers.len() < 2 || !numbers.iter().all(|n| n.parse::<f64>().is_ok()) {
            return false;
        }
        groups += 1;
        rest = rest[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start()
            .trim_start_matches("and ")
            .trim_start();
    }
    groups > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(question: &str, answer: &str) -> QaUnit {
        QaUnit {
            id: "x#0".into(),
            image: Some("coco/1.jpg".into()),
            question: question.into(),
            answer: answer.into(),
            source: "test.json:1".into(),
            category_hint: None,
        }
    }

    #[test]
    fn keeps_ordinary_answers() {
        assert_eq!(
            check(&unit(
                "How many planes are visible?",
                "There are four planes."
            )),
            Ok(())
        );
        assert_eq!(
            check(&unit(
                "Is the light green?\nAnswer the question using a single word or phrase.",
                "Yes"
            )),
            Ok(())
        );
        // A region given in the question with a text answer is a referential item, not a box.
        assert_eq!(
            check(&unit(
                "Describe the region [0.1, 0.2, 0.5, 0.6].",
                "A man in a red shirt."
            )),
            Ok(())
        );
    }

    #[test]
    fn drops_multiple_choice_in_all_layouts() {
        let llava = "What is in the sky?\nA. A kite\nB. A plane\nC. A bird\nD. A balloon\nAnswer with the option's letter from the given choices directly.";
        assert_eq!(check(&unit(llava, "B")), Err(DropReason::MultipleChoice));
        let parens = "Which animal is shown?\n(A) cat\n(B) dog";
        assert_eq!(
            check(&unit(parens, "(B) dog")),
            Err(DropReason::MultipleChoice)
        );
        let inline = "Which is larger? (a) the truck (b) the car (c) the bike";
        assert_eq!(check(&unit(inline, "A")), Err(DropReason::MultipleChoice));
        // One "A." line alone (a sentence that starts with "A ") is not an option list.
        assert_eq!(check(&unit("A. man is here?", "Yes, a man.")), Ok(()));
    }

    #[test]
    fn drops_text_only_empty_and_boxes() {
        let mut u = unit("Tell me a joke.", "Why did the chicken…");
        u.image = None;
        assert_eq!(check(&u), Err(DropReason::TextOnly));
        u.image = Some("  ".into());
        assert_eq!(check(&u), Err(DropReason::TextOnly));
        assert_eq!(
            check(&unit("What is it?", "  \n")),
            Err(DropReason::EmptyAnswer)
        );
        let q = "Please provide the bounding box coordinate of the region this sentence describes: a dog.";
        assert_eq!(
            check(&unit(q, "[0.12, 0.3, 0.5, 0.9]")),
            Err(DropReason::BoundingBox)
        );
        assert_eq!(
            check(&unit(q, "[0.12, 0.3, 0.5, 0.9], [0.2, 0.1, 0.4, 0.3].")),
            Err(DropReason::BoundingBox)
        );
        assert_eq!(
            check(&unit("Where?", "(12, 40) and (30, 80)")),
            Err(DropReason::BoundingBox)
        );
        // Brackets around words are an ordinary answer.
        assert_eq!(check(&unit("What?", "[a dog] sleeping")), Ok(()));
    }
}
