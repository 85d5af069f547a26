//! The palette meets WCAG 2.2 AA: normal text 4.5:1 against what it sits on, focus rings and
//! other non-text marks 3:1 (success criteria 1.4.3 and 1.4.11). The colours are read from the
//! CSS variables of `style.css`, so the test follows every change to them.

use std::collections::HashMap;

const STYLE: &str = include_str!("../style.css");

/// The `--name: #rrggbb;` variables of `:root`.
fn palette() -> HashMap<String, [f64; 3]> {
    let root = STYLE
        .split(":root")
        .nth(1)
        .expect(":root")
        .split('}')
        .next()
        .unwrap();
    root.lines()
        .filter_map(|line| {
            let (name, value) = line.trim().strip_prefix("--")?.split_once(':')?;
            let hex = value.trim().trim_end_matches(';').strip_prefix('#')?;
            let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
            Some((
                name.to_owned(),
                [channel(0)?, channel(2)?, channel(4)?].map(f64::from),
            ))
        })
        .collect()
}

/// WCAG's relative luminance of an sRGB colour.
fn luminance(rgb: [f64; 3]) -> f64 {
    let linear = |c: f64| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = rgb.map(linear);
    0.2126 * r + 0.7152 * g + 0.0722 * b
}

fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

const WHITE: [f64; 3] = [255.0, 255.0, 255.0];

#[test]
fn the_contrast_formula_gives_wcags_known_ratios() {
    assert!((contrast(WHITE, [0.0, 0.0, 0.0]) - 21.0).abs() < 0.01);
    assert!((contrast(WHITE, [118.0, 118.0, 118.0]) - 4.54).abs() < 0.01);
}

#[test]
fn text_colours_reach_4_5_to_1_on_every_background_they_are_used_on() {
    let palette = palette();
    let colour = |name: &str| {
        *palette
            .get(name)
            .unwrap_or_else(|| panic!("--{name} is missing"))
    };
    let mut failures = Vec::new();
    for text in [
        "ink",
        "muted",
        "accent",
        "error",
        "ok",
        "header",
        "payload",
        "signature",
    ] {
        for background in ["paper", "panel", "highlight"] {
            let ratio = contrast(colour(text), colour(background));
            if ratio < 4.5 {
                failures.push(format!("--{text} on --{background}: {ratio:.2}:1"));
            }
        }
    }
    // White text on the coloured buttons and the token parts of the home page.
    for background in ["accent", "header", "payload", "signature"] {
        let ratio = contrast(WHITE, colour(background));
        if ratio < 4.5 {
            failures.push(format!("white on --{background}: {ratio:.2}:1"));
        }
    }
    assert!(failures.is_empty(), "below 4.5:1: {failures:?}");
}

/// The colour variable the CSS rule for `selector` draws its `border` with.
fn border_variable_of(selector: &str) -> String {
    let rule = STYLE
        .split(&format!("{selector} {{"))
        .nth(1)
        .unwrap_or_else(|| panic!("no rule for {selector}"))
        .split('}')
        .next()
        .unwrap();
    let border = rule
        .split(';')
        .find_map(|declaration| declaration.trim().strip_prefix("border:"))
        .unwrap_or_else(|| panic!("{selector} sets no border"));
    border
        .split("var(--")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("{selector}'s border is not a palette colour: {border}"))
        .to_owned()
}

#[test]
fn input_borders_reach_3_to_1_on_every_background() {
    let palette = palette();
    let border = border_variable_of("input, textarea");
    for background in ["paper", "panel"] {
        let ratio = contrast(palette[&border], palette[background]);
        assert!(ratio >= 3.0, "--{border} on --{background}: {ratio:.2}:1");
    }
}

#[test]
fn the_focus_ring_reaches_3_to_1_on_every_background() {
    let palette = palette();
    for background in ["paper", "panel"] {
        let ratio = contrast(palette["focus"], palette[background]);
        assert!(ratio >= 3.0, "--focus on --{background}: {ratio:.2}:1");
    }
}
