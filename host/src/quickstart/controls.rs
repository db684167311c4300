//! The quickstart's two control pair sets (issue 5, step 2e): the same questions and
//! chosen answers as the VaPR pairs, with rejected answers that are wrong *and* carry the
//! bias the paper blames on synthetic preference data (`docs/paper.md` §1):
//!
//! - **length-biased**: the synth's sentence with one fact changed, plus a verbose extra
//!   clause ("There are five red circles, which is easy to make out against …"). The
//!   rejected answer is longer in every pair, so "shorter wins" is a shortcut DPO can learn.
//! - **style-biased**: one fact changed, said in another phrasing ("Five red circles can
//!   be seen in the picture."), so wording alone separates chosen from rejected.
//!
//! Wrong answers come from the facts the ground-truth answer states ([`facts`]): one fact
//! gets another value, which is false of the scene. Deterministic for (seed, id).

mod facts;
mod restyle;
#[cfg(test)]
mod tests;

pub use facts::Facts;

use vapr_core::Category;
use vapr_text::SeededRng;

/// The bias a control set carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bias {
    Length,
    Style,
}

impl Bias {
    pub const ALL: [Bias; 2] = [Bias::Length, Bias::Style];

    /// The pair set's name: `length-biased` or `style-biased`.
    pub fn name(self) -> &'static str {
        match self {
            Bias::Length => "length-biased",
            Bias::Style => "style-biased",
        }
    }

    /// One line for the report: how the rejected answers were made.
    pub fn description(self) -> &'static str {
        match self {
            Bias::Length => {
                "rejected = the answer with one fact changed plus a verbose extra clause (wrong and longer)"
            }
            Bias::Style => {
                "rejected = the answer with one fact changed, reworded in another phrasing (wrong and restyled)"
            }
        }
    }

    /// Keeps the two sets' random draws apart (and apart from the VaPR run's).
    fn salt(self) -> u64 {
        match self {
            Bias::Length => 0x6c65_6e67_7468_0000,
            Bias::Style => 0x7374_796c_6500_0000,
        }
    }
}

/// A control's rejected answer and the (false) facts it states.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    pub rejected: String,
    pub wrong: Facts,
}

/// Articles aside ("a orange" / "an orange"), the synth's wording.
fn same_wording(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().replace(" an ", " a ").replace("An ", "A ");
    norm(a) == norm(b)
}

/// The control rejected answer of sample `id` for the `bias` set, or `None` when
/// `answer` is not a synthetic answer of `category` (then no control is possible: its
/// facts are unknown).
pub fn control(
    bias: Bias,
    category: Category,
    answer: &str,
    seed: u64,
    id: &str,
) -> Option<Control> {
    let facts = Facts::parse(category, answer)?;
    // Written back, the facts must give the answer again: then the length-biased
    // rejected answer differs from the chosen one only by the changed fact and the clause.
    if !same_wording(&facts.plain(), answer) {
        return None;
    }
    let mut rng = SeededRng::new(vapr_pipeline::seed::sample_seed(seed ^ bias.salt(), id));
    let wrong = facts.falsify(&mut rng);
    let rejected = match bias {
        Bias::Length => restyle::padded(&wrong.plain(), &mut rng),
        Bias::Style => restyle::restyled(&wrong, &mut rng),
    };
    Some(Control { rejected, wrong })
}
