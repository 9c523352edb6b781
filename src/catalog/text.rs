//! Values echoed into messages and onto terminals: escaped, so that a value can neither forge
//! a line nor send escape codes, and shortened, so that a huge cell cannot flood a warning.

use std::borrow::Cow;

/// Longest value, in characters, that a warning or an error echoes whole.
pub const ECHO_CHARS: usize = 80;
/// Most items of a list (column names) that a message echoes.
pub const ECHO_ITEMS: usize = 40;

/// Whether `c` must not reach a terminal as it is: control characters, line and paragraph
/// separators, and the invisible format characters that reorder (bidirectional overrides and
/// isolates) or hide text (zero-width characters).
fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `text` with what [`printable`] escapes escaped, and double quotes too when `quote` (for a
/// value printed between quotes).
pub fn escape(text: &str, quote: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| unprintable(c) || c == '\\' || (quote && c == '"'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' if quote => out.push_str("\\\""),
            c if unprintable(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` safe to print on a terminal: control characters (newlines, ESC), line separators,
/// bidirectional overrides and zero-width characters, and the backslash itself, are written
/// as Rust-style escapes (`\n`, `\u{1b}`, `\u{202e}`, `\\`), so a value can neither forge a
/// line nor send escape codes; other characters (`é`, `東`) stay readable.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `value` as a message echoes it, [`printable`]: whole when at most [`ECHO_CHARS`]
/// characters, else its first [`ECHO_CHARS`] characters and `… (N bytes)` (of the value).
pub fn excerpt(value: &str) -> Cow<'_, str> {
    let shown = match value.char_indices().nth(ECHO_CHARS) {
        None => return printable(value),
        Some((end, _)) => &value[..end],
    };
    Cow::Owned(format!("{}… ({} bytes)", printable(shown), value.len()))
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
    fn printable_escapes_controls_and_keeps_letters() {
        assert!(matches!(printable("café 東京 O'Neil"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nb\u{1b}[0m\u{202e}\u{200b}\\t\u{85}"),
            r"a\nb\u{1b}[0m\u{202e}\u{200b}\\t\u{85}"
        );
        assert_eq!(escape("say \"hi\"", true), r#"say \"hi\""#);
        assert_eq!(
            excerpt("two\nlines"),
            r"two\nlines",
            "echoes are escaped too"
        );
    }

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
