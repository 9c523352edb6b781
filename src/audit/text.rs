//! The second witness: a product's own text naming a class of the task.
//!
//! Where a product's name or attribute values name a class that differs from its label
//! ("Navy Blue" in the name, colour label Black; "Sandals" in the name, subcategory Sports
//! Shoes), that is evidence, independent of any model. A [`TextMatcher`] is built once per
//! task from the class names and finds them in texts:
//!
//! - **Words**: texts and class names are split into words (runs of letters and digits);
//!   a class matches whole words only, so "Tan" is not found in "Tank".
//! - **Case** is ignored ("NAVY BLUE", "navy blue").
//! - **Multi-word names** match word for word whatever separates the words ("Navy-Blue"),
//!   and also written as one word or split differently ("T-Shirts" matches the class
//!   "Tshirts", "Jumpsuit" the class "Jump Suit").
//! - **Plurals**: the last word of a class name also matches its plural or singular
//!   ("Sandal" matches "Sandals", "Watch" matches "Watches", "Panty" matches "Panties").
//!   Variants never override another class's exact name, and a variant two classes share
//!   matches neither.
//! - **The longest match wins**: at each position the match covering the most words is
//!   taken ("Navy Blue" rather than "Blue"), scanning left to right without overlaps.
//!
//! [`TextMatcher::witness`] reports the first class named that is not the label, with the
//! text and byte span where it was found, unless some text also names the label itself
//! (then the text agrees with the label: "Black and White Shirt" labelled White is no
//! evidence against White). Brand names that are colours ("Red Tape", "Blue Saint") do match:
//! the span shows it, and the ranking in [`super::combine`] puts a text witness alone after
//! every product the model doubts.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// A class found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    /// The class (index into the matcher's class names).
    pub class: usize,
    /// Byte range of the match in the text.
    pub span: Range<usize>,
}

/// A text naming a class other than the label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextWitness {
    /// The class named.
    pub class: usize,
    /// Which of the texts named it (index into the `texts` given to [`TextMatcher::witness`]).
    pub text: usize,
    /// Byte range of the match in that text.
    pub span: Range<usize>,
}

/// How firmly a key stands for its class: a class's own words before a plural variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    Variant,
    Exact,
}

/// Finds one task's class names in texts (see the module docs).
#[derive(Debug, Clone)]
pub struct TextMatcher {
    /// Words of a class form, lowercased and written together ("navyblue"), to the class;
    /// `None` where two classes share a variant.
    keys: HashMap<String, Option<usize>>,
    /// Every prefix of a key, so a scan stops as soon as no class can start here.
    prefixes: HashSet<String>,
    /// Most words a match can span in a text (the most words of a class name, plus one for
    /// a name written as one word split in two in the text).
    max_words: usize,
}

impl TextMatcher {
    /// A matcher for the task whose classes are `classes` (in the head's order). A name with
    /// no letter or digit (pass "" for the head's `other`) is never matched.
    pub fn new(classes: &[String]) -> Self {
        let mut forms: HashMap<String, (Form, Option<usize>)> = HashMap::new();
        let mut max_words = 1;
        for (class, name) in classes.iter().enumerate() {
            let words: Vec<String> = words(name).map(|(_, w)| w).collect();
            let Some((last, first)) = words.split_last() else {
                continue;
            };
            max_words = max_words.max(words.len() + 1);
            let stem: String = first.concat();
            let exact = format!("{stem}{last}");
            add_form(&mut forms, exact.clone(), Form::Exact, class);
            for variant in number_variants(last) {
                let key = format!("{stem}{variant}");
                if key != exact {
                    add_form(&mut forms, key, Form::Variant, class);
                }
            }
        }
        let keys: HashMap<String, Option<usize>> = forms
            .into_iter()
            .map(|(key, (_, class))| (key, class))
            .collect();
        let prefixes = keys
            .keys()
            .flat_map(|key| {
                key.char_indices()
                    .map(|(i, c)| key[..i + c.len_utf8()].to_string())
            })
            .collect();
        Self {
            keys,
            prefixes,
            max_words,
        }
    }

    /// The classes named in `text`, left to right, the longest match at each position.
    pub fn find(&self, text: &str) -> Vec<TextMatch> {
        let words: Vec<(Range<usize>, String)> = words(text).collect();
        let mut found = Vec::new();
        let mut start = 0;
        let mut key = String::new();
        while start < words.len() {
            key.clear();
            let mut best: Option<(usize, usize)> = None;
            for (end, (_, word)) in words.iter().enumerate().skip(start).take(self.max_words) {
                key.push_str(word);
                if !self.prefixes.contains(&key) {
                    break;
                }
                if let Some(&Some(class)) = self.keys.get(&key) {
                    best = Some((end, class));
                }
            }
            match best {
                Some((end, class)) => {
                    found.push(TextMatch {
                        class,
                        span: words[start].0.start..words[end].0.end,
                    });
                    start = end + 1;
                }
                None => start += 1,
            }
        }
        found
    }

    /// The first class named in `texts` (in order) that is not `label`, unless one of them
    /// names `label` itself; without a label, the first class named.
    pub fn witness(&self, texts: &[&str], label: Option<usize>) -> Option<TextWitness> {
        let mut first = None;
        for (text, content) in texts.iter().enumerate() {
            for found in self.find(content) {
                if Some(found.class) == label {
                    return None;
                }
                if first.is_none() {
                    first = Some(TextWitness {
                        class: found.class,
                        text,
                        span: found.span,
                    });
                }
            }
        }
        first
    }
}

/// Records `key` for `class` unless a firmer form of another class holds it; equally firm
/// forms of two classes cancel out.
fn add_form(
    forms: &mut HashMap<String, (Form, Option<usize>)>,
    key: String,
    form: Form,
    class: usize,
) {
    match forms.get_mut(&key) {
        None => {
            forms.insert(key, (form, Some(class)));
        }
        Some(held) if held.0 < form => *held = (form, Some(class)),
        Some(held) if held.0 == form && held.1 != Some(class) => held.1 = None,
        Some(_) => {}
    }
}

/// The words of `text`: byte range and lowercase text of each run of letters and digits.
fn words(text: &str) -> impl Iterator<Item = (Range<usize>, String)> + '_ {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        while rest.peek().is_some_and(|(_, c)| !c.is_alphanumeric()) {
            rest.next();
        }
        let (start, _) = *rest.peek()?;
        let mut end = start;
        while let Some(&(i, c)) = rest.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start..end, text[start..end].to_lowercase()))
    })
}

/// The English plural and singular forms a word's last letters suggest (words under 3
/// letters get none: "NA" is no plural of anything).
fn number_variants(word: &str) -> Vec<String> {
    if word.chars().count() < 3 || !word.chars().all(char::is_alphabetic) {
        return Vec::new();
    }
    let mut variants = vec![format!("{word}s"), format!("{word}es")];
    if let Some(stem) = word.strip_suffix("ies") {
        variants.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        variants.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('s').filter(|_| !word.ends_with("ss")) {
        variants.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('y') {
        variants.push(format!("{stem}ies"));
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(names: &[&str]) -> TextMatcher {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        TextMatcher::new(&names)
    }

    const COLOURS: [&str; 8] = [
        "Black",
        "Blue",
        "Navy Blue",
        "Tan",
        "White",
        "Off White",
        "Red",
        "Turquoise Blue",
    ];
    const SUBCATEGORIES: [&str; 7] = [
        "Sports Shoes",
        "Casual Shoes",
        "Sandals",
        "Tshirts",
        "Tops",
        "Watches",
        "Jump Suit",
    ];

    #[test]
    fn the_longest_colour_in_a_name_contradicts_the_label() {
        let colours = matcher(&COLOURS);
        let name = "Nike Men Navy Blue Running Shoes";
        let black = Some(0);
        let witness = colours.witness(&[name], black).unwrap();
        assert_eq!(witness.class, 2, "Navy Blue, not Blue");
        assert_eq!(&name[witness.span.clone()], "Navy Blue");
        assert_eq!(witness.text, 0);
        assert_eq!(colours.witness(&[name], Some(2)), None);
    }

    #[test]
    fn whole_words_only() {
        let colours = matcher(&COLOURS);
        let name = "Tan Tank Top";
        let found = colours.find(name);
        assert_eq!(
            found,
            vec![TextMatch {
                class: 3,
                span: 0..3
            }]
        );
        assert_eq!(colours.witness(&[name], Some(3)), None);
        assert_eq!(colours.witness(&[name], Some(0)).unwrap().class, 3);
        assert!(colours.find("Redtape Tanned Blackberrys Shirt").is_empty());
    }

    #[test]
    fn plurals_case_and_separators_match() {
        let subcategories = matcher(&SUBCATEGORIES);
        let name = "Puma Women Black Sandal";
        let sports_shoes = Some(0);
        let witness = subcategories.witness(&[name], sports_shoes).unwrap();
        assert_eq!(witness.class, 2);
        assert_eq!(&name[witness.span], "Sandal");
        let cases = [
            ("Puma Women Black Sandals", 2),
            ("ADIDAS MEN SPORTS SHOES", 0),
            ("Roadster Men Grey T-Shirt", 3),
            ("United Colors of Benetton Women Top", 4),
            ("Titan Men Silver Watch", 5),
            ("Fastrack Unisex Watches", 5),
            ("Gini and Jony Girls Jumpsuit", 6),
            ("Nike Men sports-shoes", 0),
        ];
        for (name, class) in cases {
            let found = subcategories.find(name);
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert_eq!(found[0].class, class, "{name}");
        }
    }

    #[test]
    fn a_text_that_also_names_the_label_is_no_witness() {
        let colours = matcher(&COLOURS);
        let name = "Locomotive Men Black and White Striped Shirt";
        assert_eq!(colours.witness(&[name], Some(4)), None);
        assert_eq!(colours.witness(&[name], Some(6)).unwrap().class, 0);
        // The label named in a later text (an attribute) also clears it.
        assert_eq!(colours.witness(&[name, "white"], Some(4)), None);
        let witness = colours
            .witness(&["Puma Men Shirt", "Off-White"], Some(0))
            .unwrap();
        assert_eq!((witness.class, witness.text, witness.span), (5, 1, 0..9));
        // Without a label, the first class named.
        assert_eq!(colours.witness(&[name], None).unwrap().class, 0);
        assert_eq!(colours.witness(&["Puma Men Shirt"], Some(0)), None);
    }

    #[test]
    fn variants_yield_to_exact_names_and_shared_ones_match_nothing() {
        // "Top" is a variant of "Tops", but the exact name of class "Top".
        let exact = matcher(&["Tops", "Top"]);
        assert_eq!(exact.find("Tank Top")[0].class, 1);
        assert_eq!(exact.find("Tank Tops")[0].class, 0);
        // "Glass" is a variant of both "Glasses" (singular) and "Glas" (plural).
        let shared = matcher(&["Glasses", "Glas"]);
        assert!(shared.find("Beer Glass").is_empty());
        // An empty name (the head's `other`) never matches; short names get no variants.
        let other = matcher(&["", "NA", "Other"]);
        assert_eq!(
            other.find("Other na NAs"),
            vec![
                TextMatch {
                    class: 2,
                    span: 0..5
                },
                TextMatch {
                    class: 1,
                    span: 6..8
                },
            ]
        );
    }

    #[test]
    fn spans_are_byte_ranges_of_the_original_text() {
        let colours = matcher(&["Bleu Marine", "Rouge"]);
        let name = "Été – Bleu marine, rouge";
        let found = colours.find(name);
        assert_eq!(&name[found[0].span.clone()], "Bleu marine");
        assert_eq!(&name[found[1].span.clone()], "rouge");
    }
}
