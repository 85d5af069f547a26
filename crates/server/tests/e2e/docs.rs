//! The book and the README cannot rot: every command block tagged `sh runnable` is run, in
//! order, against a live server, and where an `output` block follows, the output must have the
//! same shape (same JSON keys and prose, any tokens, ids and times). Internal links must
//! point at files that exist, and so must the source files and the tests the documents name;
//! the introduction's list of chapters must be the summary's; every request a sequence figure
//! shows must be one the services serve.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;

use crate::harness::{ServerProcess, exclusive, find_tool, missing, workspace_root};

/// One runnable block, and the output the document shows after it.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    /// The line of the block in its file.
    line: usize,
    command: String,
    expected: Option<String>,
}

/// The runnable blocks of a Markdown document, with their outputs.
fn runnable_steps(markdown: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = markdown.lines().enumerate();
    // Whether an output block would still belong to the last runnable block.
    let mut output_may_follow = false;
    while let Some((number, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            if !line.trim().is_empty() {
                output_may_follow = false;
            }
            continue;
        };
        let words: Vec<&str> = info.split_whitespace().collect();
        let body: Vec<&str> = lines
            .by_ref()
            .map(|(_, l)| l)
            .take_while(|l| !l.trim_start().starts_with("```"))
            .collect();
        let body = body.join("\n");
        if words.contains(&"runnable") {
            steps.push(Step {
                line: number + 1,
                command: body,
                expected: None,
            });
            output_may_follow = true;
        } else if words.contains(&"output") && output_may_follow {
            if let Some(step) = steps.last_mut() {
                step.expected = Some(body);
            }
            output_may_follow = false;
        } else {
            output_may_follow = false;
        }
    }
    steps
}

/// Runs `steps` in one bash session in `workdir`, with the documents' server address replaced
/// by `base`; checks each exits 0 and matches its shown output.
fn run_steps(file: &str, steps: &[Step], base: &str, workdir: &Path) -> Result<()> {
    let mut script = String::from("set -euo pipefail\n");
    for (index, step) in steps.iter().enumerate() {
        script.push_str(&format!("printf '\\n@@step {index}@@\\n'\n"));
        script.push_str(&step.command.replace("http://127.0.0.1:8000", base));
        script.push('\n');
    }
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(workdir)
        .output()
        .context("running bash")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut outputs: Vec<String> = stdout
        .split("\n@@step ")
        .skip(1)
        .map(|chunk| {
            chunk
                .split_once("@@\n")
                .map_or("", |(_, rest)| rest)
                .to_owned()
        })
        .collect();
    if !output.status.success() {
        let failed = outputs.len().saturating_sub(1);
        let step = &steps[failed.min(steps.len() - 1)];
        bail!(
            "{file}:{}: the block failed ({}):\n{}\nstderr: {}",
            step.line,
            output.status,
            step.command,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    outputs.resize(steps.len(), String::new());
    for (step, actual) in steps.iter().zip(&outputs) {
        if let Some(expected) = &step.expected {
            ensure!(
                same_shape(expected.trim(), actual.trim()),
                "{file}:{}: the output changed shape.\nshown:\n{}\nnow:\n{}",
                step.line,
                expected.trim(),
                actual.trim()
            );
        }
    }
    Ok(())
}

/// Whether `actual` has the shape of `expected`, line by line: JSON lines must have the same
/// keys in the same order and the same prose (strings with a space); other lines the same
/// punctuation around their words. Tokens, ids, numbers and times may differ; `…` in the
/// document stands for the rest of a long value.
fn same_shape(expected: &str, actual: &str) -> bool {
    let (expected, actual): (Vec<&str>, Vec<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    expected.len() == actual.len()
        && expected.iter().zip(&actual).all(|(e, a)| {
            match (
                serde_json::from_str::<Value>(e),
                serde_json::from_str::<Value>(a),
            ) {
                (Ok(e), Ok(a)) => same_json_shape(&e, &a),
                _ => text_shape(e) == text_shape(a),
            }
        })
}

fn same_json_shape(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            e.keys().eq(a.keys())
                && e.values()
                    .zip(a.values())
                    .all(|(e, a)| same_json_shape(e, a))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(e, a)| same_json_shape(e, a))
        }
        (Value::String(e), Value::String(a)) if e.contains(' ') => e == a,
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// Words (letters, digits, `_-+/=` and `…`) become `x`, spaces one space, the rest stays.
fn text_shape(text: &str) -> String {
    let mut shape = String::new();
    let mut in_word = false;
    for c in text.trim().chars() {
        let word = c.is_alphanumeric() || "_-+/=…".contains(c);
        if word && !in_word {
            shape.push('x');
        } else if !word {
            shape.push(if c.is_whitespace() { ' ' } else { c });
        }
        in_word = word;
    }
    shape
}

/// The README and the book's chapters, in reading order.
fn documents() -> Vec<PathBuf> {
    let root = workspace_root();
    let summary = std::fs::read_to_string(root.join("docs/src/SUMMARY.md")).expect("SUMMARY.md");
    let mut files = vec![root.join("README.md")];
    files.extend(
        links(&summary)
            .into_iter()
            .map(|link| root.join("docs/src").join(link)),
    );
    files
}

/// The targets of the Markdown links and images in `markdown`.
fn links(markdown: &str) -> Vec<String> {
    markdown
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split([')', ' ']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_book_and_the_readme_have_no_broken_internal_links() {
    let mut broken = Vec::new();
    let mut checked = 0;
    let book = workspace_root().join("docs/src");
    let mut files = documents();
    files.push(book.join("SUMMARY.md"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| {
            panic!("{} is listed but missing", file.display());
        });
        let dir = file.parent().expect("a directory");
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") || link.starts_with('#')
            {
                continue;
            }
            checked += 1;
            let path = link.split('#').next().unwrap_or_default();
            if !dir.join(path).exists() {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    println!("{checked} internal links checked");
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}

/// The paths of the repository's files that a document names in backticks, such as
/// `crates/server/src/auth/mint.rs` (globs, `…` abbreviations and "a new `file`" that an
/// exercise asks for are left out).
fn named_files(markdown: &str) -> Vec<String> {
    let parts: Vec<&str> = markdown.split('`').collect();
    let roots = [
        "crates/",
        "frontend/",
        "migrations/",
        "nginx/",
        "docs/",
        "bench/",
    ];
    (1..parts.len())
        .step_by(2)
        .filter(|&at| !parts[at - 1].ends_with("new "))
        .map(|at| parts[at])
        .filter(|code| {
            roots.iter().any(|root| code.starts_with(root))
                && !code.contains(['*', '…', ' '])
                && code
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| name.contains('.'))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_source_file_the_book_and_the_readme_name_exists() {
    let mut missing_files = Vec::new();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for named in named_files(&text) {
            checked += 1;
            if !workspace_root().join(&named).exists() {
                missing_files.push(format!("{}: {named}", file.display()));
            }
        }
    }
    println!("{checked} file names checked");
    assert!(checked >= 20, "only {checked} file names found");
    assert!(
        missing_files.is_empty(),
        "named but missing: {missing_files:#?}"
    );
}

#[test]
fn file_names_are_found_in_backticks_only() {
    let text = "see `crates/server/src/lib.rs` and `migrations/*/up.sql`, not crates/x.rs, \
                `a b` or a new `crates/server/src/routes/notes.rs`";
    assert_eq!(named_files(text), ["crates/server/src/lib.rs"]);
}

#[tokio::test]
async fn every_runnable_block_of_the_book_and_the_readme_works() {
    for tool in ["bash", "curl", "sed", "tr", "grep", "openssl"] {
        if find_tool("", &[tool]).is_none() {
            missing(tool);
            return;
        }
    }
    let _turn = exclusive().await;
    let mut total = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let steps = runnable_steps(&text);
        if steps.is_empty() {
            continue;
        }
        let name = file
            .strip_prefix(workspace_root())
            .unwrap_or(&file)
            .display()
            .to_string();
        // A fresh server per document: each one starts from an empty database.
        let server = ServerProcess::start(&[]).expect("the server starts");
        let outcome = run_steps(&name, &steps, &server.base, server.workdir());
        if let Err(error) = outcome {
            panic!("{error:#}");
        }
        println!("{name}: {} runnable blocks passed", steps.len());
        total += steps.len();
    }
    assert!(total >= 15, "only {total} runnable blocks found");
}

#[test]
fn no_runnable_block_cuts_a_pipe_short() {
    // Under `pipefail`, `head` leaving early makes the writer fail with SIGPIPE, or not,
    // depending on how far it had got: a block that passes here and fails in CI.
    let mut short_pipes = Vec::new();
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        for step in runnable_steps(&text) {
            if step.command.contains("| head") {
                short_pipes.push(format!("{}:{}", file.display(), step.line));
            }
        }
    }
    assert!(
        short_pipes.is_empty(),
        "pipes into head (use cut or sed, which read to the end): {short_pipes:#?}"
    );
}

#[test]
fn a_failing_command_fails_the_check() {
    let steps =
        runnable_steps("Text.\n\n```sh runnable\necho fine\n```\n\n```sh runnable\nfalse\n```\n");
    let dir = tempfile::tempdir().unwrap();

    let error = run_steps("broken.md", &steps, "http://127.0.0.1:1", dir.path()).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("broken.md:7: the block failed"),
        "{error}"
    );
}

#[test]
fn an_output_of_another_shape_fails_the_check() {
    let markdown = "```sh runnable\necho '{\"detail\":\"Token is expired\"}'\n```\n\n\
                    ```json output\n{\"detail\":\"Token is blacklisted\"}\n```\n";
    let steps = runnable_steps(markdown);
    let dir = tempfile::tempdir().unwrap();

    let error = run_steps("changed.md", &steps, "http://127.0.0.1:1", dir.path()).unwrap_err();

    assert!(
        error
            .to_string()
            .starts_with("changed.md:1: the output changed shape"),
        "{error}"
    );
}

#[test]
fn tokens_ids_and_times_may_differ_but_keys_and_messages_may_not() {
    assert!(same_shape(
        r#"{"id":1,"username":"ada"}"#,
        r#"{"id":7,"username":"bob"}"#
    ));
    assert!(same_shape(
        "eyJhbGci….abc.def",
        "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tl.c2ln-_x"
    ));
    assert!(!same_shape(
        r#"{"id":1,"username":"ada"}"#,
        r#"{"id":1,"name":"ada"}"#
    ));
    assert!(!same_shape(
        r#"{"detail":"User not found"}"#,
        r#"{"detail":"User is inactive"}"#
    ));
    assert!(!same_shape(r#"{"id":1}"#, r#"{"id":"1"}"#));
    assert!(!same_shape("one line", "two\nlines"));
}

#[test]
fn output_blocks_belong_to_the_runnable_block_just_before_them() {
    let markdown =
        "```sh runnable\na\n```\n\n```text output\nA\n```\n\nprose\n\n```json output\nB\n```\n";
    let steps = runnable_steps(markdown);
    assert_eq!(
        steps,
        [Step {
            line: 1,
            command: "a".into(),
            expected: Some("A".into())
        }]
    );
}

/// The book's chapters: the pages its summary lists, but for the two reference pages at the
/// end (the exercises and the benchmark figures), which teach nothing to be checked.
fn chapters() -> Vec<PathBuf> {
    let book = workspace_root().join("docs/src");
    let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("SUMMARY.md");
    summary
        .lines()
        .filter(|line| line.starts_with("- ["))
        .flat_map(links)
        .filter(|page| !["exercises.md", "benchmarks.md"].contains(&page.as_str()))
        .map(|page| book.join(page))
        .collect()
}

/// The number of folded answers in the chapter's last section, when that section is
/// "Check your understanding".
fn questions_at_the_end(markdown: &str) -> Option<usize> {
    let (_, last_section) = markdown.rsplit_once("\n## ")?;
    last_section
        .starts_with("Check your understanding\n")
        .then(|| last_section.matches("<details>").count())
}

#[test]
fn every_chapter_ends_with_three_or_four_questions_to_check_understanding() {
    let chapters = chapters();
    assert!(
        chapters.len() >= 6,
        "only {} chapters found",
        chapters.len()
    );
    let wrong: Vec<String> = chapters
        .iter()
        .filter_map(|page| {
            let text = std::fs::read_to_string(page).expect("readable");
            let problem = match questions_at_the_end(&text) {
                Some(3..=4) => return None,
                Some(count) => format!("{count} questions"),
                None => "no \"Check your understanding\" section at the end".to_owned(),
            };
            Some(format!("{}: {problem}", page.display()))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "chapters without their questions: {wrong:#?}"
    );
}

#[test]
fn questions_count_only_in_a_last_section_of_that_name() {
    let folded = "<details><summary>Q</summary>A</details>";
    assert_eq!(
        questions_at_the_end(&format!(
            "# T\n\n## Check your understanding\n{folded}{folded}"
        )),
        Some(2)
    );
    assert_eq!(
        questions_at_the_end(&format!(
            "# T\n\n## Check your understanding\n{folded}\n## More\n"
        )),
        None
    );
}

/// Whether `word` names a test, and which: a snake_case identifier of four words or more,
/// alone or after a module path (`exercises::tokens_carry_the_username`). Every test of the
/// project is named so; the shorter identifiers the documents show are functions, tables and
/// directives (`get_raw_token`, `denied_access_tokens`, `proxy_next_upstream`), never tests.
fn test_name(word: &str) -> Option<&str> {
    let identifier = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !part.ends_with('_')
            && !part.contains("__")
    };
    let name = word.rsplit("::").next()?;
    (word.split("::").all(identifier) && name.split('_').count() >= 4).then_some(name)
}

/// The test names among the arguments of the `cargo test` command in `line`, if any.
fn cargo_test_filters(line: &str) -> Vec<String> {
    let Some((_, arguments)) = line.split_once("cargo test") else {
        return Vec::new();
    };
    arguments
        .split_whitespace()
        .take_while(|&argument| argument != "--")
        .filter_map(test_name)
        .map(str::to_owned)
        .collect()
}

/// The tests a Markdown document names: every inline code span that is a test name (see
/// [`test_name`]), and the test names a `cargo test` command filters on, in an inline span or
/// a code block. Code blocks are otherwise left out: the Rust they show defines functions
/// rather than naming tests.
fn named_tests(markdown: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut prose = String::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            names.extend(cargo_test_filters(line));
        } else {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    for span in prose.split('`').skip(1).step_by(2) {
        if span.contains("cargo test") {
            names.extend(cargo_test_filters(span));
        } else if let Some(name) = test_name(span.trim()) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The names of the functions `source` defines (`fn name(`).
fn functions_in(source: &str) -> impl Iterator<Item = &str> {
    source.split("fn ").skip(1).filter_map(|rest| {
        let (name, _) = rest.split_once('(')?;
        (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
    })
}

/// Every function defined in a Rust file under `crates/` and `frontend/` (build outputs and
/// hidden directories left out): tests, and the helpers some tests are generated from.
fn functions_defined() -> HashSet<String> {
    let root = workspace_root();
    let mut functions = HashSet::new();
    let mut dirs = vec![root.join("crates"), root.join("frontend")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a readable directory") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    dirs.push(path);
                }
            } else if name.ends_with(".rs") {
                let source = std::fs::read_to_string(&path).expect("a readable Rust file");
                functions.extend(functions_in(&source).map(str::to_owned));
            }
        }
    }
    functions
}

/// The tests `markdown` names that no function in `functions` is, each once.
fn tests_not_found(markdown: &str, functions: &HashSet<String>) -> Vec<String> {
    let mut missing_tests: Vec<String> = named_tests(markdown)
        .into_iter()
        .filter(|name| !functions.contains(name))
        .collect();
    missing_tests.dedup();
    missing_tests
}

#[test]
fn every_test_the_book_and_the_readme_name_exists() {
    let functions = functions_defined();
    let mut not_found = Vec::new();
    let mut checked = 0;
    for file in documents() {
        let text = std::fs::read_to_string(&file).expect("readable");
        checked += named_tests(&text).len();
        for name in tests_not_found(&text, &functions) {
            not_found.push(format!("{}: {name}", file.display()));
        }
    }
    println!("{checked} test names checked");
    assert!(checked >= 30, "only {checked} test names found");
    assert!(
        not_found.is_empty(),
        "named but no such test function: {not_found:#?}"
    );
}

#[test]
fn a_test_name_no_function_has_is_reported_and_a_real_one_is_not() {
    let functions = functions_defined();
    let markdown = "The tests `a_test_that_does_not_exist_anywhere` and \
                    `alg_none_is_refused_in_any_letter_case` show it.";

    assert_eq!(
        tests_not_found(markdown, &functions),
        ["a_test_that_does_not_exist_anywhere"]
    );
}

#[test]
fn test_names_are_four_words_or_more_in_backticks_or_a_cargo_test_command() {
    let markdown = "Not `get_raw_token`, `users.sessions_revoked_at`, `JWT_ACCESS_TOKEN_LIFETIME` \
                    nor a_bare_name_in_prose, but `a_crit_header_is_refused` and \
                    `TEST_LOG=1 cargo test -p server --test api the_whole_long_filter`.\n\n\
                    ```rust\nfn a_helper_shown_in_a_listing() {}\n```\n\n\
                    ```sh\ncargo test -p server --test api exercises::tokens_carry_the_username -- --ignored\n```\n";

    assert_eq!(
        named_tests(markdown),
        [
            "tokens_carry_the_username",
            "a_crit_header_is_refused",
            "the_whole_long_filter"
        ]
    );
}

/// The link targets of a list's items, in order: the items are the lines `item` accepts.
fn list_links<'a>(
    lines: impl Iterator<Item = &'a str>,
    item: impl Fn(&str) -> bool,
) -> Vec<String> {
    lines
        .filter(|line| item(line))
        .filter_map(|line| links(line).into_iter().next())
        .collect()
}

/// The pages the introduction's numbered list of chapters links to (the list after the line
/// "The chapters:"), in order.
fn introduction_chapters(introduction: &str) -> Vec<String> {
    let numbered = |line: &str| {
        line.split_once(". [").is_some_and(|(number, _)| {
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
        })
    };
    let list = introduction
        .lines()
        .skip_while(|line| line.trim() != "The chapters:")
        .skip(1)
        .take_while(|line| {
            line.trim().is_empty() || line.starts_with(char::is_whitespace) || numbered(line)
        });
    list_links(list, numbered)
}

/// The chapters `SUMMARY.md` lists (its `- [` items; the introduction is not one), in order.
fn summary_chapters(summary: &str) -> Vec<String> {
    list_links(summary.lines(), |line| line.starts_with("- ["))
}

/// How the introduction's list of chapters differs from the summary's, or `None` when both
/// link the same pages in the same order.
fn chapter_list_difference(introduction: &str, summary: &str) -> Option<String> {
    let (listed, summarized) = (
        introduction_chapters(introduction),
        summary_chapters(summary),
    );
    (listed != summarized)
        .then(|| format!("the introduction lists {listed:?}, SUMMARY.md {summarized:?}"))
}

#[test]
fn the_introductions_list_of_chapters_is_the_summarys() {
    let book = workspace_root().join("docs/src");
    let introduction = std::fs::read_to_string(book.join("introduction.md")).expect("readable");
    let summary = std::fs::read_to_string(book.join("SUMMARY.md")).expect("readable");

    assert!(summary_chapters(&summary).len() >= 6, "{summary}");
    assert_eq!(chapter_list_difference(&introduction, &summary), None);
}

/// A summary of two chapters, `a.md` and `b.md`.
const TWO_CHAPTERS: &str =
    "# Summary\n\n[Introduction](introduction.md)\n\n- [A](a.md)\n- [B](b.md)\n";

/// An introduction whose list of chapters is `list`.
fn introduction_listing(list: &str) -> String {
    format!("# Introduction\n\nThe chapters:\n\n{list}\nMore prose, with 1. [a link](c.md).\n")
}

#[test]
fn an_introduction_item_wrapped_over_two_lines_is_one_chapter() {
    let listed =
        introduction_listing("1. [A](a.md): one.\n2. [B](b.md): two, [see](c.md)\n   more.\n");

    assert_eq!(introduction_chapters(&listed), ["a.md", "b.md"]);
}

#[test]
fn a_chapter_missing_or_moved_in_the_introduction_is_a_difference() {
    assert_eq!(
        chapter_list_difference(
            &introduction_listing("1. [B](b.md): two.\n2. [A](a.md): one.\n"),
            TWO_CHAPTERS
        ),
        Some(r#"the introduction lists ["b.md", "a.md"], SUMMARY.md ["a.md", "b.md"]"#.to_owned())
    );
    assert_eq!(
        chapter_list_difference(&introduction_listing("1. [A](a.md): one.\n"), TWO_CHAPTERS),
        Some(r#"the introduction lists ["a.md"], SUMMARY.md ["a.md", "b.md"]"#.to_owned())
    );
}

/// The methods a figure may show a request with.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The text an SVG shows (its title, labels and notes), one element's text a line, with the
/// entities decoded.
fn svg_text(svg: &str) -> String {
    svg.split('<')
        .filter_map(|element| element.split_once('>').map(|(_, text)| text.trim()))
        .filter(|text| !text.is_empty())
        .map(|text| {
            text.replace("&quot;", "\"")
                .replace("&#x27;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The requests a sequence figure shows, `METHOD /path`, each once, in order of appearance:
/// a method name followed by a word that starts with `/` (the path, without any punctuation
/// that ends the phrase).
fn requests_shown(svg: &str) -> Vec<String> {
    let mut requests: Vec<String> = Vec::new();
    for line in svg_text(svg).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if METHODS.contains(&pair[0]) && pair[1].starts_with('/') {
                let path = pair[1].trim_end_matches([',', '.', ';', ':', ')']);
                let request = format!("{} {path}", pair[0]);
                if !requests.contains(&request) {
                    requests.push(request);
                }
            }
        }
    }
    requests
}

#[test]
fn requests_are_read_from_a_figures_text_with_its_entities_decoded() {
    let svg = r#"<svg><title id="title">Log in: POST /api/token/</title>
        <text x="1" y="2">POST /api/token/ {&quot;username&quot;,&quot;password&quot;}</text>
        <text>GET /hello/ with A2, or refresh with R2</text>
        <text>then GET /.well-known/jwks.json.</text>
        <text>the GET of a page, POST it</text></svg>"#;

    assert_eq!(
        requests_shown(svg),
        [
            "POST /api/token/",
            "GET /hello/",
            "GET /.well-known/jwks.json"
        ]
    );
}

/// The password of the users [`RouteProbe`] makes.
const PROBE_PASSWORD: &str = "correct-horse-battery";

/// Asks the services themselves which requests they serve. The auth server is built
/// in-process by the same `Application::build` that `server serve` runs, so its routes are the
/// real route table, middleware included, and cannot drift from a copy; the notes service is
/// the `notes` binary, trusting the auth server's published keys. Paths under `/notes/` go to
/// the notes service (as nginx sends them), the rest to the auth server.
///
/// A request is served when its answer is neither a 404 (no such path), a 405 (not with this
/// method) nor a redirect (another path is the route). Each request carries a valid access
/// token of a user made for it alone, so a protected path answers a wrong method with its
/// 405 rather than a 401, whatever an earlier request revoked; POSTs carry `{}`.
struct RouteProbe {
    server: String,
    handle: actix_web::dev::ServerHandle,
    notes: crate::harness::NotesProcess,
    client: reqwest::Client,
    users: AtomicUsize,
    _dir: tempfile::TempDir,
}

impl RouteProbe {
    /// Starts both services: the auth server signing with ES256 on a fresh SQLite database,
    /// without a built frontend (whose pages would answer any path).
    async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys)?;
        let vars: HashMap<&str, String> = HashMap::from([
            (
                "DATABASE_URL",
                dir.path().join("db.sqlite3").display().to_string(),
            ),
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("JWT_ALGORITHM", "ES256".to_owned()),
            ("JWT_KEYS_DIR", keys.display().to_string()),
            ("BCRYPT_COST", "4".to_owned()),
            (
                "FRONTEND_DIR",
                dir.path().join("no-frontend").display().to_string(),
            ),
        ]);
        let settings =
            server::configuration::Settings::from_lookup(|name| vars.get(name).cloned())?;
        let application = server::startup::Application::build(settings)?;
        let server = format!("http://127.0.0.1:{}", application.port());
        let handle = application.handle();
        actix_web::rt::spawn(application.run_until_stopped());
        let jwks = format!("{server}/.well-known/jwks.json");
        let notes = crate::harness::start_twice("the notes service", || {
            crate::harness::NotesProcess::start(&jwks)
        })?;
        Ok(Self {
            server,
            handle,
            notes,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            users: AtomicUsize::new(0),
            _dir: dir,
        })
    }

    /// An access token of a new user.
    async fn fresh_access_token(&self) -> Result<String> {
        let number = self.users.fetch_add(1, Ordering::Relaxed);
        let username = format!("figure{number}");
        crate::harness::new_user_access_token(&self.server, &username, PROBE_PASSWORD).await
    }

    /// Whether a service serves `request` (`METHOD /path`). An answer of 500 or more says
    /// nothing of the route (a 503 while the notes service has no keys yet is waited out).
    async fn serves(&self, request: &str) -> Result<bool> {
        let (method, path) = request.split_once(' ').context("METHOD /path")?;
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let base = if path.starts_with("/notes/") {
            &self.notes.base
        } else {
            &self.server
        };
        let token = self.fresh_access_token().await?;
        let status = crate::harness::wait_until(
            &format!("an answer to {request} other than 503"),
            Duration::from_secs(20),
            || {
                let mut asked = self
                    .client
                    .request(method.clone(), format!("{base}{path}"))
                    .bearer_auth(&token);
                if method == reqwest::Method::POST {
                    asked = asked.json(&serde_json::json!({}));
                }
                async move {
                    let status = asked.send().await.map_err(|e| e.to_string())?.status();
                    match status {
                        reqwest::StatusCode::SERVICE_UNAVAILABLE => Err(status.to_string()),
                        _ => Ok(status),
                    }
                }
            },
        )
        .await?;
        ensure!(
            !status.is_server_error(),
            "{request} answered {status}, which says nothing of its route"
        );
        Ok(!matches!(status.as_u16(), 404 | 405) && !status.is_redirection())
    }

    /// Those of `requests` that no service serves.
    async fn unserved(&self, requests: &[String]) -> Result<Vec<String>> {
        let mut unserved = Vec::new();
        for request in requests {
            if !self.serves(request).await? {
                unserved.push(request.clone());
            }
        }
        Ok(unserved)
    }
}

impl Drop for RouteProbe {
    fn drop(&mut self) {
        // Sends the stop command now; the server's threads wind down on their own.
        drop(self.handle.stop(false));
    }
}

/// The sequence figures of the book, by file name.
fn sequence_figures() -> Vec<(String, String)> {
    let images = workspace_root().join("docs/src/images");
    let mut figures: Vec<(String, String)> = std::fs::read_dir(&images)
        .expect("docs/src/images")
        .map(|entry| entry.expect("a directory entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_owned();
            (name.starts_with("sequence-") && name.ends_with(".svg"))
                .then(|| (name, std::fs::read_to_string(&path).expect("readable")))
        })
        .collect();
    figures.sort();
    figures
}

#[actix_web::test]
async fn every_request_a_sequence_figure_shows_is_one_the_services_serve() {
    let _turn = exclusive().await;
    let figures = sequence_figures();
    assert!(
        figures.len() >= 6,
        "only {} sequence figures",
        figures.len()
    );
    let probe = RouteProbe::start().await.expect("the services start");
    let mut checked = 0;
    let mut unserved = Vec::new();
    for (name, svg) in &figures {
        let requests = requests_shown(svg);
        checked += requests.len();
        for request in probe.unserved(&requests).await.expect("answers") {
            unserved.push(format!("{name}: {request}"));
        }
    }
    println!("{checked} requests checked");
    assert!(checked >= 8, "only {checked} requests found in the figures");
    assert!(unserved.is_empty(), "shown but not served: {unserved:#?}");
}

#[actix_web::test]
async fn a_figure_showing_a_path_or_method_no_service_serves_fails_the_check() {
    let _turn = exclusive().await;
    let svg = "<svg><text>POST /api/token/ then POST /api/tokens/</text>\
               <text>GET /api/token/refresh/, GET /hello/ and POST /hello/</text>\
               <text>POST /notes/api/notes/ then POST /notes/api/note/</text>\
               <text>DELETE /notes/api/notes/</text></svg>";
    let probe = RouteProbe::start().await.expect("the services start");

    let unserved = probe.unserved(&requests_shown(svg)).await.expect("answers");

    assert_eq!(
        unserved,
        [
            "POST /api/tokens/",
            "GET /api/token/refresh/",
            "POST /hello/",
            "POST /notes/api/note/",
            "DELETE /notes/api/notes/"
        ]
    );
}
