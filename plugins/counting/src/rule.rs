//! Rule mode: pick the answer's first count, choose another value near it (seeded) and
//! rewrite the count with the noun and verb agreement of `vapr_text::agreement`.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::agreement::{noun_agreement, phrase_end, verb_agreement};
use vapr_plugin_sdk::text::edit::{Edit as Span, apply_edits};
use vapr_plugin_sdk::text::inject::{NumberSite, count_sites, describe_edits};
use vapr_plugin_sdk::text::{SeededRng, Token, TokenKind, match_case, number_to_words, tokenize};

/// Words after which a count may become `no`/`none` ("there are no cats", "I see none");
/// after others ("the three cats", "exactly three", "a total of three") zero does not read.
const ZERO_AFTER: [&str; 24] = [
    "is", "are", "was", "were", "there's", "has", "have", "had", "with", "contains", "contain",
    "shows", "show", "see", "sees", "saw", "includes", "include", "holds", "hold", "features",
    "feature", "displays", "display",
];

pub(crate) fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let max_delta = sample.param_f64("max-delta", 2.0)?.max(1.0) as u64;
    let sites = count_sites(answer);
    let site = sites
        .first()
        .ok_or_else(|| PluginError::Refused("the answer contains no count".into()))?;
    let n = site.value;
    let zero_reads = zero_fits(answer, site);
    let one_reads = !after_plural_determiner(answer, site);
    let mut options: Vec<u64> = (n.saturating_sub(max_delta)..=n + max_delta)
        .filter(|&m| m != n && (m != 0 || zero_reads) && (m != 1 || one_reads))
        .filter(|&m| {
            let banned = |w: &str| sample.is_penalised(w);
            !banned(&m.to_string())
                && !banned(&number_to_words(m))
                && (m != 0 || !banned(&written(answer, site, 0)))
        })
        .collect();
    if options.is_empty() {
        return Err(PluginError::Refused(format!(
            "every alternative to {n} is banned by the penalty list"
        )));
    }
    SeededRng::new(seed).shuffle(&mut options);
    let m = options[0];
    let new = written(answer, site, m);
    let mut edits = vec![Span::verbatim(site.start, site.end, new)];
    edits.extend(noun_agreement(answer, site.end, m));
    edits.extend(verb_agreement(
        answer,
        (site.start, site.end),
        phrase_end(answer, site.end),
        m,
    ));
    let rejected = apply_edits(answer, &edits);
    log::log(
        Level::Debug,
        "changed count",
        &[("from", &n.to_string()), ("to", &m.to_string())],
    );
    Ok(Edit::new(rejected)
        .note(describe_edits(answer, &edits))
        .extra("original", n.to_string())
        .extra("replacement", m.to_string()))
}

/// The tokens before and after `site`.
fn neighbours<'t>(
    toks: &'t [Token<'t>],
    site: &NumberSite<'_>,
) -> (Option<&'t Token<'t>>, Option<&'t Token<'t>>) {
    let i = toks.iter().position(|t| t.start == site.start);
    let prev = i.and_then(|i| i.checked_sub(1)).map(|p| &toks[p]);
    let next = i.and_then(|i| toks.get(i + 1));
    (prev, next)
}

fn is_clause_start(prev: Option<&Token<'_>>) -> bool {
    prev.is_none_or(|p| {
        p.kind == TokenKind::Punct && matches!(p.text, "." | "!" | "?" | "," | ":" | ";")
    })
}

/// True when `no …`/`none` can stand where `site` stands.
fn zero_fits(answer: &str, site: &NumberSite<'_>) -> bool {
    let toks = tokenize(answer);
    let (prev, _) = neighbours(&toks, site);
    is_clause_start(prev)
        || prev
            .is_some_and(|p| ZERO_AFTER.contains(&p.text.to_lowercase().replace('’', "'").as_str()))
}

/// True after "these", "those", "both", …: the count may not become one ("these one cat").
fn after_plural_determiner(answer: &str, site: &NumberSite<'_>) -> bool {
    const PLURAL_ONLY: [&str; 7] = ["these", "those", "both", "all", "several", "many", "few"];
    let toks = tokenize(answer);
    let (prev, _) = neighbours(&toks, site);
    prev.is_some_and(|p| PLURAL_ONLY.contains(&p.text.to_lowercase().as_str()))
}

/// `value` written where `site` stands, in its form: digits stay digits and words stay
/// words (case kept); zero is `no` before a noun, `none` before `of` or alone (`0` for a
/// bare digit count).
fn written(answer: &str, site: &NumberSite<'_>, value: u64) -> String {
    let toks = tokenize(answer);
    let (prev, next) = neighbours(&toks, site);
    let digits = site.digits;
    let word = if value == 0 {
        let next_word = next.filter(|t| t.kind == TokenKind::Word);
        match next_word.map(|t| t.text.to_lowercase()) {
            Some(w) if w == "of" => "none".to_string(),
            Some(_) if phrase_end(answer, site.end) > site.end => "no".to_string(),
            _ if digits => "0".to_string(),
            _ => "none".to_string(),
        }
    } else if digits {
        value.to_string()
    } else {
        number_to_words(value)
    };
    if !digits {
        return match_case(site.text, &word);
    }
    // A digit count turned into a word ("3 cats" → "no cats") opens a sentence capitalised.
    let sentence_start =
        prev.is_none_or(|p| p.kind == TokenKind::Punct && matches!(p.text, "." | "!" | "?"));
    if sentence_start && word.starts_with(|c: char| c.is_alphabetic()) {
        let mut chars = word.chars();
        return chars
            .next()
            .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect());
    }
    word
}
