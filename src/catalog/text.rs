//! Values echoed into messages, shortened so that a huge cell cannot flood a warning.

use std::borrow::Cow;

/// Longest value, in characters, that a warning or an error echoes whole.
pub const ECHO_CHARS: usize = 80;
/// Most items of a list (column names) that a message echoes.
pub const ECHO_ITEMS: usize = 40;

/// `value` as a message echoes it: whole when at most [`ECHO_CHARS`] characters, else its
/// first [`ECHO_CHARS`] characters and `… (N bytes)`.
pub fn excerpt(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(ECHO_CHARS) {
        None => Cow::Borrowed(value),
        Some((end, _)) => Cow::Owned(format!("{}… ({} bytes)", &value[..end], value.len())),
    }
}

/// `items` joined with commas as a message echoes them: each through [`excerpt`], at most
/// [`ECHO_ITEMS`] of them, then how many more there are.
pub fn excerpt_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut text = items
        .iter()
        .take(ECHO_ITEMS)
        .map(|item| excerpt(item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > ECHO_ITEMS {
        text.push_str(&format!(" and {} more", items.len() - ECHO_ITEMS));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_cut_per_item_and_in_length() {
        let items: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
        let text = excerpt_list(&items);
        assert!(
            text.starts_with("c0, c1, ") && text.ends_with("c39 and 10 more"),
            "{text}"
        );
        let huge = ["x".repeat(200)];
        assert!(excerpt_list(&huge).ends_with("… (200 bytes)"));
    }

    #[test]
    fn short_values_are_whole_and_long_ones_cut_on_a_character() {
        assert_eq!(excerpt("red"), "red");
        let exact = "é".repeat(ECHO_CHARS);
        assert_eq!(excerpt(&exact), exact);
        let long = format!("{exact}x");
        assert_eq!(
            excerpt(&long),
            format!("{exact}… ({} bytes)", 2 * ECHO_CHARS + 1)
        );
    }
}
