//! Scene terms for background edits: lighting, weather, time of day, setting and the
//! background's pattern. Colours of a background come from the colour lexicon.

use super::{Entry, Kind, Lexicon};

const LIGHTING: &[(&str, &[&str])] = &[
    ("spot lighting", &["ambient lighting"]),
    ("ambient lighting", &["spot lighting"]),
    ("natural light", &["artificial light"]),
    ("natural lighting", &["artificial lighting"]),
    ("artificial light", &["natural light"]),
    ("artificial lighting", &["natural lighting"]),
    ("brightly lit", &["dimly lit"]),
    ("well-lit", &["dimly lit"]),
    ("well lit", &["dimly lit"]),
    ("dimly lit", &["brightly lit"]),
    ("poorly lit", &["brightly lit"]),
    ("bright", &["dim"]),
    ("dim", &["bright"]),
    ("dark", &["bright"]),
    ("darker", &["brighter"]),
    ("brighter", &["darker"]),
    ("focused", &["diffuse"]),
    ("diffuse", &["focused"]),
    ("soft", &["harsh"]),
    ("harsh", &["soft"]),
    ("sunlight", &["lamplight"]),
    ("sunlit", &["shadowy"]),
    ("shadowy", &["sunlit"]),
    ("warm", &["cool"]),
    ("cool", &["warm"]),
    ("candlelight", &["daylight"]),
    ("lamplight", &["daylight"]),
    ("fluorescent", &["natural"]),
];

const WEATHER: &[(&str, &[&str])] = &[
    ("sunny", &["rainy", "cloudy", "overcast"]),
    ("rainy", &["sunny"]),
    ("cloudy", &["sunny", "clear"]),
    ("overcast", &["sunny", "clear"]),
    ("snowy", &["sunny", "rainy"]),
    ("foggy", &["clear"]),
    ("misty", &["clear"]),
    ("hazy", &["clear"]),
    ("clear", &["cloudy", "foggy"]),
    ("stormy", &["calm"]),
    ("calm", &["stormy"]),
    ("windy", &["calm"]),
    ("rain", &["snow"]),
    ("snow", &["sand"]),
    ("clouds", &["stars"]),
];

const TIME: &[(&str, &[&str])] = &[
    ("during the day", &["at night"]),
    ("at night", &["during the day"]),
    ("daytime", &["nighttime"]),
    ("nighttime", &["daytime"]),
    ("day", &["night"]),
    ("night", &["day"]),
    ("morning", &["evening"]),
    ("evening", &["morning"]),
    ("afternoon", &["night"]),
    ("sunset", &["sunrise", "midday"]),
    ("sunrise", &["sunset"]),
    ("dusk", &["dawn"]),
    ("dawn", &["dusk"]),
    ("midday", &["midnight"]),
    ("noon", &["midnight"]),
    ("summer", &["winter"]),
    ("winter", &["summer"]),
    ("autumn", &["summer"]),
];

const SETTING: &[(&str, &[&str])] = &[
    ("indoors", &["outdoors"]),
    ("outdoors", &["indoors"]),
    ("indoor", &["outdoor"]),
    ("outdoor", &["indoor"]),
    ("city", &["countryside"]),
    ("countryside", &["city"]),
    ("urban", &["rural"]),
    ("rural", &["urban"]),
    ("cityscape", &["forest"]),
    ("street", &["field", "beach"]),
    ("road", &["river"]),
    ("highway", &["dirt road"]),
    ("beach", &["forest", "park"]),
    ("park", &["parking lot", "beach"]),
    ("forest", &["desert", "beach"]),
    ("woods", &["desert"]),
    ("desert", &["forest"]),
    ("mountains", &["beach"]),
    ("mountain", &["beach"]),
    ("hills", &["flat plains"]),
    ("field", &["parking lot"]),
    ("grass", &["sand", "snow"]),
    ("grassy", &["sandy", "snowy"]),
    ("sand", &["grass"]),
    ("sandy", &["grassy"]),
    ("water", &["sand"]),
    ("ocean", &["desert"]),
    ("sea", &["desert"]),
    ("lake", &["field"]),
    ("river", &["road"]),
    ("kitchen", &["bathroom"]),
    ("bathroom", &["kitchen"]),
    ("living room", &["bedroom"]),
    ("bedroom", &["living room"]),
    ("office", &["kitchen"]),
    ("classroom", &["living room"]),
    ("garden", &["parking lot"]),
    ("farm", &["city"]),
    ("airport", &["train station"]),
    ("train station", &["airport"]),
    ("buildings", &["trees"]),
    ("trees", &["buildings"]),
    ("crowded", &["empty"]),
    ("empty", &["crowded"]),
    ("busy", &["quiet"]),
    ("quiet", &["busy"]),
    ("sky", &["ceiling"]),
    ("wall", &["window"]),
    ("walls", &["windows"]),
];

const PATTERN: &[(&str, &[&str])] = &[
    ("plain", &["striped", "patterned"]),
    ("solid", &["striped"]),
    ("striped", &["plain"]),
    ("stripes", &["polka dots"]),
    ("patterned", &["plain"]),
    ("checkered", &["plain"]),
    ("blurry", &["sharp"]),
    ("blurred", &["sharp"]),
    ("textured", &["smooth"]),
    ("smooth", &["textured"]),
];

pub(super) fn build() -> Lexicon {
    let mut entries = Vec::new();
    let mut group = 0;
    for (kind, table) in [
        (Kind::Lighting, LIGHTING),
        (Kind::Weather, WEATHER),
        (Kind::Time, TIME),
        (Kind::Setting, SETTING),
        (Kind::Pattern, PATTERN),
    ] {
        for (phrase, alts) in table {
            entries.push(Entry {
                phrase: phrase.to_string(),
                lemma: phrase.to_string(),
                alts: alts.iter().map(|a| a.to_string()).collect(),
                kind,
                group,
                plural: false,
            });
            group += 1;
        }
    }
    Lexicon::from_entries(entries)
}
