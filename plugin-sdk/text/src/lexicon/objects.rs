//! Object nouns grouped by kind. A substitute comes from the same group (circle → square,
//! cat → dog, plane → helicopter), so the rejected answer stays plausible.

use super::{Entry, Kind, Lexicon};

/// Groups of interchangeable nouns (singular forms).
const GROUPS: &[&[&str]] = &[
    &[
        "circle",
        "square",
        "triangle",
        "rectangle",
        "pentagon",
        "hexagon",
        "star",
        "oval",
        "diamond",
    ],
    &["cube", "sphere", "cylinder", "cone", "pyramid"],
    &[
        "cat", "dog", "horse", "cow", "sheep", "goat", "pig", "bear", "elephant", "giraffe",
        "zebra", "lion", "tiger", "deer", "rabbit", "monkey",
    ],
    &[
        "golden retriever",
        "labrador",
        "poodle",
        "bulldog",
        "terrier",
        "beagle",
        "husky",
        "german shepherd",
        "dalmatian",
        "chihuahua",
        "corgi",
    ],
    &[
        "bird", "duck", "pigeon", "seagull", "swan", "goose", "parrot", "owl", "eagle", "chicken",
    ],
    &[
        "car",
        "truck",
        "bus",
        "van",
        "motorcycle",
        "bicycle",
        "scooter",
        "train",
        "tram",
        "taxi",
        "tractor",
    ],
    &[
        "airplane",
        "plane",
        "jet",
        "helicopter",
        "glider",
        "airliner",
        "biplane",
    ],
    &[
        "boat", "ship", "sailboat", "canoe", "kayak", "yacht", "ferry",
    ],
    &[
        "pizza",
        "sandwich",
        "burger",
        "hamburger",
        "hot dog",
        "cake",
        "donut",
        "salad",
        "pasta",
        "soup",
        "steak",
        "taco",
        "pie",
        "cookie",
    ],
    &[
        "apple",
        "banana",
        "strawberry",
        "lemon",
        "pear",
        "broccoli",
        "carrot",
        "tomato",
        "potato",
        "onion",
        "cucumber",
        "grape",
    ],
    &[
        "chair", "couch", "sofa", "bed", "table", "desk", "bench", "stool", "shelf", "cabinet",
        "dresser",
    ],
    &[
        "cup", "mug", "glass", "bowl", "plate", "bottle", "vase", "jar", "pitcher",
    ],
    &["fork", "knife", "spoon", "spatula"],
    &[
        "laptop",
        "computer",
        "television",
        "tv",
        "monitor",
        "phone",
        "cellphone",
        "smartphone",
        "tablet",
        "keyboard",
        "remote",
        "camera",
    ],
    &[
        "microwave",
        "oven",
        "refrigerator",
        "fridge",
        "toaster",
        "sink",
        "stove",
        "dishwasher",
    ],
    &[
        "frisbee",
        "ball",
        "kite",
        "skateboard",
        "surfboard",
        "snowboard",
        "racket",
        "bat",
        "baseball",
        "football",
        "basketball",
    ],
    &[
        "hat", "cap", "helmet", "shirt", "t-shirt", "jacket", "coat", "dress", "skirt", "sweater",
        "hoodie", "tie", "scarf", "suit", "uniform", "vest",
    ],
    &["shoe", "boot", "sneaker", "sandal", "slipper"],
    &["man", "woman", "boy", "girl"],
    &[
        "house",
        "building",
        "church",
        "tower",
        "skyscraper",
        "barn",
        "castle",
        "bridge",
        "lighthouse",
        "hotel",
        "restaurant",
        "store",
        "shop",
        "museum",
        "station",
        "school",
        "stadium",
        "hangar",
    ],
    &[
        "tree",
        "bush",
        "flower",
        "plant",
        "palm tree",
        "cactus",
        "rose",
        "tulip",
        "sunflower",
    ],
    &[
        "stop sign",
        "traffic light",
        "street sign",
        "fire hydrant",
        "parking meter",
        "street lamp",
        "mailbox",
        "billboard",
    ],
    &[
        "bag", "backpack", "suitcase", "handbag", "purse", "basket", "box",
    ],
    &[
        "umbrella",
        "clock",
        "book",
        "lamp",
        "mirror",
        "pillow",
        "blanket",
        "towel",
        "toothbrush",
        "teddy bear",
        "candle",
        "painting",
        "picture",
    ],
    &["guitar", "piano", "violin", "drum", "trumpet", "saxophone"],
    &["propeller", "jet engine", "rotor"],
    &["wheel", "wing", "tail", "engine"],
];

/// Basic shapes (the synthetic world's): substitutes of one another only.
const CORE_SHAPES: [&str; 3] = ["circle", "square", "triangle"];

/// Plural of an English noun (the common irregulars included).
pub fn plural_of(noun: &str) -> String {
    let irregular = [
        ("man", "men"),
        ("woman", "women"),
        ("child", "children"),
        ("person", "people"),
        ("mouse", "mice"),
        ("knife", "knives"),
        ("shelf", "shelves"),
        ("leaf", "leaves"),
        ("sheep", "sheep"),
        ("deer", "deer"),
        ("goose", "geese"),
        ("fish", "fish"),
        ("tv", "tvs"),
        ("bus", "buses"),
        ("cactus", "cacti"),
        ("potato", "potatoes"),
        ("tomato", "tomatoes"),
        ("hot dog", "hot dogs"),
        ("scarf", "scarves"),
    ];
    if let Some((_, p)) = irregular.iter().find(|(s, _)| *s == noun) {
        return p.to_string();
    }
    if noun.ends_with('s')
        || noun.ends_with('x')
        || noun.ends_with('z')
        || noun.ends_with("ch")
        || noun.ends_with("sh")
    {
        return format!("{noun}es");
    }
    if let Some(stem) = noun.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{noun}s")
}

pub(super) fn build() -> Lexicon {
    let mut entries = Vec::new();
    for (group, nouns) in GROUPS.iter().enumerate() {
        for &noun in nouns.iter() {
            // The three basic shapes swap among themselves: a hard negative should name a
            // shape that is as plausible as the true one.
            let core = CORE_SHAPES.contains(&noun);
            let others = move || {
                nouns
                    .iter()
                    .filter(move |n| **n != noun && (!core || CORE_SHAPES.contains(*n)))
            };
            entries.push(Entry {
                phrase: noun.to_string(),
                lemma: noun.to_string(),
                alts: others().map(|n| n.to_string()).collect(),
                kind: Kind::Object,
                group,
                plural: false,
            });
            let plural = plural_of(noun);
            if plural != noun {
                entries.push(Entry {
                    phrase: plural,
                    lemma: noun.to_string(),
                    alts: others().map(|n| plural_of(n)).collect(),
                    kind: Kind::Object,
                    group,
                    plural: true,
                });
            }
        }
    }
    // Synonyms inside a group are no edit: "plane" → "airplane" says the same.
    for e in &mut entries {
        let syn: &[&str] = match e.phrase.trim_end_matches('s') {
            "plane" | "airplane" | "airliner" => &[
                "plane",
                "airplane",
                "airliner",
                "planes",
                "airplanes",
                "airliners",
            ],
            "couch" | "couche" | "sofa" => &["couch", "sofa", "couches", "sofas"],
            "tv" | "television" | "monitor" => &["tv", "television", "tvs", "televisions"],
            "phone" | "cellphone" | "smartphone" => &[
                "phone",
                "cellphone",
                "smartphone",
                "phones",
                "cellphones",
                "smartphones",
            ],
            "refrigerator" | "fridge" => &["refrigerator", "fridge", "refrigerators", "fridges"],
            "burger" | "hamburger" => &["burger", "hamburger", "burgers", "hamburgers"],
            "cup" | "mug" => &["cup", "mug", "cups", "mugs"],
            "bag" | "handbag" | "purse" => {
                &["bag", "handbag", "purse", "bags", "handbags", "purses"]
            }
            "painting" | "picture" => &["painting", "picture", "paintings", "pictures"],
            "shop" | "store" => &["shop", "store", "shops", "stores"],
            "laptop" | "computer" => &["laptop", "computer", "laptops", "computers"],
            _ => &[],
        };
        e.alts.retain(|a| !syn.contains(&a.as_str()));
    }
    Lexicon::from_entries(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural_of("circle"), "circles");
        assert_eq!(plural_of("bus"), "buses");
        assert_eq!(plural_of("sandwich"), "sandwiches");
        assert_eq!(plural_of("strawberry"), "strawberries");
        assert_eq!(plural_of("toy"), "toys");
        assert_eq!(plural_of("man"), "men");
        assert_eq!(plural_of("hot dog"), "hot dogs");
    }

    #[test]
    fn synonyms_are_not_substitutes() {
        let lex = build();
        let plane = lex.get("plane").unwrap();
        assert!(!plane.alts.contains(&"airplane".to_string()));
        assert!(plane.alts.contains(&"helicopter".to_string()));
    }
}
