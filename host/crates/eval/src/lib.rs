//! The eval room: generation, benchmark runners with pinned protocols, yes-bias metrics and
//! paired bootstrap intervals.
